"""
Who is calling: platform users with JWTs, third parties with per-shop API keys,
and the one permission class every Admin API view uses to check what they may do.
"""

from __future__ import annotations

import hmac
import re
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication

from tenants.api_keys import api_key_hash
from tenants.audit.services import Actor
from tenants.http import request_shop_or_none
from tenants.models import ApiKey, Membership

API_KEY_KEYWORD = "Api-Key"
API_KEY_PATTERN = re.compile(r"^sf_(?P<prefix>[0-9a-f]{12})_[A-Za-z0-9_-]{20,100}$")
# Touch `last_used_at` at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key sf_<prefix>_<secret>`, valid only on its own shop's host."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiKey] | None:
        header = request.headers.get("Authorization", "")
        keyword, _, key = header.partition(" ")
        if keyword != API_KEY_KEYWORD:
            return None
        key = key.strip()
        match = API_KEY_PATTERN.match(key)
        if match is None:
            raise AuthenticationFailed("Malformed API key.")
        shop = request_shop_or_none(request)
        if shop is None:
            raise AuthenticationFailed("API keys work only on a shop's host.")
        api_key = (
            ApiKey.objects.filter(prefix=match["prefix"], shop_id=int(shop.pk), revoked_at__isnull=True)
            .only("id", "shop_id", "scopes", "secret_hash", "last_used_at", "name")
            .first()
        )
        # Compare even when no row matched, so timing does not tell which prefixes exist.
        expected = api_key.secret_hash if api_key else api_key_hash("")
        if not hmac.compare_digest(expected, api_key_hash(key)) or api_key is None:
            raise AuthenticationFailed("Invalid or revoked API key for this shop.")
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return f'{API_KEY_KEYWORD} realm="admin"'


class ShopJWTAuthentication(JWTAuthentication):
    """A platform user's JWT; whether it opens this shop is ShopAccess's call."""


class ShopAccess(BasePermission):
    """
    The Admin API's one gate. A view names the scope each method needs in
    `required_scopes` (e.g. {"GET": "catalog:read", "POST": "catalog:write"}),
    or restricts itself to members with `member_roles`. API keys need the
    method's scope; platform users need a membership in this shop, and one of
    the view's `member_roles` if it sets them.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        scope = getattr(view, "required_scopes", {}).get(method)
        roles = getattr(view, "member_roles", None)
        if scope is None and roles is None:
            raise PermissionDenied(f"{request.method} is not allowed on this resource.")
        if isinstance(request.auth, ApiKey):
            if scope is None:
                raise PermissionDenied("This action is for shop members, not API keys.")
            if scope not in request.auth.scopes:
                raise PermissionDenied(f"This API key lacks the `{scope}` scope.")
            return True
        user = request.user
        if user is None or not user.is_authenticated:
            return False  # DRF answers 401 with the authenticators' challenge
        membership = shop_membership(request)
        if membership is None:
            raise PermissionDenied("You are not a member of this shop.")
        if roles is not None and membership.role not in roles:
            raise PermissionDenied(f"This action needs one of the roles: {', '.join(sorted(roles))}.")
        return True


def shop_membership(request: Request) -> Membership | None:
    """Return (and remember on the request) the caller's membership in this host's shop."""
    if not hasattr(request, "_shop_membership"):
        shop = request_shop_or_none(request)
        user_id = request.user.pk if request.user is not None else None
        request._shop_membership = (  # type: ignore[attr-defined]
            Membership.objects.filter(user_id=user_id, shop_id=shop.pk).first()
            if shop is not None and user_id is not None
            else None
        )
    return request._shop_membership  # type: ignore[attr-defined]


def request_actor(request: Request) -> Actor:
    """Return who is acting, for the audit log: the API key or the signed-in user."""
    if isinstance(request.auth, ApiKey):
        return Actor(type="api_key", id=request.auth.pk, label=f"API key {request.auth.name}")
    user = request.user
    if user is not None and user.is_authenticated:
        return Actor(type="user", id=user.pk, label=str(getattr(user, "email", user.pk)))
    return Actor.system("anonymous")
