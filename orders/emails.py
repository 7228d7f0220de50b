"""
The order e-mails: the confirmation to the shopper, the new-order notice to the
shop's owners and admins, the shipping notice. Each is rendered from a plain-text
and an HTML template (`orders/templates/orders/email/<kind>.txt|.html`) and sent
through Django's e-mail backend, from `DEFAULT_FROM_EMAIL` under the shop's name.

Sending is exactly once in effect per (event, kind, recipient), as the outbox
delivers each event at least once. The `SentEmail` row is inserted in a
transaction, the mail sent inside it, and the transaction committed only after
the backend accepted the mail:
- a send that raises rolls the row back, so the retry sends it (nothing lost);
- a run of the same event at the same time waits on the row's unique index and
  then skips it (nothing sent twice);
- a worker killed before the commit leaves no row (PostgreSQL rolls back), so the
  retry sends it;
- a session that dies between the send and the commit (a restarted database, a
  terminated backend) loses the row with it: the row is then written again on a
  fresh connection, retried for up to OUTCOME_RECORD_SECONDS, before the handler
  goes on, so the retry of the event finds it and sends nothing.
What remains is a worker killed in the moment between the SMTP server's
acceptance and the commit, or a database down for longer than the retries: the
mail then goes again, with the same deterministic `Message-ID`
(`email_message_id`), which mail servers and clients use to collapse the copies.
The opposite order (commit the row, then send) would lose the mail instead.
The transaction is held for one SMTP exchange, which `EMAIL_TIMEOUT` bounds.

A worker sends a batch of events' e-mails over one backend connection (one SMTP
session), and renders each template once per order, not once per recipient.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError, connection, transaction
from django.template.loader import render_to_string

from orders.models import Order, SentEmail
from tenants.conventions.money import Money
from tenants.models import Membership, Shop
from tenants.persist import persist_with_retries
from tenants.schemas import current_schema

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


def _one_line(text: str) -> str:
    # Header values (subject, display name) must not carry line breaks from shop or product names.
    return " ".join(text.split())


def _current_shop() -> Shop:
    # The worker's connection is on the event's schema; the Shop row is read
    # fresh rather than trusted from a cached `connection.tenant`.
    return Shop.objects.get(schema_name=current_schema())


def shop_sender(shop: Shop) -> str:
    """The From header: the platform's sending address with the shop's name as display name."""
    return _sender(shop.name, settings.DEFAULT_FROM_EMAIL)


# Every message of a batch has the same sender and Message-ID domain; parsing and
# formatting them per message was a visible part of the worker's share of an order.
@functools.lru_cache(maxsize=256)
def _sender(shop_name: str, from_email: str) -> str:
    address = parseaddr(from_email)[1] or from_email
    return str(Address(display_name=_one_line(shop_name), addr_spec=address))


@functools.lru_cache(maxsize=16)
def _message_id_domain(from_email: str, base_domain: str) -> str:
    return parseaddr(from_email)[1].rpartition("@")[2] or base_domain


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


def _order_context(shop: Shop, order: Order) -> dict[str, Any]:
    currency = order.currency
    return {
        "shop_name": shop.name,
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
    }


@dataclass(frozen=True)
class Rendered:
    """One e-mail's subject and bodies, rendered once and sent to each of its recipients."""

    kind: str
    subject: str
    text: str
    html: str


def email_render(*, kind: str, subject: str, context: dict[str, Any]) -> Rendered:
    """Render an e-mail of `kind`: plain text with an HTML alternative."""
    return Rendered(
        kind=kind,
        subject=_one_line(subject),
        text=render_to_string(f"{TEMPLATES}/{kind}.txt", context),
        html=render_to_string(f"{TEMPLATES}/{kind}.html", context),
    )


def email_message(
    rendered: Rendered,
    *,
    to: str,
    shop: Shop,
    connection: BaseEmailBackend,
    reply_to: list[str] | None = None,
) -> EmailMultiAlternatives:
    """The message of a rendered e-mail to one recipient, sent over `connection`."""
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=shop_sender(shop),
        to=[to],
        reply_to=reply_to or None,
        connection=connection,
    )
    message.attach_alternative(rendered.html, "text/html")
    return message


def email_message_id(*, event_id: uuid.UUID, kind: str, recipient: str) -> str:
    """The `Message-ID` of the e-mail of `kind` to `recipient` for an event: the same on every send."""
    key = uuid.uuid5(event_id, f"{kind}:{recipient.lower()}")
    return f"<{key}@{_message_id_domain(settings.DEFAULT_FROM_EMAIL, settings.SHOP_BASE_DOMAIN)}>"


def _sent_record(*, event_id: uuid.UUID, kind: str, recipient: str) -> bool:
    """Write the (event, kind, recipient) row unless it is there; True if this call wrote it."""
    with connection.cursor() as cursor:
        # One statement claims the row or finds it taken; a concurrent run of the
        # same event waits here on the unique index.
        cursor.execute(
            f"INSERT INTO {SentEmail._meta.db_table} (event_id, kind, recipient, sent_at) "
            "VALUES (%s, %s, %s, now()) ON CONFLICT (event_id, kind, recipient) DO NOTHING RETURNING id",
            [event_id, kind, recipient],
        )
        return cursor.fetchone() is not None


def email_send_once(*, event_id: uuid.UUID, kind: str, message: EmailMultiAlternatives) -> bool:
    """Send a one-recipient message unless it was sent for this event already; True if sent now."""
    (recipient,) = message.to
    message.extra_headers["Message-ID"] = email_message_id(event_id=event_id, kind=kind, recipient=recipient)
    sent = False
    try:
        with transaction.atomic():
            if not _sent_record(event_id=event_id, kind=kind, recipient=recipient):
                return False
            # Raises on failure, rolling the row back so that the event's retry sends it.
            message.send()
            sent = True
    except DatabaseError:
        if not sent:
            raise
        # Sent, but the session died before the row committed: write it on a fresh one.
        logger.warning(
            "Recording %s to %s for event %s again after a database error", kind, recipient, event_id
        )
        persist_with_retries(
            lambda: _sent_record(event_id=event_id, kind=kind, recipient=recipient),
            what=f"the {kind} e-mail to {recipient} for event {event_id}",
        )
    logger.info("Sent %s to %s for event %s", kind, recipient, event_id)
    return True


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
    sent = 0
    with get_connection() as mail:
        for event_id, order in placed:
            context = _order_context(shop, order)
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


def shipping_notices_send(*, fulfilled: Sequence[OrderEvent]) -> int:
    """For each (order.fulfilled event, order): tell the shopper it has shipped; replies go to the owners."""
    if not fulfilled:
        return 0
    shop = _current_shop()
    owners = shop_staff(shop).owners
    sent = 0
    with get_connection() as mail:
        for event_id, order in fulfilled:
            notice = email_render(
                kind=Kind.SHIPPING_NOTICE,
                subject=f"Your order #{order.number} from {shop.name} has shipped",
                context=_order_context(shop, order),
            )
            message = email_message(notice, to=order.email, shop=shop, connection=mail, reply_to=owners)
            sent += email_send_once(event_id=event_id, kind=notice.kind, message=message)
    return sent
