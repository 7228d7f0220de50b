"""
Templated e-mails sent exactly once in effect per (event, kind, recipient): the
one path of the order e-mails (orders.emails, in a shop's schema) and of the
platform's account e-mails (tenants.platform_emails, in public).

Each e-mail is rendered from a plain-text and an HTML template
(`<templates>/<kind>.txt|.html`, extending `email/_base.html`) and sent through
Django's e-mail backend from `DEFAULT_FROM_EMAIL` under a display name.

Sending is exactly once in effect per (event, kind, recipient), as the outbox
delivers each event at least once. A "sent" row (the caller's model: a table
with a unique (event_id, kind, recipient)) is inserted in a transaction, the
mail sent inside it, and the transaction committed only after the backend
accepted the mail:
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
"""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError, connection, transaction
from django.template.loader import render_to_string

from tenants.models import SentEmailRecord
from tenants.observability.tracing import traced
from tenants.persist import persist_with_retries

logger = logging.getLogger(__name__)


def one_line(text: str) -> str:
    """Header values (subject, display name) must not carry line breaks from shop or product names."""
    return " ".join(text.split())


# Every message of a batch has the same sender and Message-ID domain; parsing and
# formatting them per message was a visible part of the worker's share of an order.
@functools.lru_cache(maxsize=256)
def sender(display_name: str, from_email: str) -> str:
    """The From header: the platform's sending address under `display_name`."""
    address = parseaddr(from_email)[1] or from_email
    return str(Address(display_name=one_line(display_name), addr_spec=address))


@functools.lru_cache(maxsize=16)
def _message_id_domain(from_email: str, base_domain: str) -> str:
    return parseaddr(from_email)[1].rpartition("@")[2] or base_domain


@dataclass(frozen=True)
class Rendered:
    """One e-mail's subject and bodies, rendered once and sent to each of its recipients."""

    kind: str
    subject: str
    text: str
    html: str


def email_render(*, templates: str, kind: str, subject: str, context: dict[str, Any]) -> Rendered:
    """Render the e-mail `<templates>/<kind>`: plain text with an HTML alternative."""
    return Rendered(
        kind=kind,
        subject=one_line(subject),
        text=render_to_string(f"{templates}/{kind}.txt", context),
        html=render_to_string(f"{templates}/{kind}.html", context),
    )


def email_message(
    rendered: Rendered,
    *,
    to: str,
    from_email: str,
    connection: BaseEmailBackend,
    reply_to: list[str] | None = None,
) -> EmailMultiAlternatives:
    """The message of a rendered e-mail to one recipient, sent over `connection`."""
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=from_email,
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


def _sent_record(*, record: type[SentEmailRecord], event_id: uuid.UUID, kind: str, recipient: str) -> bool:
    """Write the (event, kind, recipient) row unless it is there; True if this call wrote it."""
    with connection.cursor() as cursor:
        # One statement claims the row or finds it taken; a concurrent run of the
        # same event waits here on the unique index.
        cursor.execute(
            f"INSERT INTO {record._meta.db_table} (event_id, kind, recipient, sent_at) "
            "VALUES (%s, %s, %s, now()) ON CONFLICT (event_id, kind, recipient) DO NOTHING RETURNING id",
            [event_id, kind, recipient],
        )
        return cursor.fetchone() is not None


def email_send_once(
    *, record: type[SentEmailRecord], event_id: uuid.UUID, kind: str, message: EmailMultiAlternatives
) -> bool:
    """
    Send a one-recipient message unless it was sent for this event already (a row
    of `record`, the current schema's table of sent e-mails); True if sent now.
    """
    (recipient,) = message.to
    message.extra_headers["Message-ID"] = email_message_id(event_id=event_id, kind=kind, recipient=recipient)
    sent = False
    try:
        with transaction.atomic(), traced("email.send", email_kind=kind, event_id=str(event_id)):
            if not _sent_record(record=record, event_id=event_id, kind=kind, recipient=recipient):
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
            lambda: _sent_record(record=record, event_id=event_id, kind=kind, recipient=recipient),
            what=f"the {kind} e-mail to {recipient} for event {event_id}",
        )
    logger.info("Sent %s to %s for event %s", kind, recipient, event_id)
    return True
