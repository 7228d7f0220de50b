"""
Capturing and voiding authorized card payments from the admin. A shop that
captures by hand (PaymentSettings.card_capture `manual`) has its checkouts only
authorize the card: the order stays `pending` with payment_status `authorized`,
holding its stock, until the merchant captures (all of it or less: the rest is
released) or voids the authorization (the order is cancelled and its stock goes
back). Each action takes the checkout's three steps: a check in the request's
first transaction, the provider asked under the charge's key with no
transaction open, and one short transaction recording its answer. The charge's
key makes asking again harmless: a retry never takes the money twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from billing.limits import Metric
from billing.services import usage_release
from catalog.inventory import stock_release
from catalog.models import InventoryAdjustment
from orders.discounts import discount_uses_release
from orders.errors import CaptureRefused, CaptureTooLarge, PaymentNotAuthorized, PaymentProviderUnavailable
from orders.models import Order, OrderEvent, Payment
from orders.payments import ProviderAnswer, ProviderUnavailable, provider_for
from orders.services import PS, P, S, _locked, _money_text, _outside_transactions, _status_set, _timeline
from tenants.audit.services import Actor
from tenants.money import Money

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuthorizedCharge:
    """An order's authorized charge, and the amount asked of it (the capture's; the whole for a void)."""

    order: Order
    charge: Payment
    amount: Decimal


def _authorized_charge(order: Order) -> Payment:
    charge = (
        order.payments.filter(kind=Payment.Kind.CHARGE, status=PS.AUTHORIZED).order_by("-id").first()
        if order.status == S.PENDING and order.payment_status == P.AUTHORIZED
        else None
    )
    if charge is None:
        raise PaymentNotAuthorized(
            f"Order #{order.number} has no authorized payment (it is {order.status}, "
            f"payment {order.payment_status})."
        )
    return charge


def authorization_check(*, order: Order, amount: Decimal | None = None) -> AuthorizedCharge:
    """
    The first step, in the caller's transaction: the order's authorized charge,
    under the order's lock, and the amount to take (at most what was authorized;
    all of it without `amount`).
    """
    order = _locked(order)
    charge = _authorized_charge(order)
    if amount is None:
        amount = charge.amount
    if amount <= 0 or amount > charge.amount:
        limit = Money(charge.amount, order.currency).amount
        raise CaptureTooLarge(
            f"At most {limit} {order.currency} was authorized.",
            errors={"amount": [f"More than 0 and at most {limit}."]},
        )
    return AuthorizedCharge(order=order, charge=charge, amount=Money(amount, order.currency).amount)


def payment_capture_request(authorized: AuthorizedCharge) -> ProviderAnswer:
    """The second step, with no transaction open: have the provider take `amount` of the authorization."""
    _outside_transactions()
    charge = authorized.charge
    try:
        return provider_for(charge.provider).capture(
            key=charge.idempotency_key, amount=Money(authorized.amount, authorized.order.currency)
        )
    except ProviderUnavailable:
        logger.warning("Provider %s did not answer a capture of %s", charge.provider, charge.idempotency_key)
        raise PaymentProviderUnavailable("The payment provider did not answer; try again shortly.") from None


def payment_void_request(authorized: AuthorizedCharge) -> ProviderAnswer:
    """The second step of a void, with no transaction open: have the provider drop the authorization."""
    _outside_transactions()
    charge = authorized.charge
    try:
        return provider_for(charge.provider).void(key=charge.idempotency_key)
    except ProviderUnavailable:
        logger.warning("Provider %s did not answer a void of %s", charge.provider, charge.idempotency_key)
        raise PaymentProviderUnavailable("The payment provider did not answer; try again shortly.") from None


def order_capture_settle(*, actor: Actor, authorized: AuthorizedCharge, answer: ProviderAnswer) -> Order:
    """
    The third step, one transaction: the money was taken, the order is paid.
    Less than authorized: the charge is what was taken, and the rest is recorded
    as a voided charge (released, never refundable). A provider that refused
    changes nothing here (CaptureRefused).
    """
    if answer.status != PS.SUCCEEDED:
        raise CaptureRefused(answer.message or f"The provider answered {answer.status}; nothing was taken.")
    with transaction.atomic():
        order = _locked(authorized.order)
        charge = _authorized_charge(order)  # a racing capture or void got there first: 409
        authorized_amount = charge.amount
        released = authorized_amount - authorized.amount
        charge.status, charge.amount = PS.SUCCEEDED, authorized.amount
        charge.reference = (answer.reference or charge.reference)[:100]
        charge.save(update_fields=["status", "amount", "reference", "updated_at"])
        if released > 0:
            Payment.objects.create(
                order=order,
                kind=Payment.Kind.CHARGE,
                status=PS.VOIDED,
                provider=charge.provider,
                amount=released,
                reference=charge.reference,
                reason="Authorized but not captured: released.",
            )
        order.payment_status = P.PAID
        order.expires_at = None
        taken = _money_text(order, authorized.amount)
        _timeline(
            order,
            OrderEvent.Type.PAYMENT_CAPTURED,
            actor,
            f"{taken} captured by {charge.provider}"
            + (f"; {_money_text(order, released)} released." if released > 0 else "."),
            reference=charge.reference,
            amount=str(authorized.amount),
        )
        _status_set(
            order,
            S.PAID,
            actor=actor,
            fields=["payment_status", "expires_at"],
            capture={
                "amount": str(authorized.amount),
                "released": str(Money(released, order.currency).amount),
                "currency": order.currency,
            },
        )
    return order


def order_void_settle(*, actor: Actor, authorized: AuthorizedCharge, answer: ProviderAnswer) -> Order:
    """
    The third step of a void, one transaction: the authorization is dropped, so
    the order is cancelled (payment `expired`: never paid), its stock, its slot
    of the plan's orders and its discount uses go back.
    """
    if answer.status != PS.VOIDED:
        raise PaymentNotAuthorized(
            f"The provider answered {answer.status}: the authorization could not be voided."
        )
    with transaction.atomic():
        order = _locked(authorized.order)
        charge = _authorized_charge(order)
        charge.status = PS.VOIDED
        charge.save(update_fields=["status", "updated_at"])
        stock_release(
            items={line.variant_id: line.quantity for line in order.lines.all() if line.variant_id},
            actor=actor,
            reason=InventoryAdjustment.Reason.RESTOCKED,
            note=f"order {order.number}: payment voided",
        )
        usage_release(metric=Metric.ORDERS)  # taken at checkout for a card that was never charged
        discount_uses_release(order=order)
        order.payment_status = P.EXPIRED
        order.expires_at = None
        _timeline(
            order,
            OrderEvent.Type.PAYMENT_VOIDED,
            actor,
            f"Authorization of {_money_text(order, charge.amount)} voided; the order is cancelled.",
            reference=charge.reference,
        )
        _status_set(
            order,
            S.CANCELLED,
            actor=actor,
            fields=["payment_status", "expires_at"],
            reason="payment_voided",
        )
    return order
