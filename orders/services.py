"""
Order writes: checkout and the order's lifecycle. Each is one transaction that
also records its audit entry and its outbox event.

    pending -> paid -> fulfilled;  pending|paid -> cancelled;  paid|fulfilled -> refunded
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from billing.limits import Metric
from billing.services import usage_take
from catalog.models import InventoryAdjustment
from catalog.services import stock_release, stock_reserve
from orders.errors import IllegalTransition, RefundTooLarge
from orders.models import Customer, Order, OrderLine, Payment
from orders.payments import provider_for
from tenants.audit.services import Actor, AuditChange, audit_record, audit_records
from tenants.conventions.money import Money
from tenants.inserts import rows_insert
from tenants.outbox.services import events_record

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
            **extra,
        },
    )


@dataclass(frozen=True)
class ShippingAddress:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""


def order_place(
    *,
    items: dict[int, int],
    email: str,
    shipping_address: ShippingAddress,
    payment_method: dict[str, Any],
    currency: str,
) -> tuple[Order, str]:
    """
    Check out: reserve the stock, snapshot current prices into an order, take the
    payment. Any refusal (sold out, declined card) rolls everything back. Return
    the order and its secret token, shown to the shopper once.
    """
    email = email.strip().lower()
    shopper = Actor(type="customer", id=None, label=email)
    provider = provider_for(payment_method["provider"])
    token = secrets.token_urlsafe(24)
    # The writes go through rows_insert(): the ORM's create() cost more CPU than the statements.
    # No savepoint when nested (checkout runs inside the idempotency transaction):
    # a refusal propagates and rolls the whole of it back anyway.
    with transaction.atomic(savepoint=False):
        reserved = stock_reserve(items=items, actor=shopper, note="checkout")
        # The plan's orders a month: 402 before any charge; the count rolls back with a refusal.
        usage_take(metric=Metric.ORDERS)
        subtotal = sum((line.unit_price * line.quantity for line in reserved), Decimal(0))
        total = Money(subtotal, currency).amount
        # Charge before writing the order, so a paid order is written once as paid;
        # a refusal raises here and the reservation above rolls back with it.
        charge = provider.charge(amount=Money(total, currency), details=payment_method)
        now = timezone.now()
        (order,) = rows_insert(
            [
                Order(
                    customer=_customer_upsert(email=email, name=shipping_address.name, now=now),
                    email=email,
                    currency=currency,
                    subtotal=total,
                    total=total,
                    status=S.PAID if charge.paid else S.PENDING,
                    paid_at=now if charge.paid else None,
                    shipping_address=shipping_address.__dict__,
                    payment_provider=provider.code,
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
                )
                for line in reserved
            ]
        )
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
        events = [_order_event(order, "order.created")]
        if charge.paid:
            reference = {"reference": charge.reference, "provider": provider.code}
            changes.append(AuditChange("order.paid", "order", order.pk, after=reference))
            events.append(_order_event(order, "order.paid"))
        audit_records(actor=shopper, changes=changes)
        events_record(events=events)
    # The caller answers with the order: hand it over with its lines and payments loaded.
    order._prefetched_objects_cache = {"lines": order_lines, "payments": payments}  # type: ignore[attr-defined]
    return order, token


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
