"""The three kinds of API view; every endpoint derives from one of them."""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import QueryDict
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.serializers import Serializer
from rest_framework_simplejwt.authentication import JWTAuthentication

from tenants.api.auth import ApiKeyAuthentication, ShopAccess, ShopJWTAuthentication
from tenants.conventions.deprecation import Deprecation
from tenants.conventions.idempotency import idempotent
from tenants.http import request_shop


class MethodFirstAPIView(GenericAPIView):
    """
    Answer a method the resource does not have with 405 before authentication:
    the answer does not depend on who asks, and a client without credentials
    should not be told to sign in (or be refused) for a request that can never work.
    """

    # Set on a view on its way out (docs/api.md): its answers then say so in headers.
    deprecation: ClassVar[Deprecation | None] = None

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.deprecation is not None:
            for name, value in self.deprecation.headers().items():
                response[name] = value
        return response

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        method = (request.method or "").lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise MethodNotAllowed(request.method or "")
        super().initial(request, *args, **kwargs)


class PlatformAPIView(MethodFirstAPIView):
    """Platform API (platform host): a signed-in platform user."""

    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]


class StorefrontAPIView(MethodFirstAPIView):
    """Storefront API (shop host): anonymous shoppers."""

    authentication_classes = []
    permission_classes = [AllowAny]


class AdminAPIView(MethodFirstAPIView):
    """
    Admin API (shop host): a member's JWT or an API key, checked by ShopAccess
    against `required_scopes`. Every `post` honours `Idempotency-Key`.
    """

    authentication_classes = [ShopJWTAuthentication, ApiKeyAuthentication]
    permission_classes = [ShopAccess]
    required_scopes: ClassVar[dict[str, str]] = {}
    member_roles: ClassVar[frozenset[str] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        post = cls.__dict__.get("post")
        if post is not None and not getattr(post, "idempotent", False):
            setattr(cls, "post", idempotent()(post))  # noqa: B010


def validated(
    serializer_class: type[Serializer],
    data: Any,
    *,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate request data with an input serializer; raise a 400 problem if it is bad."""
    if isinstance(data, QueryDict):
        # DRF reads a QueryDict as an HTML form, where `?to=` means "left out"; in a URL
        # it is an empty value, refused unless the field allows blanks (as documented).
        data = data.dict()
    serializer = serializer_class(data=data, context=context or {})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def shop_currency(request: Request) -> str:
    """The currency of the shop whose host the request came to."""
    return str(request_shop(request).currency)


def shop_context(request: Request) -> dict[str, Any]:
    """Serializer context for money fields: the shop's currency."""
    return {"currency": shop_currency(request)}
