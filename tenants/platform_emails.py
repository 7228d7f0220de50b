"""
The platform's account e-mails, sent by a worker for the public schema's outbox
events (tenants.accounts records them): password reset, e-mail change and staff
invitations. Same path as the order e-mails (tenants.mail: templates, one SMTP
session per batch, exactly once in effect per event and recipient), with the
public `PlatformEmail` rows. Each link's token is computed here, at sending, from
the rows the event names; a superseded or closed request sends nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from django.utils.timesince import timeuntil

from tenants import accounts, mail
from tenants.models import Invitation, PlatformEmail, User
from tenants.outbox.events import EventType
from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import event_handler

logger = logging.getLogger(__name__)

TEMPLATES = "tenants/email"
SENDER_NAME = "Storefleet"
Kind = PlatformEmail.Kind


def admin_link(page: str, token: str) -> str:
    """A link to a page of the admin SPA carrying a token (`/app/<page>?token=`)."""
    return f"{settings.ADMIN_APP_URL}/{page}?{urlencode({'token': token})}"


def _valid_for() -> str:
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT), now)


def _send(
    event: OutboxEvent,
    *,
    kind: str,
    to: str,
    subject: str,
    context: dict[str, object],
    connection: BaseEmailBackend,
) -> bool:
    rendered = mail.email_render(
        templates=TEMPLATES, kind=kind, subject=subject, context={"sender_name": SENDER_NAME, **context}
    )
    message = mail.email_message(
        rendered,
        to=to,
        from_email=mail.sender(SENDER_NAME, settings.DEFAULT_FROM_EMAIL),
        connection=connection,
    )
    return mail.email_send_once(record=PlatformEmail, event_id=event.pk, kind=kind, message=message)


def _users(events: list[OutboxEvent]) -> dict[int, User]:
    ids = {int(event.payload["user_id"]) for event in events}
    return {user.pk: user for user in User.objects.filter(pk__in=ids, is_active=True)}


@event_handler(EventType.ACCOUNT_PASSWORD_RESET_REQUESTED)
def send_password_reset_links(events: list[OutboxEvent]) -> None:
    """E-mail each account that asked its password-reset link."""
    users = _users(events)
    with get_connection() as connection:
        for event in events:
            user = users.get(int(event.payload["user_id"]))
            if user is None:
                continue  # disabled or gone since: nothing to reset
            _send(
                event,
                kind=Kind.PASSWORD_RESET,
                to=user.email,
                subject=f"Reset your {SENDER_NAME} password",
                context={
                    "email": user.email,
                    "link": admin_link("reset-password", accounts.password_reset_token(user)),
                    "valid_for": _valid_for(),
                },
                connection=connection,
            )


@event_handler(EventType.ACCOUNT_EMAIL_CHANGE_REQUESTED)
def send_email_change_links(events: list[OutboxEvent]) -> None:
    """E-mail each new address its confirmation link (to the new address only)."""
    users = _users(events)
    with get_connection() as connection:
        for event in events:
            user = users.get(int(event.payload["user_id"]))
            new_email = str(event.payload["email"])
            if user is None or user.email == new_email:
                continue
            _send(
                event,
                kind=Kind.EMAIL_CHANGE,
                to=new_email,
                subject=f"Confirm your new {SENDER_NAME} e-mail address",
                context={
                    "email": new_email,
                    "link": admin_link("confirm-email", accounts.email_change_token(user, new_email)),
                    "valid_for": _valid_for(),
                },
                connection=connection,
            )


@event_handler(EventType.INVITATION_SENT)
def send_invitations(events: list[OutboxEvent]) -> None:
    """E-mail each invitation still open with the nonce its event names (a resend has an event of its own)."""
    ids = {int(event.payload["invitation_id"]) for event in events}
    invitations = {
        invitation.pk: invitation
        for invitation in Invitation.objects.filter(pk__in=ids).select_related("shop", "invited_by")
    }
    with get_connection() as connection:
        for event in events:
            invitation = invitations.get(int(event.payload["invitation_id"]))
            if (
                invitation is None
                or invitation.status != "pending"
                or invitation.nonce != event.payload["nonce"]
            ):
                continue
            inviter = invitation.invited_by
            _send(
                event,
                kind=Kind.INVITATION,
                to=invitation.email,
                subject=f"Join {invitation.shop.name} on {SENDER_NAME}",
                context={
                    "shop_name": invitation.shop.name,
                    "role": invitation.role,
                    "inviter": (inviter.name or inviter.email) if inviter else invitation.shop.name,
                    "link": admin_link("accept-invitation", accounts.invitation_token(invitation)),
                    "expires_at": invitation.expires_at,
                },
                connection=connection,
            )
