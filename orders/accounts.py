"""
Shopper accounts of one shop (the customers in its schema): sign-up, sign-in
tokens and signing out, e-mail verification, password reset, e-mail change,
saved addresses, re-order, and the order link sent again on request. Each write
is one transaction; the e-mails go out from workers through the outbox
(orders.handlers), so a request never waits on a mail server and answers alike
whether or not the e-mail exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from catalog.errors import InsufficientStock, VariantUnavailable
from orders import carts, tokens
from orders.errors import (
    CustomerAddressLimit,
    CustomerEmailTaken,
    CustomerLinkInvalid,
    CustomerPasswordWeak,
)
from orders.models import Customer, CustomerAddress, CustomerRefreshSpent, Order
from tenants.audit.services import Actor, audit_record
from tenants.errors import DomainError, PasswordIncorrect
from tenants.outbox.events import EventType
from tenants.outbox.services import event_record

MAX_ADDRESSES = 20


def email_normalise(email: str) -> str:
    """The e-mail as checkout stores it (orders.services.order_place): stripped, lower case."""
    return email.strip().lower()


def customer_actor(customer: Customer) -> Actor:
    return Actor(type="customer", id=customer.pk, label=customer.email)


def _password_check(password: str, customer: Customer) -> None:
    try:
        validate_password(password, user=customer)  # type: ignore[arg-type]  # any object with email and name
    except DjangoValidationError as exc:
        raise CustomerPasswordWeak(
            "The password is too weak.", errors={"password": list(exc.messages)}
        ) from exc


def customer_signup(*, email: str, password: str, name: str = "", _retried: bool = False) -> Customer:
    """
    Open an account in this shop. A guest who ordered with this e-mail becomes
    the account holder (their past orders show once the e-mail is verified); an
    account that exists already is refused. A verification e-mail follows.
    """
    email = email_normalise(email)
    now = timezone.now()
    try:
        with transaction.atomic():
            customer = Customer.objects.select_for_update().filter(email=email).first()
            if customer is not None and customer.has_account:
                raise CustomerEmailTaken(
                    f"An account with {email} exists in this shop: sign in, or reset its password."
                )
            if customer is None:
                customer = Customer(email=email, name=name)
            elif name:
                customer.name = name
            _password_check(password, customer)
            customer.password = make_password(password)
            customer.signed_up_at = now
            customer.save()
            audit_record(
                actor=customer_actor(customer),
                action="customer.signed_up",
                object_type="customer",
                object_id=customer.pk,
                after={"email": email},
            )
            event_record(type=EventType.CUSTOMER_SIGNED_UP, payload={"customer_id": customer.pk})
    except IntegrityError:
        # Another sign-up (or a guest checkout) wrote the e-mail first: try once more with that row.
        if _retried or Customer.objects.filter(email=email).exclude(password="").exists():
            raise CustomerEmailTaken(f"An account with {email} exists in this shop.") from None
        return customer_signup(email=email, password=password, name=name, _retried=True)
    return customer


# A hash to check against when there is no account, so that "no such account" takes as
# long as "wrong password" (Django's own ModelBackend does the same).
_absent_password = ""


def customer_sign_in(*, email: str, password: str) -> Customer | None:
    """The account with this e-mail and password, or None (no account and wrong password alike)."""
    global _absent_password
    customer = Customer.objects.filter(email=email_normalise(email)).exclude(password="").first()
    if customer is None:
        _absent_password = _absent_password or make_password(None)
        check_password(password, _absent_password)
        return None
    return customer if check_password(password, customer.password) else None


def customer_tokens_refresh(*, refresh: str) -> tuple[Customer, tokens.TokenPair] | None:
    """
    Spend a refresh token for a new pair; None when it is not one of this shop's,
    expired, issued before the password changed, or already spent.
    """
    try:
        claims = tokens.customer_token_read(refresh, kind=tokens.REFRESH)
    except tokens.TokenRefused:
        return None
    customer = customer_account(customer_id=int(claims["sub"]))
    if customer is None or not tokens.token_still_valid(customer, claims):
        return None
    expires_at = dt.datetime.fromtimestamp(int(claims["exp"]), tz=dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CustomerRefreshSpent._meta.db_table} (jti, expires_at) VALUES (%s, %s) "
            "ON CONFLICT (jti) DO NOTHING RETURNING jti",
            [str(claims["jti"])[:64], expires_at],
        )
        if cursor.fetchone() is None:
            return None
        # The spent tokens past their expiry are useless anyway: forget a few with each refresh.
        cursor.execute(
            f"DELETE FROM {CustomerRefreshSpent._meta.db_table} WHERE jti IN ("
            f"SELECT jti FROM {CustomerRefreshSpent._meta.db_table} WHERE expires_at < now() LIMIT 100)"
        )
    return customer, tokens.customer_tokens_mint(customer)


def customer_account(*, customer_id: int) -> Customer | None:
    """The customer with an account by id, or None (a guest has none)."""
    if not 0 < customer_id < 2**63:
        return None
    return Customer.objects.filter(pk=customer_id).exclude(password="").first()


def customer_update(*, customer: Customer, name: str | None = None) -> Customer:
    """Change the profile (the e-mail is the account's identity and stays)."""
    if name is not None and name != customer.name:
        customer.name = name
        customer.save(update_fields=["name"])
    return customer


def customer_verification_request(*, customer: Customer) -> None:
    """E-mail the verification link again (nothing when the e-mail is verified already)."""
    if customer.email_verified_at is None:
        with transaction.atomic():
            event_record(type=EventType.CUSTOMER_VERIFICATION_REQUESTED, payload={"customer_id": customer.pk})


def _customer_by_link(token: str, *, purpose: str, max_age: dt.timedelta) -> Customer:
    """The customer an unused, unexpired link of this shop names, locked for the change it makes."""
    customer_id = tokens.customer_link_read(token, purpose=purpose, max_age=max_age)
    customer = Customer.objects.select_for_update().filter(pk=customer_id).exclude(password="").first()
    if customer is None or not tokens.customer_link_matches(customer, token, purpose=purpose):
        raise CustomerLinkInvalid("This link is not valid, or it was used already.")
    return customer


def customer_email_verify(*, token: str) -> Customer:
    """Mark the account's e-mail verified from its e-mailed link (works once)."""
    with transaction.atomic():
        customer = _customer_by_link(
            token, purpose=tokens.VERIFY, max_age=dt.timedelta(hours=settings.CUSTOMER_VERIFY_LINK_HOURS)
        )
        customer.email_verified_at = timezone.now()
        customer.save(update_fields=["email_verified_at"])
    return customer


def customer_password_reset_request(*, email: str) -> None:
    """
    Ask for a password-reset e-mail. The worker sends it only if the account
    exists; here the same event is written either way, so the answer and its
    timing say nothing about whether it does.
    """
    with transaction.atomic():
        event_record(
            type=EventType.CUSTOMER_PASSWORD_RESET_REQUESTED, payload={"email": email_normalise(email)}
        )


def customer_password_reset_confirm(*, token: str, password: str) -> Customer:
    """
    Set a new password from an e-mailed link (works once, expires). The e-mail is
    then verified too (the link reached it), and every token issued before is refused.
    """
    with transaction.atomic():
        customer = _customer_by_link(
            token,
            purpose=tokens.PASSWORD_RESET,
            max_age=dt.timedelta(hours=settings.CUSTOMER_RESET_LINK_HOURS),
        )
        _password_check(password, customer)
        now = timezone.now()
        customer.password = make_password(password)
        customer.token_generation += 1
        customer.email_verified_at = customer.email_verified_at or now
        customer.save(update_fields=["password", "token_generation", "email_verified_at"])
        audit_record(
            actor=customer_actor(customer),
            action="customer.password_reset",
            object_type="customer",
            object_id=customer.pk,
        )
    return customer


def customer_sign_out(*, customer: Customer) -> None:
    """
    Refuse every token the customer holds, in every process: the generation their
    tokens carry moves on (as a password reset does), so this signs out all their
    devices. A generation, not a deny-list of token ids: every request loads the
    customer already, it needs no store beside the database, and a refresh token
    the client forgot to send is refused as surely as the access token it sent.
    """
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(token_generation=F("token_generation") + 1)
        audit_record(
            actor=customer_actor(customer),
            action="customer.signed_out",
            object_type="customer",
            object_id=customer.pk,
        )


# --- e-mail change ----------------------------------------------------------------------


def customer_email_change_request(*, customer: Customer, email: str, password: str) -> None:
    """
    Send a link to the new address (with the password, so a device left signed in
    cannot move the account); the account keeps its e-mail until the link is followed.
    """
    if not check_password(password, customer.password):
        raise PasswordIncorrect("The password is wrong.", errors={"password": ["Wrong password."]})
    new_email = email_normalise(email)
    if new_email == customer.email:
        raise DomainError("That is the account's e-mail already.", errors={"email": ["Unchanged."]})
    if Customer.objects.filter(email=new_email).exists():
        raise CustomerEmailTaken(
            f"{new_email} belongs to another customer of this shop.", errors={"email": ["In use."]}
        )
    with transaction.atomic():
        event_record(
            type=EventType.CUSTOMER_EMAIL_CHANGE_REQUESTED,
            payload={"customer_id": customer.pk, "email": new_email},
        )


def customer_email_change_confirm(*, token: str) -> Customer:
    """
    Move the account to the e-mail its link was sent to (works once, expires): that
    e-mail is verified by it, and the old one is told of the change.
    """
    with transaction.atomic():
        customer = _customer_by_link(
            token,
            purpose=tokens.EMAIL_CHANGE,
            max_age=dt.timedelta(hours=settings.CUSTOMER_EMAIL_CHANGE_LINK_HOURS),
        )
        new_email = tokens.customer_link_email(token)
        if Customer.objects.filter(email=new_email).exclude(pk=customer.pk).exists():
            raise CustomerEmailTaken(f"{new_email} belongs to another customer of this shop.")
        old_email = customer.email
        customer.email = new_email
        customer.email_verified_at = timezone.now()
        customer.save(update_fields=["email", "email_verified_at"])
        audit_record(
            actor=customer_actor(customer),
            action="customer.email_changed",
            object_type="customer",
            object_id=customer.pk,
            before={"email": old_email},
            after={"email": new_email},
        )
        event_record(
            type=EventType.CUSTOMER_EMAIL_CHANGED,
            payload={"customer_id": customer.pk, "old_email": old_email},
        )
    return customer


# --- saved addresses -------------------------------------------------------------------

ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postal_code", "country")


def customer_address_create(*, customer: Customer, fields: dict[str, Any]) -> CustomerAddress:
    """Save an address; the first one, or one marked so, becomes the default."""
    with transaction.atomic():
        # Serialise this customer's address writes, so the limit and the one default hold.
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        count = CustomerAddress.objects.filter(customer=customer).count()
        if count >= MAX_ADDRESSES:
            raise CustomerAddressLimit(f"At most {MAX_ADDRESSES} addresses can be saved; delete one first.")
        make_default = bool(fields.get("is_default")) or count == 0
        if make_default:
            CustomerAddress.objects.filter(customer=customer, is_default=True).update(is_default=False)
        return CustomerAddress.objects.create(
            customer=customer,
            is_default=make_default,
            **{name: fields.get(name, "") for name in ADDRESS_FIELDS},
        )


def customer_address_update(*, address: CustomerAddress, fields: dict[str, Any]) -> CustomerAddress:
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=address.customer_id).first()
        changed = [
            name for name in ADDRESS_FIELDS if name in fields and fields[name] != getattr(address, name)
        ]
        for name in changed:
            setattr(address, name, fields[name])
        if fields.get("is_default") and not address.is_default:
            CustomerAddress.objects.filter(customer_id=address.customer_id, is_default=True).update(
                is_default=False
            )
            address.is_default = True
            changed.append("is_default")
        if changed:
            address.save(update_fields=changed)
    return address


def customer_address_delete(*, address: CustomerAddress) -> None:
    """Forget an address; if it was the default, the oldest one left becomes it."""
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=address.customer_id).first()
        address.delete()
        if address.is_default:
            oldest = CustomerAddress.objects.filter(customer_id=address.customer_id).order_by("id").first()
            if oldest is not None:
                oldest.is_default = True
                oldest.save(update_fields=["is_default"])


# --- re-order and the order link ---------------------------------------------------------


@dataclass(frozen=True)
class Reorder:
    cart: carts.CartView
    unavailable: list[str]  # SKUs of lines that could not go back in


def order_reorder(*, order: Order, cart_id: str | None, currency: str) -> Reorder:
    """
    Put an order's lines back into a cart (the given one, or a new one) at
    today's prices; lines no longer for sale, or not in stock in that quantity,
    are left out and named.
    """
    cart_id = cart_id or carts.cart_create()
    carts.cart_quantities(cart_id, for_change=True)  # an unknown or checked-out cart: refused first
    unavailable = []
    for line in order.lines.all():
        if line.variant_id is None:
            unavailable.append(line.sku)
            continue
        try:
            carts.cart_item_add(
                cart_id, variant_id=line.variant_id, quantity=line.quantity, currency=currency
            )
        except (VariantUnavailable, InsufficientStock):
            unavailable.append(line.sku)
    return Reorder(cart=carts.cart_view(cart_id, currency=currency), unavailable=unavailable)


def order_link_request(*, email: str, number: int) -> None:
    """
    Ask for an order's link by e-mail. The same event is written whether or not
    the order exists or the e-mail matches (the worker checks and sends only on a
    match), so neither the answer nor its timing tells them apart.
    """
    with transaction.atomic():
        event_record(
            type=EventType.ORDER_LINK_REQUESTED, payload={"email": email_normalise(email), "number": number}
        )
