"""Shopper sign-in on the Storefront API: a customer's JWT of this shop (orders.tokens)."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from orders import accounts, tokens
from orders.models import Customer

CUSTOMER_REALM = 'Bearer realm="customer"'


class CustomerJWTAuthentication(BaseAuthentication):
    """
    `Authorization: Bearer <customer access token>`, of this shop only. A
    platform user's JWT, another shop's customer token, a refresh token, or one
    issued before the password last changed: 401 `token_not_valid`.
    """

    def authenticate(self, request: Request) -> tuple[Customer, dict[str, Any]] | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        keyword, _, token = header.partition(" ")
        token = token.strip()
        if keyword != "Bearer" or not token or " " in token:
            raise AuthenticationFailed(
                "Send `Authorization: Bearer <customer access token>`.", code="bad_authorization_header"
            )
        try:
            claims = tokens.customer_token_read(token, kind=tokens.ACCESS)
        except tokens.TokenRefused:
            raise AuthenticationFailed(
                "The token is not a valid customer access token of this shop (expired, or another kind).",
                code="token_not_valid",
            ) from None
        customer = accounts.customer_account(customer_id=int(claims["sub"]))
        if customer is None or not tokens.token_still_valid(customer, claims):
            raise AuthenticationFailed("The token is no longer valid; sign in again.", code="token_not_valid")
        return customer, claims

    def authenticate_header(self, request: Request) -> str:
        return CUSTOMER_REALM


class SignedInCustomer(BasePermission):
    """A customer signed in to this shop (401 with the Bearer challenge otherwise)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, Customer)


def signed_in_customer(request: Request) -> Customer | None:
    """The customer signed in on this request, if any."""
    return request.user if isinstance(request.user, Customer) else None
