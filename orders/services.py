"""
Order writes: the checkout pipeline and the order's lifecycle. Each write is one
short transaction that also records its audit entry, its outbox event and its
timeline entry; a payment provider is only ever called between transactions,
never while rows are locked (Saleor's `complete_checkout` does the same).

The checkout takes three steps: `order_place` (one transaction: cart, stock,
price, a pending order and its pending charge), `order_payment_request` (the
provider, asked with the order's key and no transaction open) and
`order_payment_settle` (one transaction: paid, awaiting the shopper's action,
or failed, its stock and cart given back). A checkout that dies between them
leaves a pending charge: `payments_recover_due` (the expiry sweep, every
minute) asks the provider about it after PAYMENT_RECOVERY_AFTER_SECONDS and
finishes or releases it.

    status:          pending -> paid -> fulfilled -> refunded (all paid back)
                     pending|paid -> cancelled
    payment_status:  pending -> authorized|paid -> partially_refunded -> refunded
                     pending -> failed | expired
    fulfillment_status: unfulfilled -> partially_fulfilled -> fulfilled (orders.fulfilment)

A card is captured at checkout, or only authorized when the shop captures by
hand (PaymentSettings.card_capture): the merchant then captures or voids it
(orders.authorizations).

An unpaid (pending) order holds its stock until `expires_at`, then
`order_expire` cancels it and gives the stock back (`order.expired`); a card
payment still awaiting its provider or the shopper is asked about first, and
finished if the money was taken. The plan's orders a month count paid orders:
taken at checkout for a card (given back if the payment fails or expires), else
counted when the order is marked paid; a later refund or cancellation does not
give the slot back.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.crypto import salted_hmac

from billing.limits import Metric
from billing.selectors import usage_allows
from billing.services import usage_record, usage_release, usage_take
from catalog.inventory import stock_release, stock_reserve
from catalog.models import InventoryAdjustment
from orders.carts import cart_checkout_take, cart_give_back
from orders.discounts import discount_uses_record, discount_uses_release
from orders.errors import (
    IllegalTransition,
    PaymentMethodDisabled,
    PaymentNotAwaitingAction,
    PaymentNotFound,
    PaymentProviderUnavailable,
    RefundLineInvalid,
    RefundTooLarge,
    ShippingAddressRequired,
)
from orders.models import Customer, Order, OrderEvent, OrderLine, Payment, PaymentSettings, RefundLine
from orders.payments import (
    ManualProvider,
    PaymentProvider,
    ProviderAnswer,
    ProviderUnavailable,
    payment_key,
    payment_settings,
    provider_for,
)
from orders.quoting import checkout_quote, line_pricing, order_pricing
from tenants.audit.services import Actor, AuditChange, audit_record, audit_records
from tenants.errors import DomainError
from tenants.inserts import rows_insert
from tenants.money import Money
from tenants.outbox.events import EventType
from tenants.outbox.services import events_record
from tenants.schemas import current_schema

logger = logging.getLogger(__name__)

S = Order.Status
P = Order.PaymentStatus
FS = Order.FulfillmentStatus
PS = Payment.Status
TRANSITIONS: dict[str, set[str]] = {
    S.PENDING: {S.PAID, S.CANCELLED},
    S.PAID: {S.FULFILLED, S.CANCELLED, S.REFUNDED},
    S.FULFILLED: {S.REFUNDED},
    S.REFUNDED: set(),  # everything paid was paid back
    S.CANCELLED: set(),
}
# Refunds are taken from orders whose money arrived and is not all paid back yet.
REFUNDABLE = {P.PAID, P.PARTIALLY_REFUNDED}
# A charge whose outcome the provider still has to tell (or the shopper to confirm).
CHARGE_OPEN = (PS.PENDING, PS.REQUIRES_ACTION, PS.AUTHORIZED)


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
        "payment_status": order.payment_status,
        "fulfillment_status": order.fulfillment_status,
        "total": str(order.total),
        "refunded_amount": str(order.refunded_amount),
        "email": order.email,
    }


def _order_event(order: Order, event_type: EventType, **extra: Any) -> tuple[str, dict[str, Any]]:
    """The outbox event (type, payload) that reports this order's change."""
    return (
        event_type,
        {
            "order_id": order.pk,
            "number": order.number,
            "status": order.status,
            "payment_status": order.payment_status,
            "fulfillment_status": order.fulfillment_status,
            "email": order.email,
            "refunded_amount": {
                "amount": str(Money(order.refunded_amount, order.currency).amount),
                "currency": order.currency,
            },
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


@dataclass(frozen=True)
class PlacedOrder:
    """What the checkout's first step wrote: the order, its secret token, its charge awaiting the provider."""

    order: Order
    token: str
    charge: Payment | None  # None when the provider does not pay at checkout (manual)


def order_place(
    *,
    cart_id: str,
    email: str,
    shipping_address: ShippingAddress | None,
    payment_method: dict[str, Any],
    currency: str,
    shipping_method: int | None = None,
    account: Customer | None = None,
) -> PlacedOrder:
    """
    The checkout's first step, one short transaction (the caller's, when nested):
    take the cart (one cart makes one order: a second checkout of it is refused
    with CartCheckedOut), reserve the stock, price it (orders.pricing: shipping,
    discounts counted race-safe, tax; the address and method come from the cart
    unless given), and write the pending order
    with its payment intent (a `pending` charge whose idempotency key is the
    order's). Any refusal (sold out, over the plan) rolls everything back, the
    cart included. The provider is asked afterwards, with no lock held
    (`order_payment_request`), and its answer recorded by `order_payment_settle`.
    With `account` (the customer signed in), the order is theirs, whatever
    e-mail it is sent to; otherwise it goes to the customer of its e-mail.
    """
    email = email.strip().lower()
    shopper = Actor(type="customer", id=account.pk if account else None, label=email)
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
            # The plan's orders a month: 402 before the provider is asked; given back if the payment fails.
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
        now = timezone.now()
        (order,) = rows_insert(
            [
                Order(
                    customer=(
                        _account_order_count(account, now=now)
                        if account is not None
                        else _customer_upsert(email=email, name=address["name"], now=now)
                    ),
                    placed_signed_in=account is not None,
                    email=email,
                    currency=currency,
                    **order_pricing(quote),
                    status=S.PENDING,
                    payment_status=P.PENDING,
                    expires_at=now + unpaid_lifetime,
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
        charges = []
        if provider.pays_at_checkout:
            charges = rows_insert(
                [
                    Payment(
                        order=order,
                        kind=Payment.Kind.CHARGE,
                        status=Payment.Status.PENDING,
                        provider=provider.code,
                        amount=total,
                        idempotency_key=payment_key(order.pk),
                    )
                ]
            )
        rows_insert([_timeline_entry(order, OrderEvent.Type.PLACED, shopper, f"Placed by {email}.")])
        audit_records(
            actor=shopper,
            changes=[AuditChange("order.created", "order", order.pk, after=order_snapshot(order))],
        )
        events_record(events=[_order_event(order, EventType.ORDER_CREATED, **_expiry_extra(order))])
    # The caller answers with the order: hand it over with its lines and payments loaded.
    order._prefetched_objects_cache = {"lines": order_lines, "payments": charges, "fulfillments": []}  # type: ignore[attr-defined]
    return PlacedOrder(order=order, token=token, charge=charges[0] if charges else None)


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


def _account_order_count(account: Customer, *, now: Any) -> Customer:
    """Count one more order for a signed-in customer."""
    Customer.objects.filter(pk=account.pk).update(
        orders_count=F("orders_count") + 1,
        first_order_at=Coalesce(F("first_order_at"), Value(now)),
        last_order_at=now,
    )
    return account


def _customer_upsert(*, email: str, name: str, now: Any) -> Customer:
    """Create the customer or count one more order for them, in one statement."""
    # An account holder's name is theirs to change; a guest's follows their latest order.
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO orders_customer
                   (email, name, orders_count, first_order_at, last_order_at, created_at, password)
               VALUES (%s, %s, 1, %s, %s, %s, '')
               ON CONFLICT (email) DO UPDATE SET
                   name = CASE WHEN orders_customer.password = '' THEN EXCLUDED.name
                               ELSE orders_customer.name END,
                   orders_count = orders_customer.orders_count + 1, last_order_at = EXCLUDED.last_order_at
               RETURNING id""",
            [email, name, now, now, now],
        )
        (customer_id,) = cursor.fetchone()
    return Customer(pk=customer_id, email=email, name=name)


def _timeline_entry(order: Order, type: str, actor: Actor, message: str, **data: Any) -> OrderEvent:
    """An unsaved timeline entry of the order (written with rows_insert, or by `_timeline`)."""
    return OrderEvent(order=order, type=type, actor=actor.label[:255], message=message, data=data)


def _timeline(order: Order, type: str, actor: Actor, message: str, **data: Any) -> None:
    rows_insert([_timeline_entry(order, type, actor, message, **data)])


def _money_text(order: Order, amount: Decimal) -> str:
    return f"{Money(amount, order.currency).amount} {order.currency}"


# The event that reports an order's move to each status.
STATUS_EVENTS: dict[str, EventType] = {
    S.PAID: EventType.ORDER_PAID,
    S.FULFILLED: EventType.ORDER_FULFILLED,
    S.CANCELLED: EventType.ORDER_CANCELLED,
    S.REFUNDED: EventType.ORDER_REFUNDED,
}


def _status_set(
    order: Order,
    status: str,
    *,
    actor: Actor,
    fields: Sequence[str] = (),
    event: EventType | None = None,
    **event_extra: Any,
) -> None:
    """Move the order to `status`, saving it with `fields`, with its audit entry and outbox event."""
    if status != order.status and status not in TRANSITIONS[order.status]:
        raise IllegalTransition(f"An order that is {order.status} cannot become {status}.")
    before = order_snapshot(order)
    order.status = status
    stamp: dict[str, str] = {
        S.PAID: "paid_at",
        S.FULFILLED: "fulfilled_at",
        S.CANCELLED: "cancelled_at",
        S.REFUNDED: "refunded_at",
    }
    saved = ["status", "updated_at", *fields]
    if status in stamp and getattr(order, stamp[status]) is None:
        setattr(order, stamp[status], timezone.now())
        saved.append(stamp[status])
    order.save(update_fields=list(dict.fromkeys(saved)))
    action = event or STATUS_EVENTS[status]
    audit_record(
        actor=actor,
        action=action,
        object_type="order",
        object_id=order.pk,
        before=before,
        after=order_snapshot(order),
    )
    events_record(events=[_order_event(order, action, **event_extra)])


def _locked(order: Order | int) -> Order:
    return Order.objects.select_for_update().get(pk=order if isinstance(order, int) else order.pk)


def _open_charge(order: Order) -> Payment | None:
    """The order's charge still waiting for its provider or its shopper, if any."""
    return order.payments.filter(kind=Payment.Kind.CHARGE, status__in=CHARGE_OPEN).order_by("-id").first()


# --- The checkout's second and third steps, and what finishes them later ---------------------


def _outside_transactions() -> None:
    """Refuse to call a provider inside a transaction (a test case's own wrapping one aside)."""
    if any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
        raise RuntimeError("A payment provider is never called inside a transaction.")


def order_payment_request(*, placed: PlacedOrder, payment_method: dict[str, Any]) -> ProviderAnswer | None:
    """
    The checkout's second step: ask the provider for the money, under the order's
    key, with no transaction open (so no row of the shop is locked while the
    provider takes its time). None when it did not answer: the charge stays
    pending and the recovery sweep asks again.
    """
    _outside_transactions()
    charge = placed.charge
    if charge is None:
        return None
    provider = provider_for(charge.provider)
    # A shop that captures by hand only has the card authorized (orders.authorizations).
    capture = payment_settings().card_capture == PaymentSettings.CardCapture.AUTOMATIC
    try:
        return provider.authorize(
            key=charge.idempotency_key,
            amount=Money(charge.amount, placed.order.currency),
            details=payment_method,
            capture=capture,
        )
    except ProviderUnavailable:
        logger.warning("Provider %s did not answer for order %s", provider.code, placed.order.number)
        return None


def order_payment_settle(
    *, order_id: int, answer: ProviderAnswer | None, actor: Actor, placed: PlacedOrder | None = None
) -> Order:
    """
    The checkout's third step (and that of a confirmation, a provider webhook or
    the recovery sweep), one short transaction: record what the provider said of
    the order's open charge. Taken: the order is paid. Awaiting the shopper: it
    stays pending with the provider's `action_url`. Refused or voided: the order
    is cancelled with payment_status `failed`, its stock, its slot of the plan's
    orders and its cart go back. No answer, or a charge already settled (a
    webhook and the shopper's return race): nothing changes. Given the checkout's
    `placed` order, bring it (and its charge) up to date and return it, so the
    checkout answers without reading the order again.
    """
    if answer is None:
        return placed.order if placed is not None else Order.objects.get(pk=order_id)
    if placed is not None and answer.status == PS.SUCCEEDED and _checkout_paid(placed, answer, actor=actor):
        return placed.order
    with transaction.atomic(savepoint=False):
        order = _locked(order_id)
        charge = _open_charge(order)
        if charge is None or order.status != S.PENDING:
            return order
        _charge_settle(order, charge, answer, actor=actor)
    if placed is not None:
        for name in ("status", "payment_status", "paid_at", "expires_at", "cancelled_at", "cart_hash"):
            setattr(placed.order, name, getattr(order, name))
        if placed.charge is not None:
            for name in ("status", "reference", "action_url", "reason"):
                setattr(placed.charge, name, getattr(charge, name))
        return placed.order
    return order


def _checkout_paid(placed: PlacedOrder, answer: ProviderAnswer, *, actor: Actor) -> bool:
    """
    The checkout's common ending, in the fewest statements: its charge was taken.
    The order row is updated first (so locks are taken in the same order as
    every other settlement's); False if it is no longer pending (a webhook or the
    sweep settled it first), for the general path to read what happened.
    """
    order, charge = placed.order, placed.charge
    assert charge is not None
    now = timezone.now()
    # No savepoint when nested (the checkout stores its response in the same transaction).
    reference = answer.reference[:100]
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_order SET status = %s, payment_status = %s, paid_at = %s, expires_at = NULL, "
            "updated_at = %s WHERE id = %s AND status = %s",
            [S.PAID, P.PAID, now, now, order.pk, S.PENDING],
        )
        if cursor.rowcount != 1:
            return False
        cursor.execute(
            "UPDATE orders_payment SET status = %s, reference = %s, action_url = '', updated_at = %s "
            "WHERE id = %s",
            [PS.SUCCEEDED, reference, now, charge.pk],
        )
        before = order_snapshot(order)
        order.status, order.payment_status, order.paid_at, order.expires_at = S.PAID, P.PAID, now, None
        charge.status, charge.reference = PS.SUCCEEDED, reference
        _timeline(
            order,
            OrderEvent.Type.PAYMENT_CAPTURED,
            actor,
            f"{_money_text(order, charge.amount)} taken by {charge.provider}.",
            reference=reference,
        )
        audit_record(
            actor=actor,
            action="order.paid",
            object_type="order",
            object_id=order.pk,
            before=before,
            after=order_snapshot(order),
        )
        events_record(events=[_order_event(order, EventType.ORDER_PAID)])
    return True


def _charge_settle(order: Order, charge: Payment, answer: ProviderAnswer, *, actor: Actor) -> None:
    """Under the order's lock: record the provider's answer about its open charge."""
    if answer.status == PS.SUCCEEDED:
        charge.status, charge.reference = PS.SUCCEEDED, answer.reference[:100]
        charge.action_url = ""
        charge.save(update_fields=["status", "reference", "action_url", "updated_at"])
        order.payment_status = P.PAID
        order.expires_at = None
        _timeline(
            order,
            OrderEvent.Type.PAYMENT_CAPTURED,
            actor,
            f"{_money_text(order, charge.amount)} taken by {charge.provider}.",
            reference=charge.reference,
        )
        _status_set(order, S.PAID, actor=actor, fields=["payment_status", "expires_at"])
    elif answer.status == PS.AUTHORIZED:
        charge.status, charge.reference = PS.AUTHORIZED, answer.reference[:100]
        charge.save(update_fields=["status", "reference", "updated_at"])
        order.payment_status = P.AUTHORIZED
        # Held for the merchant to capture or void (orders.authorizations), not expired unpaid.
        order.expires_at = None
        order.save(update_fields=["payment_status", "expires_at", "updated_at"])
        _timeline(
            order,
            OrderEvent.Type.PAYMENT_AUTHORIZED,
            actor,
            f"{_money_text(order, charge.amount)} authorized by {charge.provider}.",
            reference=charge.reference,
        )
    elif answer.status == PS.REQUIRES_ACTION:
        if charge.status != PS.REQUIRES_ACTION:
            charge.status, charge.reference = PS.REQUIRES_ACTION, answer.reference[:100]
            charge.action_url = answer.action_url[:2000]
            charge.save(update_fields=["status", "reference", "action_url", "updated_at"])
            _timeline(
                order,
                OrderEvent.Type.PAYMENT_ACTION_REQUIRED,
                actor,
                "The shopper has to confirm the payment (3-D Secure or a redirect).",
            )
    elif answer.status in (PS.FAILED, PS.VOIDED):
        charge.status, charge.reference = PS.FAILED, (answer.reference or charge.reference)[:100]
        charge.reason = answer.message[:500]
        charge.action_url = ""
        charge.save(update_fields=["status", "reference", "reason", "action_url", "updated_at"])
        _payment_failed(order, actor=actor, message=answer.message)


def _payment_failed(order: Order, *, actor: Actor, message: str) -> None:
    """In the settling transaction: the order's payment was refused; give back what it held."""
    items = {line.variant_id: line.quantity for line in order.lines.all() if line.variant_id}
    stock_release(
        items=items,
        actor=actor,
        reason=InventoryAdjustment.Reason.RESTOCKED,
        note=f"order {order.number}: payment failed",
    )
    usage_release(metric=Metric.ORDERS)
    discount_uses_release(order=order)
    if order.cart_hash:
        # The shopper may pay for the same cart again, with another card: a new order.
        cart_give_back(order.cart_hash, items=items)
        order.cart_hash = None
    order.payment_status = P.FAILED
    order.expires_at = None
    _timeline(order, OrderEvent.Type.PAYMENT_FAILED, actor, message or "The payment was refused.")
    _status_set(
        order,
        S.CANCELLED,
        actor=actor,
        fields=["payment_status", "cart_hash", "expires_at"],
        reason="payment_failed",
    )


def order_payment_confirm(*, order: Order, details: dict[str, Any]) -> Order:
    """
    The shopper is back from the provider's action (3-D Secure, a redirect): ask
    the provider what became of the payment (no transaction open), then record it.
    """
    charge = order.payments.filter(kind=Payment.Kind.CHARGE).order_by("-id").first()
    if order.status != S.PENDING or charge is None or charge.status != PS.REQUIRES_ACTION:
        raise PaymentNotAwaitingAction("This order's payment is not waiting for a confirmation.")
    try:
        answer = provider_for(charge.provider).confirm(key=charge.idempotency_key, details=details)
    except ProviderUnavailable:
        raise PaymentProviderUnavailable("The payment provider did not answer; try again shortly.") from None
    shopper = Actor(type="customer", id=None, label=order.email)
    return order_payment_settle(order_id=order.pk, answer=answer, actor=shopper)


def access_payment_by_key(*, provider: str, key: str) -> Payment:
    """The shop's charge that `provider` knows by `key` (a provider webhook names it so)."""
    charge = (
        Payment.objects.filter(kind=Payment.Kind.CHARGE, provider=provider, idempotency_key=key)
        .select_related("order")
        .first()
    )
    if charge is None:
        raise PaymentNotFound("No payment of this shop has that key.")
    return charge


def provider_notification_apply(*, provider: str, key: str, answer: ProviderAnswer) -> Order:
    """A provider's signed webhook told what became of a payment: record it as the checkout would."""
    charge = access_payment_by_key(provider=provider, key=key)
    return order_payment_settle(order_id=charge.order_id, answer=answer, actor=Actor.system(provider))


def _provider_verdict(charge: Payment) -> ProviderAnswer | None:
    """
    Outside any transaction: what the provider did with `charge`. A payment it
    never received is voided there first, so a request still on its way cannot
    take the money after the order gave its stock back. None if it did not answer.
    """
    provider = provider_for(charge.provider)
    try:
        answer = provider.status(key=charge.idempotency_key)
        if answer.status not in (PS.SUCCEEDED, PS.FAILED, PS.VOIDED):
            answer = provider.void(key=charge.idempotency_key)
    except ProviderUnavailable:
        logger.warning("Provider %s did not answer about payment %s", provider.code, charge.idempotency_key)
        return None
    return answer


def payments_recover_due(*, now: dt.datetime | None = None, batch: int = 200) -> int:
    """
    Finish the shop's checkouts that stopped between their steps: each card
    charge still `pending` PAYMENT_RECOVERY_AFTER_SECONDS after it was written is
    looked up at its provider (no transaction open) and then settled: paid if the
    money was taken, else voided there and released here. Return how many changed.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.PAYMENT_RECOVERY_AFTER_SECONDS)
    due = list(
        Payment.objects.filter(
            kind=Payment.Kind.CHARGE, status=PS.PENDING, created_at__lte=cutoff, order__status=S.PENDING
        )
        .exclude(provider=ManualProvider.code)
        .order_by("created_at", "pk")[:batch]
    )
    recovered = 0
    system = Actor.system("payment recovery")
    for charge in due:
        answer = _provider_verdict(charge)
        if answer is not None:
            order = order_payment_settle(order_id=charge.order_id, answer=answer, actor=system)
            recovered += order.status != S.PENDING
    return recovered


# --- The merchant's actions -------------------------------------------------------------------


def order_mark_paid(*, actor: Actor, order: Order, reference: str = "") -> Order:
    """The merchant received the money for a pending (manual) order."""
    with transaction.atomic():
        order = _locked(order)
        if order.status != S.PENDING or order.payment_provider != ManualProvider.code:
            raise IllegalTransition(
                f"Only pending manual orders can be marked paid; this one is {order.status}"
                f" ({order.payment_provider})."
            )
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
        order.payment_status = P.PAID
        order.expires_at = None
        _timeline(
            order,
            OrderEvent.Type.MARKED_PAID,
            actor,
            f"Marked paid ({_money_text(order, order.total)}).",
            reference=reference,
        )
        _status_set(order, S.PAID, actor=actor, fields=["payment_status", "expires_at"])
    return order


def customer_note_set(*, actor: Actor, customer: Customer, note: str) -> Customer:
    """Replace the merchant's internal notes about a customer."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        before = customer.note
        if note != before:
            customer.note = note
            customer.save(update_fields=["note"])
            audit_record(
                actor=actor,
                action="customer.note_changed",
                object_type="customer",
                object_id=customer.pk,
                before={"note": before},
                after={"note": note},
            )
    return customer


def order_cancel(*, actor: Actor, order: Order, reason: str = "") -> Order:
    """
    Cancel a pending or paid order: its stock goes back, and a paid order's money
    is refunded in full: the refund is recorded pending here, and the provider is
    asked after the cancellation commits (`refunds_send`), never under the lock.
    """
    with transaction.atomic():
        order = _locked(order)
        if S.CANCELLED not in TRANSITIONS[order.status]:
            raise IllegalTransition(f"An order that is {order.status} cannot be cancelled.")
        if order.status == S.PENDING and _open_charge(order) is not None:
            raise IllegalTransition(
                "This order's card payment is still in progress; it is settled or released within minutes."
            )
        # Units refunded before were restocked then, or kept out of stock on purpose.
        stock_release(
            items={
                line.variant_id: line.quantity - line.refunded_quantity
                for line in order.lines.all()
                if line.variant_id and line.quantity > line.refunded_quantity
            },
            actor=actor,
            reason=InventoryAdjustment.Reason.RESTOCKED,
            note=f"order {order.number} cancelled",
        )
        if order.status == S.PAID:
            _refund_reserve(
                order,
                amount=order_taken(order) - order.refunded_amount,
                shipping=Decimal(0),
                lines=[],
                reason=reason,
            )
            order.payment_status = P.REFUNDED
        else:
            order.payment_status = P.EXPIRED
            discount_uses_release(order=order)
        order.expires_at = None
        _timeline(order, OrderEvent.Type.CANCELLED, actor, reason or "Cancelled.")
        _status_set(
            order,
            S.CANCELLED,
            actor=actor,
            fields=["payment_status", "refunded_amount", "expires_at"],
            reason=reason,
        )
    return order


def order_expire(*, order_id: int, now: dt.datetime | None = None) -> Order | None:
    """
    Cancel an unpaid order whose time is up and give its stock back, with an
    `order.expired` event. The order is re-read under its row lock, so one paid
    meanwhile (which holds that lock) is left alone; return None then.
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
        charges = order.payments.filter(kind=Payment.Kind.CHARGE, status__in=CHARGE_OPEN)
        if charges.exists():
            charges.update(status=PS.VOIDED, action_url="", updated_at=now)
            usage_release(metric=Metric.ORDERS)  # taken at checkout for a card that never paid
        discount_uses_release(order=order)
        before = order_snapshot(order)
        order.status = S.CANCELLED
        order.payment_status = P.EXPIRED
        order.cancelled_at = now
        order.save(update_fields=["status", "payment_status", "cancelled_at", "updated_at"])
        _timeline(order, OrderEvent.Type.EXPIRED, system, "Expired unpaid; its stock went back.")
        audit_record(
            actor=system,
            action="order.expired",
            object_type="order",
            object_id=order.pk,
            before=before,
            after=order_snapshot(order),
        )
        events_record(
            events=[
                _order_event(order, EventType.ORDER_EXPIRED, expires_at=expiry_text(order.expires_at or now))
            ]
        )
    return order


def orders_expire_due(*, now: dt.datetime | None = None, batch: int = 200) -> int:
    """
    Expire the shop's unpaid orders due by `now`, soonest first, each in its own
    short transaction (so no lock is held across the batch); return how many.
    An order with a card payment still open is first looked up at its provider
    (no transaction open): one whose money was taken is finished as paid instead.
    """
    now = now or timezone.now()
    expired = 0
    system = Actor.system("order expiry")
    while True:
        due = list(
            Order.objects.filter(status=S.PENDING, expires_at__lte=now)
            .order_by("expires_at", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        done = 0
        open_charges = {
            charge.order_id: charge
            for charge in Payment.objects.filter(
                order_id__in=due, kind=Payment.Kind.CHARGE, status__in=CHARGE_OPEN
            ).exclude(provider=ManualProvider.code)
        }
        for order_id in due:
            charge = open_charges.get(order_id)
            if charge is not None:
                answer = _provider_verdict(charge)
                if answer is None:
                    continue  # the provider is away: asked again on the next sweep
                if answer.status in (PS.SUCCEEDED, PS.FAILED):
                    order_payment_settle(order_id=order_id, answer=answer, actor=system)
                    done += 1
                    continue
            done += order_expire(order_id=order_id, now=now) is not None
        expired += done
        if len(due) < batch or done == 0:
            return expired


def payment_settings_update(
    *,
    actor: Actor,
    manual_enabled: bool | None = None,
    manual_expiry_hours: int | None = None,
    card_capture: str | None = None,
) -> PaymentSettings:
    """
    Turn manual payment on or off, set how long its unpaid orders hold stock, and
    whether card payments are captured at checkout or only authorized for the
    merchant to capture. Both apply to orders placed from now on.
    """
    with transaction.atomic():
        current, _ = PaymentSettings.objects.select_for_update().get_or_create(
            pk=PaymentSettings.SINGLETON_ID
        )
        fields = ["manual_enabled", "manual_expiry_hours", "card_capture"]
        before = {name: getattr(current, name) for name in fields}
        if manual_enabled is not None:
            current.manual_enabled = manual_enabled
        if manual_expiry_hours is not None:
            current.manual_expiry_hours = manual_expiry_hours
        if card_capture is not None:
            current.card_capture = card_capture
        after = {name: getattr(current, name) for name in fields}
        if after != before:
            current.save(update_fields=[*fields, "updated_at"])
            audit_record(
                actor=actor,
                action="payment_settings.updated",
                object_type="payment_settings",
                object_id=current.pk,
                before=before,
                after=after,
            )
    return current


# --- Refunds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundLineRequest:
    line: int  # the OrderLine's id
    quantity: int
    restock: bool = False


def order_refund(
    *,
    actor: Actor,
    order: Order,
    amount: Decimal | None = None,
    lines: Sequence[RefundLineRequest] = (),
    shipping: Decimal = Decimal(0),
    reason: str = "",
) -> Payment:
    """
    Pay back part of what was paid, as often as needed until all of it is: a plain
    `amount`, or units of the order's lines (at the price paid for them) and a
    shipping amount, the units optionally put back into stock. The order keeps
    its status (paid or fulfilled) until everything is paid back, then becomes
    `refunded`; its payment_status says `partially_refunded` meanwhile. One
    transaction records the refund, pending; the caller then has the provider pay
    it back (`refunds_send`), outside any transaction. Return the refund.
    """
    with transaction.atomic():
        order = _locked(order)
        if order.payment_status not in REFUNDABLE or order.status not in (S.PAID, S.FULFILLED):
            raise IllegalTransition(
                f"An order that is {order.status} (payment {order.payment_status}) cannot be refunded."
            )
        refund = _refund_reserve(order, amount=amount, shipping=shipping, lines=lines, reason=reason)
        paid_back = order.refunded_amount >= order_taken(order)
        order.payment_status = P.REFUNDED if paid_back else P.PARTIALLY_REFUNDED
        text = _money_text(order, refund.amount)
        _timeline(
            order,
            OrderEvent.Type.REFUNDED,
            actor,
            f"Refunded {text}" + (f": {reason}" if reason else "."),
            amount=str(Money(refund.amount, order.currency).amount),
            shipping=str(Money(refund.shipping_amount, order.currency).amount),
            lines=[{"line": line.line, "quantity": line.quantity, "restock": line.restock} for line in lines],
        )
        _status_set(
            order,
            S.REFUNDED if paid_back else order.status,
            actor=actor,
            fields=["payment_status", "refunded_amount"],
            event=EventType.ORDER_REFUNDED,
            refund={
                "amount": str(Money(refund.amount, order.currency).amount),
                "currency": order.currency,
                "reason": reason,
            },
        )
    return refund


def order_taken(order: Order) -> Decimal:
    """
    What the shopper paid: the total, less what a capture of less than was
    authorized released (a voided charge of a paid order, orders.authorizations).
    """
    released = order.payments.filter(kind=Payment.Kind.CHARGE, status=PS.VOIDED).aggregate(
        released=Coalesce(Sum("amount"), Value(Decimal(0)))
    )["released"]
    return order.total - released


def order_lines_check(
    order: Order,
    by_id: dict[int, OrderLine],
    asked: Sequence[tuple[int, int]],
    *,
    left: Callable[[OrderLine], int],
    invalid: type[DomainError],
    to: str,
) -> None:
    """
    Check (line id, units) asked of the order's lines (a refund's, a fulfilment's):
    each a line of this order, named once, at most what is `left` of it; raise
    `invalid` naming the field otherwise.
    """
    if len({line_id for line_id, _ in asked}) != len(asked):
        raise invalid("Name each line once.", errors={"lines": ["A line is named twice."]})
    for index, (line_id, quantity) in enumerate(asked):
        line = by_id.get(line_id)
        if line is None:
            raise invalid(
                f"Order #{order.number} has no line {line_id}.",
                errors={f"lines.{index}.line": ["Not a line of this order."]},
            )
        units = left(line)
        if quantity > units:
            raise invalid(
                f"Only {units} of {line.sku} left to {to}.",
                errors={f"lines.{index}.quantity": [f"At most {units}."]},
            )


def _refund_reserve(
    order: Order,
    *,
    amount: Decimal | None,
    shipping: Decimal,
    lines: Sequence[RefundLineRequest],
    reason: str,
) -> Payment:
    """
    Under the order's lock: check the refund fits what is left, count it on the
    order and its lines, restock what is asked, and write the refund (pending
    until the provider has paid it back).
    """
    by_id = {line.pk: line for line in order.lines.all()}
    order_lines_check(
        order,
        by_id,
        [(asked.line, asked.quantity) for asked in lines],
        left=lambda line: line.quantity - line.refunded_quantity,
        invalid=RefundLineInvalid,
        to="refund",
    )
    lines_total = Decimal(0)
    restock: dict[int, int] = {}
    for asked in lines:
        line = by_id[asked.line]
        lines_total += line.unit_price * asked.quantity
        if asked.restock and line.variant_id:
            restock[line.variant_id] = restock.get(line.variant_id, 0) + asked.quantity
    refundable = order_taken(order) - order.refunded_amount
    total = amount if amount is not None else Money(lines_total + shipping, order.currency).amount
    if total <= 0 or total > refundable or shipping > refundable:
        limit = Money(refundable, order.currency).amount
        raise RefundTooLarge(
            f"At most {limit} {order.currency} can be refunded.",
            errors={"amount": [f"More than 0 and at most {limit}."]},
        )
    for asked in lines:
        line = by_id[asked.line]
        line.refunded_quantity += asked.quantity
        if asked.restock:
            line.restocked_quantity += asked.quantity
        line.save(update_fields=["refunded_quantity", "restocked_quantity"])
    if restock:
        stock_release(
            items=restock,
            actor=Actor.system("refund"),
            reason=InventoryAdjustment.Reason.RETURNED,
            note=f"order {order.number} refunded",
        )
    refund = Payment.objects.create(
        order=order,
        kind=Payment.Kind.REFUND,
        status=PS.PENDING,
        provider=order.payment_provider,
        amount=total,
        shipping_amount=shipping,
        idempotency_key=f"refund-{uuid.uuid4().hex}",
        reason=reason,
    )
    if lines:
        RefundLine.objects.bulk_create(
            RefundLine(
                refund=refund,
                order_line=by_id[asked.line],
                quantity=asked.quantity,
                amount=by_id[asked.line].unit_price * asked.quantity,
                restocked=asked.restock,
            )
            for asked in lines
        )
    order.refunded_amount += total
    return refund


def refunds_send(*, order: Order | None = None) -> int:
    """
    After the transaction that recorded them: have the provider pay back the
    pending refunds of `order` (or of the whole shop: those a provider did not
    answer before), each under its own key so asking again never pays twice,
    and record their references. A provider that does not answer leaves its
    refund pending, shown so to the merchant, for the next call. Return how many
    were paid back.
    """
    _outside_transactions()
    pending = Payment.objects.filter(kind=Payment.Kind.REFUND, status=PS.PENDING).select_related("order")
    if order is not None:
        pending = pending.filter(order=order)
    return sum(_refund_send(refund, order=refund.order) for refund in pending.order_by("id"))


def _refund_send(refund: Payment, *, order: Order) -> bool:
    charge = order.payments.filter(kind=Payment.Kind.CHARGE, status=PS.SUCCEEDED).order_by("id").first()
    try:
        reference = provider_for(refund.provider).refund(
            key=(charge.idempotency_key or charge.reference) if charge else "",
            amount=Money(refund.amount, order.currency),
            refund_key=refund.idempotency_key,
        )
    except ProviderUnavailable:
        logger.warning("Provider %s did not answer for refund %s", refund.provider, refund.idempotency_key)
        return False
    updated = Payment.objects.filter(pk=refund.pk, status=PS.PENDING).update(
        status=PS.SUCCEEDED, reference=reference[:100], updated_at=timezone.now()
    )
    return updated == 1


# --- The timeline's notes -----------------------------------------------------------------------


def order_note_add(*, actor: Actor, order: Order, body: str) -> OrderEvent:
    """Add a merchant's internal note to the order's timeline (never shown to the shopper)."""
    with transaction.atomic():
        note = OrderEvent.objects.create(
            order=order, type=OrderEvent.Type.NOTE, actor=actor.label[:255], message=body
        )
        audit_record(
            actor=actor,
            action="order.note_added",
            object_type="order",
            object_id=order.pk,
            after={"number": order.number, "note": note.pk},
        )
    return note
