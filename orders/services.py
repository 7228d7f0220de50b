"""
Order writes: checkout and the order's lifecycle. Each is one transaction that
also records its audit entry and its outbox event.

    pending -> paid -> fulfilled;  pending|paid -> cancelled;  paid|fulfilled -> refunded

An unpaid (pending) order holds its stock until `expires_at`, then
`order_expire` cancels it and gives the stock back (`order.expired`). The plan's
orders a month count paid orders: at checkout when the card pays, else when the
order is marked paid; a later refund or cancellation does not give the slot back.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from billing.limits import Metric
from billing.selectors import usage_allows
from billing.services import usage_record, usage_take
from catalog.models import InventoryAdjustment
from catalog.services import stock_release, stock_reserve
from orders.carts import cart_checkout_take
from orders.discounts import discount_uses_record
from orders.errors import IllegalTransition, PaymentMethodDisabled, RefundTooLarge, ShippingAddressRequired
from orders.models import Customer, Order, OrderLine, Payment, PaymentSettings
from orders.payments import ManualProvider, PaymentProvider, payment_settings, provider_for
from orders.quoting import checkout_quote, line_pricing, order_pricing
from tenants.audit.services import Actor, AuditChange, audit_record, audit_records
from tenants.conventions.money import Money
from tenants.inserts import rows_insert
from tenants.outbox.services import events_record
from tenants.schemas import current_schema

S = Order.Status
TRANSITIONS: dict[str, set[str]] = {
    S.PENDING: {S.PAID, S.CANCELLED},
    S.PAID: {S.FULFILLED, S.CANCELLED, S.REFUNDED},
    S.FULFILLED: {S.REFUNDED},
    S.REFUNDED: {S.REFUNDED},  # further partial refunds, up to what was paid
    S.CANCELLED: set(),
}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def order_token(*, cart_id: str) -> str:
    """
    The secret that shows the shopper the order placed from this cart (one cart
    makes one order), derived from the cart id and the server's SECRET_KEY.

    Why re-issuing it on a replay is safe: only its hash is stored, and the cart
    id only as a hash too, so neither a database dump nor the stored replay can
    yield it; it is computed again only while serving a request that carries the
    cart id, and the replay does so only for a request in that cart's key scope
    with the same body as the one that placed the order (the same shopper
    retrying). A caller with another cart, or the cart but another body or key,
    gets its own order or a 409 without the token. Rotating SECRET_KEY leaves
    issued tokens valid (their hashes are stored); only a replay within the
    24 h window after a rotation would answer a token that no longer opens the
    order.
    """
    digest = salted_hmac("orders.order_token", f"{current_schema()}\n{cart_id}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def order_snapshot(order: Order) -> dict[str, Any]:
    return {
        "number": order.number,
        "status": order.status,
        "total": str(order.total),
        "refunded_amount": str(order.refunded_amount),
        "email": order.email,
    }


def _order_event(order: Order, event_type: str, **extra: Any) -> tuple[str, dict[str, Any]]:
    """The outbox event (type, payload) that reports this order's change."""
    return (
        event_type,
        {
            "order_id": order.pk,
            "number": order.number,
            "status": order.status,
            "email": order.email,
            "total": {"amount": str(Money(order.total, order.currency).amount), "currency": order.currency},
            **order_breakdown(order),
            **extra,
        },
    )


def order_breakdown(order: Order) -> dict[str, Any]:
    """The order's price breakdown as its representations and events carry it (orders.pricing)."""
    currency = order.currency

    def money(amount: Decimal) -> dict[str, str]:
        return Money(amount, currency).as_json()

    return {
        "totals": {
            "subtotal": money(order.subtotal),
            "shipping": money(order.shipping),
            "discount": money(order.discount),
            "tax": money(order.tax),
            "total": money(order.total),
        },
        "prices_include_tax": order.prices_include_tax,
        "tax_lines": order.tax_lines,
        "discounts": order.discounts,
        "shipping_method": order.shipping_method,
    }


@dataclass(frozen=True)
class ShippingAddress:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""
    region: str = ""


def order_place(
    *,
    cart_id: str,
    email: str,
    shipping_address: ShippingAddress | None,
    payment_method: dict[str, Any],
    currency: str,
    shipping_method: int | None = None,
) -> tuple[Order, str]:
    """
    Check out a cart: take it (one cart makes one order: a second checkout of it
    is refused with CartCheckedOut), reserve the stock, snapshot current prices
    into an order priced by orders.pricing (shipping, discounts, tax: the address
    and method come from the cart unless given), take the payment. Any refusal (sold out, declined card) rolls
    everything back, the cart included. Return the order and its secret token.
    """
    email = email.strip().lower()
    shopper = Actor(type="customer", id=None, label=email)
    provider = provider_for(payment_method["provider"])
    unpaid_lifetime = _unpaid_lifetime(provider)  # refuses a provider the shop has not enabled
    # The writes go through rows_insert(): the ORM's create() cost more CPU than the statements.
    # No savepoint when nested (checkout runs inside the idempotency transaction):
    # a refusal propagates and rolls the whole of it back anyway.
    with transaction.atomic(savepoint=False):
        # First, before any charge: a racing checkout of the same cart waits here, then is refused.
        cart, items, choices = cart_checkout_take(cart_id)
        token = order_token(cart_id=cart_id)
        reserved = stock_reserve(items=items, actor=shopper, note="checkout")
        if provider.pays_at_checkout:
            # The plan's orders a month: 402 before any charge; the count rolls back with a refusal.
            usage_take(metric=Metric.ORDERS)
        else:
            # Counted once paid (order_mark_paid), so unpaid orders cannot use up the month;
            # a shop already at its limit takes none.
            usage_allows(metric=Metric.ORDERS)
        # Re-priced from current settings, discounts counted (race-safe); see orders.quoting.
        address = shipping_address.__dict__ if shipping_address else choices.shipping_address
        if address is None:
            raise ShippingAddressRequired(
                "Give a shipping address.", errors={"shipping_address": ["Required: the cart has none."]}
            )
        method = shipping_method if shipping_method is not None else choices.shipping_method_id
        quote = checkout_quote(
            reserved=reserved,
            choices=choices,
            shipping_address=address,
            shipping_method_id=method,
            currency=currency,
            email=email,
        )
        total = quote.total
        # Charge before writing the order, so a paid order is written once as paid;
        # a refusal raises here and the reservation above rolls back with it.
        charge = provider.charge(amount=Money(total, currency), details=payment_method)
        now = timezone.now()
        (order,) = rows_insert(
            [
                Order(
                    customer=_customer_upsert(email=email, name=address["name"], now=now),
                    email=email,
                    currency=currency,
                    **order_pricing(quote),
                    status=S.PAID if charge.paid else S.PENDING,
                    paid_at=now if charge.paid else None,
                    expires_at=None if charge.paid else now + unpaid_lifetime,
                    shipping_address={"line2": "", "region": "", **address},
                    payment_provider=provider.code,
                    cart_hash=cart,
                    token_hash=token_hash(token),
                )
            ]
        )
        order_lines = rows_insert(
            [
                OrderLine(
                    order=order,
                    variant_id=line.variant_id,
                    product_id=line.product_id,
                    sku=line.sku,
                    title=line.title,
                    variant_title=line.variant_title,
                    unit_price=line.unit_price,
                    quantity=line.quantity,
                    line_total=line.unit_price * line.quantity,
                    **line_pricing(quote, line.variant_id),
                )
                for line in reserved
            ]
        )
        discount_uses_record(order=order, quote=quote, email=email)
        payments = []
        if charge.paid:
            payments = rows_insert(
                [
                    Payment(
                        order=order,
                        kind=Payment.Kind.CHARGE,
                        provider=provider.code,
                        amount=total,
                        reference=charge.reference,
                    )
                ]
            )
        changes = [AuditChange("order.created", "order", order.pk, after=order_snapshot(order))]
        events = [_order_event(order, "order.created", **_expiry_extra(order))]
        if charge.paid:
            reference = {"reference": charge.reference, "provider": provider.code}
            changes.append(AuditChange("order.paid", "order", order.pk, after=reference))
            events.append(_order_event(order, "order.paid"))
        audit_records(actor=shopper, changes=changes)
        events_record(events=events)
    # The caller answers with the order: hand it over with its lines and payments loaded.
    order._prefetched_objects_cache = {"lines": order_lines, "payments": payments}  # type: ignore[attr-defined]
    return order, token


def _unpaid_lifetime(provider: PaymentProvider) -> dt.timedelta:
    """
    How long an order left unpaid by `provider` holds its stock: the shop's manual
    expiry (refused while manual payment is off), or the card authorisation's.
    """
    if provider.code != ManualProvider.code:
        return dt.timedelta(minutes=settings.ORDER_AUTHORIZATION_EXPIRY_MINUTES)
    shop_settings = payment_settings()
    if not shop_settings.manual_enabled:
        raise PaymentMethodDisabled(
            "This shop does not accept manual payment (bank transfer); pay by card.",
            errors={"payment_method.provider": ["Manual payment is turned off in this shop."]},
        )
    return dt.timedelta(hours=shop_settings.manual_expiry_hours)


EXPIRY_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def expiry_text(moment: dt.datetime) -> str:
    """`expires_at` as events carry it: UTC, fixed width, so text order is time order (orders.expiry)."""
    return moment.astimezone(dt.UTC).strftime(EXPIRY_FORMAT)


def _expiry_extra(order: Order) -> dict[str, str]:
    return {"expires_at": expiry_text(order.expires_at)} if order.expires_at is not None else {}


def _customer_upsert(*, email: str, name: str, now: Any) -> Customer:
    """Create the customer or count one more order for them, in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO orders_customer
                   (email, name, orders_count, first_order_at, last_order_at, created_at)
               VALUES (%s, %s, 1, %s, %s, %s)
               ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name,
                   orders_count = orders_customer.orders_count + 1, last_order_at = EXCLUDED.last_order_at
               RETURNING id""",
            [email, name, now, now, now],
        )
        (customer_id,) = cursor.fetchone()
    return Customer(pk=customer_id, email=email, name=name)


def _status_set(order: Order, status: str, *, actor: Actor, **event_extra: Any) -> None:
    if status not in TRANSITIONS[order.status]:
        raise IllegalTransition(f"An order that is {order.status} cannot become {status}.")
    before = order_snapshot(order)
    order.status = status
    stamp: dict[str, str] = {
        S.PAID: "paid_at",
        S.FULFILLED: "fulfilled_at",
        S.CANCELLED: "cancelled_at",
        S.REFUNDED: "refunded_at",
    }
    fields = ["status", "updated_at"]
    if status in stamp:
        setattr(order, stamp[status], timezone.now())
        fields.append(stamp[status])
    order.save(update_fields=fields + (["refunded_amount"] if status == S.REFUNDED else []))
    audit_record(
        actor=actor,
        action=f"order.{status}",
        object_type="order",
        object_id=order.pk,
        before=before,
        after=order_snapshot(order),
    )
    events_record(events=[_order_event(order, f"order.{status}", **event_extra)])


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def order_mark_paid(*, actor: Actor, order: Order, reference: str = "") -> Order:
    """The merchant received the money for a pending (manual) order."""
    with transaction.atomic():
        order = _locked(order)
        if order.status != S.PENDING:
            raise IllegalTransition(f"Only pending orders can be marked paid; this one is {order.status}.")
        Payment.objects.create(
            order=order,
            kind=Payment.Kind.CHARGE,
            provider=order.payment_provider,
            amount=order.total,
            reference=reference or "marked paid",
        )
        # Accepted within the month's limit at checkout, counted now that it is paid (even past the
        # limit: the money has arrived).
        usage_record(metric=Metric.ORDERS)
        _status_set(order, S.PAID, actor=actor)
    return order


def order_fulfill(*, actor: Actor, order: Order) -> Order:
    with transaction.atomic():
        order = _locked(order)
        _status_set(order, S.FULFILLED, actor=actor)
    return order


def order_cancel(*, actor: Actor, order: Order, reason: str = "") -> Order:
    """Cancel a pending or paid order: its stock goes back, and a paid order's money is refunded in full."""
    with transaction.atomic():
        order = _locked(order)
        if S.CANCELLED not in TRANSITIONS[order.status]:
            raise IllegalTransition(f"An order that is {order.status} cannot be cancelled.")
        stock_release(
            items={line.variant_id: line.quantity for line in order.lines.all() if line.variant_id},
            actor=actor,
            reason=InventoryAdjustment.Reason.RESTOCKED,
            note=f"order {order.number} cancelled",
        )
        if order.status == S.PAID:
            _refund_money(order, order.total - order.refunded_amount, reason=reason or "order cancelled")
            order.save(update_fields=["refunded_amount"])
        _status_set(order, S.CANCELLED, actor=actor, reason=reason)
    return order


def order_expire(*, order_id: int, now: dt.datetime | None = None) -> Order | None:
    """
    Cancel an unpaid order whose time is up and give its stock back, with an
    `order.expired` event. The order is re-read under its row lock, so one marked
    paid meanwhile (which holds that lock) is left alone; return None then.
    """
    now = now or timezone.now()
    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .filter(pk=order_id, status=S.PENDING, expires_at__lte=now)
            .prefetch_related("lines")
            .first()
        )
        if order is None:
            return None
        system = Actor.system("order expiry")
        stock_release(
            items={line.variant_id: line.quantity for line in order.lines.all() if line.variant_id},
            actor=system,
            reason=InventoryAdjustment.Reason.RESTOCKED,
            note=f"order {order.number} expired unpaid",
        )
        before = order_snapshot(order)
        order.status = S.CANCELLED
        order.cancelled_at = now
        order.save(update_fields=["status", "cancelled_at", "updated_at"])
        audit_record(
            actor=system,
            action="order.expired",
            object_type="order",
            object_id=order.pk,
            before=before,
            after=order_snapshot(order),
        )
        events_record(
            events=[_order_event(order, "order.expired", expires_at=expiry_text(order.expires_at or now))]
        )
    return order


def orders_expire_due(*, now: dt.datetime | None = None, batch: int = 200) -> int:
    """
    Expire the shop's unpaid orders due by `now`, soonest first, each in its own
    short transaction (so no lock is held across the batch); return how many.
    """
    now = now or timezone.now()
    expired = 0
    while True:
        due = list(
            Order.objects.filter(status=S.PENDING, expires_at__lte=now)
            .order_by("expires_at", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        done = sum(1 for order_id in due if order_expire(order_id=order_id, now=now) is not None)
        expired += done
        if len(due) < batch or done == 0:
            return expired


def payment_settings_update(
    *, actor: Actor, manual_enabled: bool | None = None, manual_expiry_hours: int | None = None
) -> PaymentSettings:
    """
    Turn manual payment on or off and set how long its unpaid orders hold stock.
    A new expiry applies to orders placed from now on; placed ones keep theirs.
    """
    with transaction.atomic():
        current, _ = PaymentSettings.objects.select_for_update().get_or_create(
            pk=PaymentSettings.SINGLETON_ID
        )
        before = {
            "manual_enabled": current.manual_enabled,
            "manual_expiry_hours": current.manual_expiry_hours,
        }
        if manual_enabled is not None:
            current.manual_enabled = manual_enabled
        if manual_expiry_hours is not None:
            current.manual_expiry_hours = manual_expiry_hours
        after = {"manual_enabled": current.manual_enabled, "manual_expiry_hours": current.manual_expiry_hours}
        if after != before:
            current.save(update_fields=["manual_enabled", "manual_expiry_hours", "updated_at"])
            audit_record(
                actor=actor,
                action="payment_settings.updated",
                object_type="payment_settings",
                object_id=current.pk,
                before=before,
                after=after,
            )
    return current


def order_refund(*, actor: Actor, order: Order, amount: Decimal, reason: str = "") -> Order:
    """Refund part or all of what was paid, through the order's payment provider."""
    with transaction.atomic():
        order = _locked(order)
        if S.REFUNDED not in TRANSITIONS[order.status]:
            raise IllegalTransition(f"An order that is {order.status} cannot be refunded.")
        refundable = order.total - order.refunded_amount
        if amount <= 0 or amount > refundable:
            raise RefundTooLarge(
                f"At most {Money(refundable, order.currency).amount} {order.currency} can be refunded.",
                errors={"amount": [f"Between 0 and {Money(refundable, order.currency).amount}."]},
            )
        _refund_money(order, amount, reason=reason)
        _status_set(
            order,
            S.REFUNDED,
            actor=actor,
            refund={
                "amount": str(Money(amount, order.currency).amount),
                "currency": order.currency,
                "reason": reason,
            },
        )
    return order


def _refund_money(order: Order, amount: Decimal, *, reason: str) -> None:
    charge = order.payments.filter(kind=Payment.Kind.CHARGE).order_by("id").first()
    reference = provider_for(order.payment_provider).refund(
        amount=Money(amount, order.currency), charge_reference=charge.reference if charge else ""
    )
    Payment.objects.create(
        order=order,
        kind=Payment.Kind.REFUND,
        provider=order.payment_provider,
        amount=amount,
        reference=reference,
        reason=reason,
    )
    order.refunded_amount += amount
