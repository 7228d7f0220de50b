"""
Platform accounts by e-mailed link: password reset, e-mail change, and staff
invitations (which create the account when the address has none).

Every link carries a token that works once and expires, and none is stored:
- a password-reset token is Django's (PasswordResetTokenGenerator): an HMAC of
  the user's id, password hash, last login and e-mail with a time stamp, dead
  once the password changes or PASSWORD_RESET_TIMEOUT passes;
- an e-mail-change token is a signed (user, new address, fingerprint of the
  current address and password hash), dead once either changes or after
  PASSWORD_RESET_TIMEOUT;
- an invitation token is an HMAC of the invitation's id and its current nonce:
  dead once accepted or revoked, after INVITATION_DAYS, or when a resend draws a
  new nonce.
So the outbox events that ask for the e-mails hold ids, never tokens; the worker
computes the token when it sends (tenants.platform_emails).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from tenants import hooks
from tenants.errors import (
    AlreadyAMember,
    DomainError,
    EmailTaken,
    InvitationClosed,
    LinkInvalid,
    NotAllowed,
    PasswordIncorrect,
    ShopDeleting,
)
from tenants.models import Invitation, Membership, Shop, User
from tenants.outbox.events import EventType
from tenants.outbox.services import event_record
from tenants.services import MANAGERS, audit_in_shop, members_lock

_reset_tokens = PasswordResetTokenGenerator()
_EMAIL_CHANGE_SALT = "tenants.accounts.email_change"


def _email_normalise(email: str) -> str:
    return User.objects.normalize_email(email).strip().lower()


def _password_check(password: str, *, user: User) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise DomainError("The password is too weak.", errors={"password": list(exc.messages)}) from exc


def _sessions_end(user: User) -> None:
    """Blacklist every refresh token the user holds: a new password ends every session."""
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )


# --- Password reset ------------------------------------------------------------------


def password_reset_token(user: User) -> str:
    """A fresh reset token for the user: `<id, base64>.<Django's token>`."""
    return f"{urlsafe_base64_encode(force_bytes(user.pk))}.{_reset_tokens.make_token(user)}"


def password_reset_token_account(token: object) -> str | None:
    """The account part of a reset token (its throttling key), or None."""
    if not isinstance(token, str) or "." not in token:
        return None
    return f"reset:{token.partition('.')[0][:24]}"


def password_reset_request(*, email: str) -> None:
    """E-mail a reset link if an active account uses `email`; the caller says 202 either way."""
    user = User.objects.filter(email=_email_normalise(email), is_active=True).first()
    if user is None:
        return
    with transaction.atomic():
        event_record(type=EventType.ACCOUNT_PASSWORD_RESET_REQUESTED, payload={"user_id": user.pk})


def _user_for_reset_token(token: str) -> User:
    invalid = LinkInvalid("This password-reset link is not valid: it was used, has expired or is wrong.")
    encoded_id, _, reset_token = token.partition(".")
    try:
        user_id = int(force_str(urlsafe_base64_decode(encoded_id)))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise invalid from None
    if not 0 < user_id < 2**63:
        raise invalid
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not _reset_tokens.check_token(user, reset_token):
        raise invalid
    return user


def password_reset_confirm(*, token: str, password: str) -> User:
    """Set a new password through a reset link (once); every session of the account ends."""
    user = _user_for_reset_token(token)
    _password_check(password, user=user)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        # Checked again under the lock: two confirms of one link race, and only one may pass.
        _user_for_reset_token(token)
        user.set_password(password)
        user.save(update_fields=["password"])
        _sessions_end(user)
    return user


# --- E-mail change -------------------------------------------------------------------


def _email_fingerprint(user: User) -> str:
    return salted_hmac(f"{_EMAIL_CHANGE_SALT}.fingerprint", f"{user.email}\n{user.password}").hexdigest()[:32]


def email_change_token(user: User, new_email: str) -> str:
    """A signed token that moves the account to `new_email` while its address and password are unchanged."""
    return signing.dumps(
        {"u": user.pk, "e": new_email, "f": _email_fingerprint(user)}, salt=_EMAIL_CHANGE_SALT
    )


def email_change_request(*, user: User, email: str, password: str) -> None:
    """Send a confirmation link to the new address; the account keeps its address until it is followed."""
    if not user.check_password(password):
        raise PasswordIncorrect("The password is wrong.", errors={"password": ["Wrong password."]})
    new_email = _email_normalise(email)
    if new_email == user.email:
        raise DomainError("That is the account's address already.", errors={"email": ["Unchanged."]})
    if User.objects.filter(email=new_email).exists():
        raise EmailTaken(f"An account with {new_email} already exists.", errors={"email": ["In use."]})
    with transaction.atomic():
        event_record(
            type=EventType.ACCOUNT_EMAIL_CHANGE_REQUESTED, payload={"user_id": user.pk, "email": new_email}
        )


def email_change_confirm(*, token: str) -> User:
    """Move the account to the address the link was sent to (once)."""
    invalid = LinkInvalid("This confirmation link is not valid: it was used, has expired or is wrong.")
    try:
        claims = signing.loads(token, salt=_EMAIL_CHANGE_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT)
    except signing.BadSignature:
        raise invalid from None
    if (
        not isinstance(claims, dict)
        or not isinstance(claims.get("u"), int)
        or not isinstance(claims.get("e"), str)
    ):
        raise invalid
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=claims["u"], is_active=True).first()
        if user is None or not hmac.compare_digest(str(claims.get("f", "")), _email_fingerprint(user)):
            raise invalid
        if User.objects.filter(email=claims["e"]).exclude(pk=user.pk).exists():
            raise EmailTaken(f"An account with {claims['e']} already exists.")
        user.email = claims["e"]
        user.save(update_fields=["email"])
    return user


# --- Invitations -----------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    """The invitation's link token: its id and an HMAC of the id with the current nonce."""
    digest = salted_hmac(
        "tenants.accounts.invitation", f"{invitation.pk}:{invitation.nonce}", algorithm="sha256"
    )
    return f"{invitation.pk}.{digest.hexdigest()}"


def invitation_token_account(token: object) -> str | None:
    """The invitation part of a token (its throttling key), or None."""
    if not isinstance(token, str) or "." not in token:
        return None
    return f"invitation:{token.partition('.')[0][:20]}"


def _invitation_send(invitation: Invitation) -> None:
    """Draw a new nonce (killing the link sent before), restart its time and queue the e-mail."""
    now = timezone.now()
    invitation.nonce = secrets.token_hex(16)
    invitation.sent_at = now
    invitation.expires_at = now + timedelta(days=settings.INVITATION_DAYS)
    event_record(
        type=EventType.INVITATION_SENT, payload={"invitation_id": invitation.pk, "nonce": invitation.nonce}
    )


def _manager_check(by: Membership, role: str) -> None:
    if by.role not in MANAGERS:
        raise NotAllowed("Only the shop's owners and admins can invite members.")
    if role not in Membership.Role.values:
        raise DomainError(f"Unknown role {role!r}.", errors={"role": ["Choose owner, admin or staff."]})
    if role == Membership.Role.OWNER and by.role != Membership.Role.OWNER:
        raise NotAllowed("Only owners can invite an owner.")


def invitation_create(*, shop: Shop, by: Membership, email: str, role: str) -> Invitation:
    """
    Invite an address to the shop with a role (owners and admins; only owners
    invite owners). Inviting an address with an open invitation sends that one
    again with the new role. A shop whose staff seats are all taken is refused
    now (the `membership_adding` hooks), and again at acceptance.
    """
    _manager_check(by, role)
    email = _email_normalise(email)
    with transaction.atomic():
        members_lock(shop)
        if shop.status == Shop.Status.DELETING:
            raise ShopDeleting("This shop is being deleted.")
        if Membership.objects.filter(shop=shop, user__email=email).exists():
            raise AlreadyAMember(f"{email} is already a member of this shop.")
        hooks.membership_adding(shop=shop, role=role)
        invitation = Invitation.objects.filter(
            shop=shop, email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).first()
        if invitation is None:
            invitation = Invitation(shop=shop, email=email, invited_by=by.user, expires_at=timezone.now())
        invitation.role = role
        invitation.invited_by = by.user
        invitation.nonce = ""
        invitation.save()
        _invitation_send(invitation)
        invitation.save(update_fields=["nonce", "sent_at", "expires_at"])
        audit_in_shop(
            shop, by=by.user, action="invitation.sent", before={}, after={"email": email, "role": role}
        )
    return invitation


def invitation_resend(*, shop: Shop, by: Membership, invitation: Invitation) -> Invitation:
    """Send an open invitation again with a new link and a new expiry; the old link stops working."""
    _manager_check(by, invitation.role)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk, shop=shop)
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            raise InvitationClosed(f"This invitation was {invitation.status}; invite the address again.")
        _invitation_send(invitation)
        invitation.save(update_fields=["nonce", "sent_at", "expires_at"])
    return invitation


def invitation_revoke(*, shop: Shop, by: Membership, invitation: Invitation) -> Invitation:
    """Revoke an open invitation at once (revoking twice is harmless); an accepted one cannot be."""
    _manager_check(by, invitation.role)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk, shop=shop)
        if invitation.accepted_at is not None:
            raise InvitationClosed("This invitation was accepted; remove the member instead.")
        if invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
            audit_in_shop(
                shop, by=by.user, action="invitation.revoked", before={"email": invitation.email}, after={}
            )
    return invitation


def _invitation_by_token(token: str) -> Invitation:
    invalid = LinkInvalid("This invitation link is not valid: it was used, revoked, replaced or is wrong.")
    invitation_id, _, digest = token.partition(".")
    if not invitation_id.isascii() or not invitation_id.isdigit() or len(invitation_id) > 18 or not digest:
        raise invalid
    invitation = (
        Invitation.objects.select_for_update().select_related("shop").filter(pk=int(invitation_id)).first()
    )
    if invitation is None or not hmac.compare_digest(invitation_token(invitation), token):
        raise invalid
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise invalid
    if invitation.expires_at <= timezone.now():
        raise LinkInvalid("This invitation has expired; ask the shop to send it again.")
    return invitation


def invitation_accept(
    *, token: str, name: str = "", password: str | None = None
) -> tuple[Invitation, Membership, bool]:
    """
    Accept an invitation: create the account when its address has none (a name
    and a password are then needed), then the membership. Returns the invitation,
    the membership and whether the account was created now. The token proved the
    mailbox, so an existing account joins without its password.
    """
    with transaction.atomic():
        invitation = _invitation_by_token(token)
        shop = invitation.shop
        if shop.status == Shop.Status.DELETING:
            raise ShopDeleting("This shop is being deleted.")
        user = User.objects.filter(email=invitation.email).first()
        created = user is None
        if user is None:
            if not password:
                raise DomainError(
                    "Choose a password for the new account.",
                    errors={"password": ["Required for a new account."]},
                )
            candidate = User(email=invitation.email, name=name)
            _password_check(password, user=candidate)
            user = User.objects.create_user(email=invitation.email, password=password, name=name)
        elif not user.is_active:
            raise NotAllowed("This account is disabled.")
        members_lock(shop)
        membership = Membership.objects.filter(shop=shop, user=user).first()
        if membership is None:
            hooks.membership_adding(shop=shop, role=invitation.role)
            membership = Membership.objects.create(shop=shop, user=user, role=invitation.role)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_in_shop(
            shop,
            by=user,
            action="invitation.accepted",
            before={},
            after={"email": user.email, "role": membership.role},
        )
    return invitation, membership, created
