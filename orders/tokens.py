"""
The shopper's secrets, each bound to one shop (its schema is in every key or
salt, so nothing minted for shop A opens anything in shop B):

- sign-in JWTs of customer accounts: HS256 under a key derived from SECRET_KEY
  and the shop's schema, audience `storefleet-customer:<schema>`. The platform's
  JWTs are signed with SECRET_KEY itself and carry no audience, so neither kind
  verifies as the other.
- e-mailed links that verify an e-mail, reset a password or move the account to
  a new e-mail: Django's signed, timestamped values that also carry a
  fingerprint of the state they change (the e-mail's verification, the password
  hash, the e-mail itself), so a link works once: using it changes that state and
  every copy of the link stops matching.
- the order link `/orders/{number}?token=`: an HMAC of the order, which the
  worker writing the e-mail can compute (the checkout's own token derives from
  the cart id, which is never stored).
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.crypto import salted_hmac

from orders.errors import CustomerLinkInvalid
from orders.models import Customer, Order
from tenants.schemas import current_schema

ALGORITHM = "HS256"
ACCESS = "customer_access"
REFRESH = "customer_refresh"


def customer_audience(schema: str) -> str:
    return f"storefleet-customer:{schema}"


def _signing_key(schema: str) -> bytes:
    return salted_hmac("orders.customer-jwt", schema, algorithm="sha256").digest()


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def customer_tokens_mint(customer: Customer, *, now: dt.datetime | None = None) -> TokenPair:
    """A fresh access and refresh token for a customer of the current shop."""
    now = now or timezone.now()
    schema = current_schema()
    base = {
        "aud": customer_audience(schema),
        "sub": str(customer.pk),
        "gen": customer.token_generation,
        "iat": int(now.timestamp()),
    }

    def mint(kind: str, lifetime: dt.timedelta) -> str:
        claims = {
            **base,
            "token_type": kind,
            "jti": uuid.uuid4().hex,
            "exp": int((now + lifetime).timestamp()),
        }
        return jwt.encode(claims, _signing_key(schema), algorithm=ALGORITHM)

    return TokenPair(
        access=mint(ACCESS, dt.timedelta(minutes=settings.CUSTOMER_ACCESS_MINUTES)),
        refresh=mint(REFRESH, dt.timedelta(days=settings.CUSTOMER_REFRESH_DAYS)),
    )


class TokenRefused(Exception):
    """The token is not a valid customer token of this shop of the expected kind."""


def customer_token_read(token: str, *, kind: str) -> dict[str, Any]:
    """The claims of a customer token of the current shop, or TokenRefused."""
    schema = current_schema()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            _signing_key(schema),
            algorithms=[ALGORITHM],
            audience=customer_audience(schema),
            options={"require": ["exp", "iat", "sub", "aud", "jti"]},
        )
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise TokenRefused(str(exc)) from None
    if claims.get("token_type") != kind or not str(claims["sub"]).isdigit():
        raise TokenRefused("Not a token of this kind.")
    return claims


def token_still_valid(customer: Customer, claims: dict[str, Any]) -> bool:
    """False for a token issued before the customer's password last changed, or they last signed out."""
    return claims.get("gen") == customer.token_generation


# --- e-mailed links: verify the e-mail, reset the password ------------------------------

VERIFY = "verify-email"
PASSWORD_RESET = "password-reset"
EMAIL_CHANGE = "email-change"


def _fingerprint(customer: Customer, purpose: str) -> str:
    """What a link changes: once used, this differs and the link no longer matches."""
    # An e-mail change moves `customer.email`, which every fingerprint covers; the
    # password is in its state too, so a password reset ends a pending change.
    state = (
        customer.password if purpose in (PASSWORD_RESET, EMAIL_CHANGE) else str(customer.email_verified_at)
    )
    return salted_hmac(f"orders.customer-link.{purpose}", f"{customer.email}\n{state}").hexdigest()[:24]


def _salt(purpose: str) -> str:
    return f"orders.customer-link.{purpose}:{current_schema()}"


def customer_link_token(customer: Customer, *, purpose: str, email: str | None = None) -> str:
    """The token of an e-mailed link for `purpose`, valid once; EMAIL_CHANGE names the new `email`."""
    value: dict[str, Any] = {"c": customer.pk, "f": _fingerprint(customer, purpose)}
    if email is not None:
        value["e"] = email
    return signing.dumps(value, salt=_salt(purpose))


def customer_link_read(token: str, *, purpose: str, max_age: dt.timedelta) -> int:
    """The customer id a link's token names (checked: signed here, for this purpose, not expired)."""
    return int(_link_value(token, purpose=purpose, max_age=max_age)["c"])


def customer_link_email(token: str) -> str:
    """The new e-mail an EMAIL_CHANGE link names (its token already checked by customer_link_read)."""
    value = signing.loads(token, salt=_salt(EMAIL_CHANGE))
    email = value.get("e") if isinstance(value, dict) else None
    if not isinstance(email, str) or not email:
        raise CustomerLinkInvalid("This link is not valid.")
    return email


def _link_value(token: str, *, purpose: str, max_age: dt.timedelta) -> dict[str, Any]:
    try:
        value = signing.loads(token, salt=_salt(purpose), max_age=max_age)
    except signing.SignatureExpired:
        raise CustomerLinkInvalid("This link has expired; ask for a new one.") from None
    except (signing.BadSignature, ValueError, UnicodeError):
        raise CustomerLinkInvalid("This link is not valid.") from None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("c"), int)
        or not isinstance(value.get("f"), str)
    ):
        raise CustomerLinkInvalid("This link is not valid.")
    return value


def customer_link_matches(customer: Customer, token: str, *, purpose: str) -> bool:
    """Whether the link was made for the customer as they are now (unused)."""
    value = signing.loads(token, salt=_salt(purpose))  # already checked by customer_link_read
    return hmac.compare_digest(str(value["f"]).encode(), _fingerprint(customer, purpose).encode())


# --- the order link ---------------------------------------------------------------------


def order_link_token(order: Order) -> str:
    """The token of the order's link in e-mails: opens the order as the checkout's token does."""
    digest = salted_hmac(
        "orders.order-link", f"{current_schema()}\n{order.pk}\n{order.token_hash}", algorithm="sha256"
    ).digest()
    return "l" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def order_link_matches(order: Order, token: str) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters, which a query string may carry.
    return hmac.compare_digest(order_link_token(order).encode(), token.encode("utf-8", "surrogatepass"))


def storefront_url(domain: str, path: str) -> str:
    """An absolute URL on a shop's storefront (its primary domain)."""
    return settings.STOREFRONT_ORIGIN_TEMPLATE.format(domain=domain) + path
