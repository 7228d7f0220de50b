"""
Typed access to what the request carries beside its HTTP: the shop of the host
(`request.tenant`, set by tenants.middleware) and the signed-in platform user
(`request.user`, set by authentication). Each takes Django's HttpRequest or
DRF's Request (which passes these attributes through to the one it wraps).
"""

from __future__ import annotations

from tenants.models import Shop, User


def request_shop_or_none(request: object) -> Shop | None:
    """The shop whose host the request came to; None on the platform host and for health checks."""
    shop = getattr(request, "tenant", None)
    return shop if isinstance(shop, Shop) else None


def request_shop(request: object) -> Shop:
    """The shop whose host the request came to, in a view served only on shops' hosts."""
    shop = request_shop_or_none(request)
    if shop is None:
        raise LookupError("No shop: this is served only on a shop's host.")
    return shop


def request_user(request: object) -> User:
    """The signed-in platform user, in a view whose permissions let only such a user in."""
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        raise LookupError("No platform user: this view needs its permissions to require one.")
    return user
