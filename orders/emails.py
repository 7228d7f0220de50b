"""
The order e-mails: the confirmation to the shopper, the new-order notice to the
shop's owners and admins, the shipping notice. Each is rendered from a plain-text
and an HTML template (`orders/templates/orders/email/<kind>.txt|.html`) and sent
through Django's e-mail backend, from `DEFAULT_FROM_EMAIL` under the shop's name,
exactly once in effect per (event, kind, recipient) through `tenants.mail` (whose
docstring says how), with the shop's `SentEmail` rows.

A worker sends a batch of events' e-mails over one backend connection (one SMTP
session), and renders each template once per order, not once per recipient.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from orders.models import Customer, Order, SentEmail
from orders.tokens import (
    EMAIL_CHANGE,
    PASSWORD_RESET,
    VERIFY,
    customer_link_token,
    order_link_token,
    storefront_url,
)
from tenants import mail
from tenants.models import Membership, Shop
from tenants.money import Money
from tenants.schemas import current_schema
from tenants.selectors import primary_domains

logger = logging.getLogger(__name__)

Kind = SentEmail.Kind
TEMPLATES = "orders/email"


@dataclass(frozen=True)
class EmailLine:
    title: str
    sku: str
    quantity: int
    unit_price: str
    line_total: str


def money_text(amount: Decimal, currency: str) -> str:
    """Write an amount for people: `1,234.50 EUR` (the currency's minor units, grouped thousands)."""
    return f"{Money(amount, currency).amount:,} {currency}"


def _current_shop() -> Shop:
    # The worker's connection is on the event's schema; the Shop row is read
    # fresh rather than trusted from a cached `connection.tenant`.
    return Shop.objects.get(schema_name=current_schema())


def shop_sender(shop: Shop) -> str:
    """The From header: the platform's sending address with the shop's name as display name."""
    return mail.sender(shop.name, settings.DEFAULT_FROM_EMAIL)


@dataclass(frozen=True)
class ShopStaff:
    """Who hears about a shop's orders: its active owners and admins (staff members are not notified)."""

    owners: list[str]
    to_notify: list[str]


def shop_staff(shop: Shop) -> ShopStaff:
    """The e-mail addresses of the shop's active owners and admins, in one query."""
    rows = list(
        Membership.objects.filter(
            shop=shop,
            role__in=[Membership.Role.OWNER, Membership.Role.ADMIN],
            user__is_active=True,
        )
        .order_by("user__email")
        .values_list("user__email", "role")
    )
    return ShopStaff(
        owners=[email for email, role in rows if role == Membership.Role.OWNER],
        to_notify=[email for email, _ in rows],
    )


def shop_domain(shop: Shop) -> str:
    """The shop's primary hostname, where its storefront (and so every link to it) lives."""
    return primary_domains([shop.pk]).get(shop.pk, "")


def order_url(domain: str, order: Order) -> str:
    """The order's page on the storefront, opened by its link token (no sign-in needed)."""
    return storefront_url(domain, f"/orders/{order.number}?{urlencode({'token': order_link_token(order)})}")


def _order_context(shop: Shop, order: Order, domain: str) -> dict[str, Any]:
    currency = order.currency
    return {
        "shop_name": shop.name,
        "sender_name": shop.name,
        "order_url": order_url(domain, order),
        "number": order.number,
        "status": order.status,
        "email": order.email,
        "placed_at": order.placed_at,
        "lines": [
            EmailLine(
                title=f"{line.title} ({line.variant_title})" if line.variant_title else line.title,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=money_text(line.unit_price, currency),
                line_total=money_text(line.line_total, currency),
            )
            for line in order.lines.all()
        ],
        "subtotal": money_text(order.subtotal, currency),
        # The breakdown as the order snapshotted it (orders.pricing), to the cent as in the API.
        "discount": money_text(order.discount, currency) if order.discount else "",
        "discounts": [
            (applied["code"] or "Promotion", money_text(Decimal(applied["amount"]["amount"]), currency))
            for applied in order.discounts
        ],
        "shipping": money_text(order.shipping, currency),
        "shipping_method": (order.shipping_method or {}).get("name", ""),
        "tax": money_text(order.tax, currency),
        "tax_lines": [
            (line["name"], line["rate"], money_text(Decimal(line["amount"]["amount"]), currency))
            for line in order.tax_lines
        ],
        "prices_include_tax": order.prices_include_tax,
        "total": money_text(order.total, currency),
        "address": order.shipping_address,
        "tracking_number": order.tracking_number,
        "carrier": order.carrier,
        "tracking_url": order.tracking_url,
    }


def email_render(*, kind: str, subject: str, context: dict[str, Any]) -> mail.Rendered:
    """Render an order e-mail of `kind`: plain text with an HTML alternative."""
    return mail.email_render(templates=TEMPLATES, kind=kind, subject=subject, context=context)


def email_message(
    rendered: mail.Rendered,
    *,
    to: str,
    shop: Shop,
    connection: BaseEmailBackend,
    reply_to: list[str] | None = None,
) -> EmailMultiAlternatives:
    """The message of a rendered e-mail to one recipient, sent over `connection` under the shop's name."""
    return mail.email_message(
        rendered, to=to, from_email=shop_sender(shop), connection=connection, reply_to=reply_to
    )


def email_send_once(*, event_id: uuid.UUID, kind: str, message: EmailMultiAlternatives) -> bool:
    """Send a one-recipient message unless it was sent for this event already; True if sent now."""
    return mail.email_send_once(record=SentEmail, event_id=event_id, kind=kind, message=message)


OrderEvent = tuple[uuid.UUID, Order]


def order_created_emails_send(*, placed: Sequence[OrderEvent]) -> int:
    """
    For each (order.created event, order): confirm the order to the shopper
    (replies go to the shop's owners) and tell each owner and admin about it, one
    e-mail each; return how many went now.
    """
    if not placed:
        return 0
    shop = _current_shop()
    staff = shop_staff(shop)
    domain = shop_domain(shop)
    sent = 0
    with get_connection() as mail:
        for event_id, order in placed:
            context = _order_context(shop, order, domain)
            confirmation = email_render(
                kind=Kind.ORDER_CONFIRMATION,
                subject=f"Your order #{order.number} at {shop.name}",
                context=context,
            )
            message = email_message(
                confirmation, to=order.email, shop=shop, connection=mail, reply_to=staff.owners
            )
            sent += email_send_once(event_id=event_id, kind=confirmation.kind, message=message)
            if not staff.to_notify:
                continue
            notice = email_render(
                kind=Kind.NEW_ORDER_NOTICE,
                subject=f"New order #{order.number}: {context['total']}",
                context=context,
            )
            for recipient in staff.to_notify:
                message = email_message(notice, to=recipient, shop=shop, connection=mail)
                sent += email_send_once(event_id=event_id, kind=notice.kind, message=message)
    return sent


def _parcel_context(order: Order, parcel: dict[str, Any] | None) -> dict[str, Any]:
    """
    What one fulfilment shipped, from its event: its units and tracking, and
    whether more is to come. An event from before fulfilments had lines (no
    `parcel`) shipped the whole order with the order's tracking.
    """
    by_id = {line.pk: line for line in order.lines.all()}
    if parcel is None:
        shipped = [(line, line.quantity) for line in by_id.values()]
        tracking = {"number": order.tracking_number, "carrier": order.carrier, "url": order.tracking_url}
    else:
        shipped = [
            (by_id[int(item["line"])], int(item["quantity"]))
            for item in parcel["lines"]
            if int(item["line"]) in by_id
        ]
        tracking = parcel["tracking"]
    return {
        "parcel": [
            (quantity, f"{line.title} ({line.variant_title})" if line.variant_title else line.title, line.sku)
            for line, quantity in shipped
        ],
        "more_to_come": parcel is not None and not parcel["complete"],
        "tracking_number": tracking["number"],
        "carrier": tracking["carrier"],
        "tracking_url": tracking["url"],
    }


ShippedEvent = tuple[uuid.UUID, Order, dict[str, Any] | None]


def shipping_notices_send(*, fulfilled: Sequence[ShippedEvent]) -> int:
    """
    For each (fulfilment event, order, its parcel): tell the shopper what has
    shipped and how to follow it; replies go to the owners.
    """
    if not fulfilled:
        return 0
    shop = _current_shop()
    owners = shop_staff(shop).owners
    domain = shop_domain(shop)
    sent = 0
    with get_connection() as mail:
        for event_id, order, parcel in fulfilled:
            notice = email_render(
                kind=Kind.SHIPPING_NOTICE,
                subject=f"Your order #{order.number} from {shop.name} has shipped",
                context={**_order_context(shop, order, domain), **_parcel_context(order, parcel)},
            )
            message = email_message(notice, to=order.email, shop=shop, connection=mail, reply_to=owners)
            sent += email_send_once(event_id=event_id, kind=notice.kind, message=message)
    return sent


# --- shoppers' account e-mails and the order link ------------------------------------------


def _send_one(*, rendered: mail.Rendered, to: str, shop: Shop, event_id: uuid.UUID) -> int:
    """Send one rendered e-mail to one recipient, once for the event; 1 if it went now."""
    with get_connection() as connection:
        message = email_message(rendered, to=to, shop=shop, connection=connection)
        return int(email_send_once(event_id=event_id, kind=rendered.kind, message=message))


def _customer_link_send(
    *,
    event_id: uuid.UUID,
    customer: Customer,
    purpose: str,
    kind: str,
    subject: str,
    path: str,
    hours: int,
    to: str | None = None,
) -> int:
    """
    Send a customer a single-use link to `path`; `{shop}` in `subject` becomes the
    shop's name. `to`: a new e-mail the link moves the account to (the account's otherwise).
    """
    shop = _current_shop()
    token = customer_link_token(customer, purpose=purpose, email=to)
    context = {
        "shop_name": shop.name,
        "sender_name": shop.name,
        "name": customer.name,
        "hours": hours,
        "link_url": storefront_url(shop_domain(shop), f"{path}?{urlencode({'token': token})}"),
    }
    rendered = email_render(kind=kind, subject=subject.format(shop=shop.name), context=context)
    return _send_one(rendered=rendered, to=to or customer.email, shop=shop, event_id=event_id)


def customer_verification_send(*, event_id: uuid.UUID, customer: Customer) -> int:
    """E-mail the link that verifies the account's e-mail (`/account/verify?token=`)."""
    return _customer_link_send(
        event_id=event_id,
        customer=customer,
        purpose=VERIFY,
        kind=Kind.CUSTOMER_VERIFICATION,
        subject="Confirm your e-mail for {shop}",
        path="/account/verify",
        hours=settings.CUSTOMER_VERIFY_LINK_HOURS,
    )


def customer_password_reset_send(*, event_id: uuid.UUID, customer: Customer) -> int:
    """E-mail the single-use link that sets a new password (`/account/reset?token=`)."""
    return _customer_link_send(
        event_id=event_id,
        customer=customer,
        purpose=PASSWORD_RESET,
        kind=Kind.CUSTOMER_PASSWORD_RESET,
        subject="Reset your password at {shop}",
        path="/account/reset",
        hours=settings.CUSTOMER_RESET_LINK_HOURS,
    )


def customer_email_change_send(*, event_id: uuid.UUID, customer: Customer, email: str) -> int:
    """E-mail the new address the single-use link that moves the account to it (`/account/email?token=`)."""
    return _customer_link_send(
        event_id=event_id,
        customer=customer,
        purpose=EMAIL_CHANGE,
        kind=Kind.CUSTOMER_EMAIL_CHANGE,
        subject="Confirm your new e-mail for {shop}",
        path="/account/email",
        hours=settings.CUSTOMER_EMAIL_CHANGE_LINK_HOURS,
        to=email,
    )


def customer_email_changed_send(*, event_id: uuid.UUID, customer: Customer, old_email: str) -> int:
    """Tell the old address that the account moved to another e-mail (and which)."""
    shop = _current_shop()
    rendered = email_render(
        kind=Kind.CUSTOMER_EMAIL_CHANGED,
        subject=f"Your e-mail at {shop.name} was changed",
        context={
            "shop_name": shop.name,
            "sender_name": shop.name,
            "name": customer.name,
            "new_email": customer.email,
        },
    )
    return _send_one(rendered=rendered, to=old_email, shop=shop, event_id=event_id)


def order_link_send(*, event_id: uuid.UUID, order: Order) -> int:
    """E-mail the order's link to the e-mail it was placed with ("find my order")."""
    shop = _current_shop()
    rendered = email_render(
        kind=Kind.ORDER_LINK,
        subject=f"The link to your order #{order.number} at {shop.name}",
        context={
            "shop_name": shop.name,
            "sender_name": shop.name,
            "number": order.number,
            "order_url": order_url(shop_domain(shop), order),
        },
    )
    return _send_one(rendered=rendered, to=order.email, shop=shop, event_id=event_id)
