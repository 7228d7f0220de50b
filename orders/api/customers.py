"""
Shopper accounts on the Storefront API (`customer/...`), and "find my order"
(`orders/lookup`). A customer's tokens open only this shop's `customer/...`
endpoints (and link a checkout to the account); see orders.tokens.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response

from orders import accounts, quoting, selectors, tokens
from orders.api import customer_serializers as cs
from orders.api import serializers as s
from orders.api.auth import CUSTOMER_REALM, CustomerJWTAuthentication, SignedInCustomer, signed_in_customer
from orders.models import Customer
from tenants.api.base import StorefrontAPIView, shop_context, shop_currency, validated

THROTTLED = OpenApiResponse(
    description="Too many attempts for this e-mail or this client address: wait `Retry-After` seconds."
)
ACCEPTED = OpenApiResponse(description="Accepted; the answer is the same whether or not anything matched.")


def _tokens_body(pair: tokens.TokenPair) -> dict[str, str]:
    return {"access": pair.access, "refresh": pair.refresh}


class CustomerPublicView(StorefrontAPIView):
    """An anonymous `customer/...` endpoint; a refused sign-in is a 401 with the Bearer challenge."""

    def get_authenticate_header(self, request: Request) -> str:
        return CUSTOMER_REALM


class CustomerView(StorefrontAPIView):
    """A `customer/...` endpoint for the signed-in customer of this shop."""

    authentication_classes = [CustomerJWTAuthentication]
    permission_classes = [SignedInCustomer]

    def customer(self, request: Request) -> Customer:
        customer = signed_in_customer(request)
        if customer is None:  # SignedInCustomer lets no one else in
            raise AuthenticationFailed("Sign in to your account.")
        return customer


class CustomerSignupView(CustomerPublicView):
    throttle_scope = "customer-sign-up"

    @extend_schema(
        request=cs.CustomerSignupInput,
        responses={201: cs.CustomerAccountOutput, 429: THROTTLED},
        auth=[],
        operation_id="storefront_customer_signup",
        summary="Open a shopper account in this shop",
        description="Sends a verification e-mail. An e-mail with an account here answers 409 "
        "`customer_email_taken`; a guest's e-mail becomes an account, and its guest orders show once "
        "verified.",
    )
    def post(self, request: Request) -> Response:
        data = validated(cs.CustomerSignupInput, request.data)
        customer = accounts.customer_signup(email=data["email"], password=data["password"], name=data["name"])
        return Response(cs.CustomerAccountOutput(customer).data, status=status.HTTP_201_CREATED)


class CustomerTokenView(CustomerPublicView):
    throttle_scope = "customer-sign-in"

    @extend_schema(
        request=cs.CustomerSignInInput,
        responses={
            200: cs.CustomerTokensOutput,
            401: OpenApiResponse(description="Wrong e-mail or password (one answer for both)."),
            429: THROTTLED,
        },
        auth=[],
        operation_id="storefront_customer_token",
        summary="Sign in: a customer JWT pair for this shop",
        description="Valid only on this shop's hosts and only for `customer/...` (and to link a checkout). "
        "A wrong password and an unknown e-mail answer alike: 401 `no_active_account`.",
    )
    def post(self, request: Request) -> Response:
        data = validated(cs.CustomerSignInInput, request.data)
        customer = accounts.customer_sign_in(email=data["email"], password=data["password"])
        if customer is None:
            raise AuthenticationFailed(
                "No account in this shop with that e-mail and password.", code="no_active_account"
            )
        return Response(_tokens_body(tokens.customer_tokens_mint(customer)))


class CustomerTokenRefreshView(CustomerPublicView):
    @extend_schema(
        request=cs.CustomerRefreshInput,
        responses={
            200: cs.CustomerTokensOutput,
            401: OpenApiResponse(description="The refresh token is used, expired, or not this shop's."),
        },
        auth=[],
        operation_id="storefront_customer_token_refresh",
        summary="Spend a refresh token for a new pair",
        description="A refresh token works once; one that was used, expired, issued before a password "
        "reset, or not this shop's answers 401 `token_not_valid`.",
    )
    def post(self, request: Request) -> Response:
        data = validated(cs.CustomerRefreshInput, request.data)
        refreshed = accounts.customer_tokens_refresh(refresh=data["refresh"])
        if refreshed is None:
            raise AuthenticationFailed(
                "The refresh token is not valid (used, expired or not this shop's).", code="token_not_valid"
            )
        return Response(_tokens_body(refreshed[1]))


class CustomerMeView(CustomerView):
    @extend_schema(
        responses=cs.CustomerAccountOutput,
        operation_id="storefront_customer_me",
        summary="The signed-in customer",
    )
    def get(self, request: Request) -> Response:
        return Response(cs.CustomerAccountOutput(self.customer(request)).data)

    @extend_schema(
        request=cs.CustomerUpdateInput,
        responses=cs.CustomerAccountOutput,
        operation_id="storefront_customer_me_update",
        summary="Change the profile",
    )
    def patch(self, request: Request) -> Response:
        data = validated(cs.CustomerUpdateInput, request.data)
        customer = accounts.customer_update(customer=self.customer(request), name=data.get("name"))
        return Response(cs.CustomerAccountOutput(customer).data)


class CustomerVerifyEmailView(CustomerPublicView):
    @extend_schema(
        request=cs.CustomerLinkInput,
        responses={200: cs.CustomerAccountOutput},
        auth=[],
        operation_id="storefront_customer_verify_email",
        summary="Verify the e-mail with the e-mailed link's token",
        description="The link works once and expires; otherwise 400 `customer_link_invalid`.",
    )
    def post(self, request: Request) -> Response:
        data = validated(cs.CustomerLinkInput, request.data)
        return Response(cs.CustomerAccountOutput(accounts.customer_email_verify(token=data["token"])).data)


class CustomerVerifyEmailResendView(CustomerView):
    @extend_schema(
        request=None,
        responses={202: ACCEPTED},
        operation_id="storefront_customer_verify_email_resend",
        summary="E-mail the verification link again",
    )
    def post(self, request: Request) -> Response:
        accounts.customer_verification_request(customer=self.customer(request))
        return Response(status=status.HTTP_202_ACCEPTED)


class CustomerPasswordResetView(CustomerPublicView):
    throttle_scope = "customer-password-reset"

    @extend_schema(
        request=cs.CustomerEmailInput,
        responses={202: ACCEPTED, 429: THROTTLED},
        auth=[],
        operation_id="storefront_customer_password_reset",
        summary="E-mail a password-reset link",
        description="202 whether or not an account has this e-mail; the link works once and expires.",
    )
    def post(self, request: Request) -> Response:
        data = validated(cs.CustomerEmailInput, request.data)
        accounts.customer_password_reset_request(email=data["email"])
        return Response(status=status.HTTP_202_ACCEPTED)


class CustomerPasswordResetConfirmView(CustomerPublicView):
    @extend_schema(
        request=cs.CustomerPasswordResetConfirmInput,
        responses={200: cs.CustomerAccountOutput},
        auth=[],
        operation_id="storefront_customer_password_reset_confirm",
        summary="Set a new password with the e-mailed link's token",
        description="Signs out every session (tokens issued before are refused) and verifies the e-mail. "
        "A forged, expired or used link answers 400 `customer_link_invalid`.",
    )
    def post(self, request: Request) -> Response:
        data = validated(cs.CustomerPasswordResetConfirmInput, request.data)
        customer = accounts.customer_password_reset_confirm(token=data["token"], password=data["password"])
        return Response(cs.CustomerAccountOutput(customer).data)


class CustomerSignOutView(CustomerView):
    @extend_schema(
        request=None,
        responses={204: None},
        operation_id="storefront_customer_logout",
        summary="Sign out: refuse every token of this customer",
        description="Every access and refresh token the customer holds, on every device, is refused from "
        "now on (401 `token_not_valid`), in every process; sign in again for a new pair.",
    )
    def post(self, request: Request) -> Response:
        accounts.customer_sign_out(customer=self.customer(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerEmailChangeView(CustomerView):
    throttle_scope = "customer-email-change"

    def throttle_account(self, request: Request) -> str | None:
        """The budget of password guesses is the signed-in account's, whatever e-mail is asked for."""
        return request.user.email if isinstance(request.user, Customer) else None

    @extend_schema(
        request=cs.CustomerEmailChangeInput,
        responses={202: ACCEPTED, 429: THROTTLED},
        operation_id="storefront_customer_email_change",
        summary="E-mail a link that moves the account to a new e-mail",
        description="Needs the password (400 `password_incorrect`). The link goes to the new e-mail and "
        "works once; the account keeps its e-mail until it is followed. An e-mail of another customer of "
        "this shop answers 409 `customer_email_taken`.",
    )
    def post(self, request: Request) -> Response:
        data = validated(cs.CustomerEmailChangeInput, request.data)
        accounts.customer_email_change_request(
            customer=self.customer(request), email=data["email"], password=data["password"]
        )
        return Response(status=status.HTTP_202_ACCEPTED)


class CustomerEmailChangeConfirmView(CustomerPublicView):
    @extend_schema(
        request=cs.CustomerLinkInput,
        responses={200: cs.CustomerAccountOutput},
        auth=[],
        operation_id="storefront_customer_email_change_confirm",
        summary="Move the account to the new e-mail with the e-mailed link's token",
        description="The new e-mail is verified by it, and the old one is told. The link works once and "
        "expires; otherwise 400 `customer_link_invalid`.",
    )
    def post(self, request: Request) -> Response:
        data = validated(cs.CustomerLinkInput, request.data)
        customer = accounts.customer_email_change_confirm(token=data["token"])
        return Response(cs.CustomerAccountOutput(customer).data)


class CustomerAddressListView(CustomerView):
    pagination_class = None

    @extend_schema(
        responses=cs.CustomerAddressOutput(many=True),
        operation_id="storefront_customer_addresses_list",
        summary="Saved addresses",
        description=f"At most {accounts.MAX_ADDRESSES}, oldest first; one is the default.",
    )
    def get(self, request: Request) -> Response:
        addresses = selectors.customer_addresses(customer=self.customer(request))
        return Response(cs.CustomerAddressOutput(addresses, many=True).data)

    @extend_schema(
        request=cs.CustomerAddressInput,
        responses={201: cs.CustomerAddressOutput},
        operation_id="storefront_customer_addresses_create",
        summary="Save an address",
    )
    def post(self, request: Request) -> Response:
        data = validated(cs.CustomerAddressInput, request.data)
        address = accounts.customer_address_create(customer=self.customer(request), fields=data)
        return Response(cs.CustomerAddressOutput(address).data, status=status.HTTP_201_CREATED)


class CustomerAddressView(CustomerView):
    def _address(self, request: Request, address_id: int) -> Any:
        return selectors.access_customer_address_by_id(customer=self.customer(request), address_id=address_id)

    @extend_schema(
        request=cs.CustomerAddressUpdateInput,
        responses=cs.CustomerAddressOutput,
        operation_id="storefront_customer_addresses_update",
        summary="Change a saved address",
    )
    def patch(self, request: Request, address_id: int) -> Response:
        data = validated(cs.CustomerAddressUpdateInput, request.data)
        address = self._address(request, address_id)
        address = accounts.customer_address_update(address=address, fields=data)
        return Response(cs.CustomerAddressOutput(address).data)

    @extend_schema(
        responses={204: None},
        operation_id="storefront_customer_addresses_delete",
        summary="Forget a saved address",
    )
    def delete(self, request: Request, address_id: int) -> Response:
        accounts.customer_address_delete(address=self._address(request, address_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerOrderListView(CustomerView):
    serializer_class = s.OrderOutput

    @extend_schema(
        responses=s.OrderOutput(many=True),
        operation_id="storefront_customer_orders",
        summary="The customer's orders",
        description="Newest first: orders placed signed in and, once the e-mail is verified, the guest "
        "orders placed with it.",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.customer_orders(customer=self.customer(request))) or []
        return self.get_paginated_response(s.OrderOutput(page, many=True).data)


class CustomerReorderView(CustomerView):
    @extend_schema(
        request=cs.ReorderInput,
        responses={201: cs.ReorderOutput},
        operation_id="storefront_customer_orders_reorder",
        summary="Put an order's lines back into a cart",
        description="Into `cart`, or a new cart; at today's prices. Lines no longer for sale or not in "
        "stock are left out and listed in `unavailable`.",
    )
    def post(self, request: Request, number: int) -> Response:
        data = validated(cs.ReorderInput, request.data)
        order = selectors.access_customer_order_by_number(customer=self.customer(request), number=number)
        done = accounts.order_reorder(order=order, cart_id=data.get("cart"), currency=shop_currency(request))
        priced = quoting.cart_quote(done.cart, currency=done.cart.subtotal.currency)
        body = {"cart": s.cart_output(done.cart, priced), "unavailable": done.unavailable}
        return Response(body, status=status.HTTP_201_CREATED)


class OrderLookupView(CustomerPublicView):
    throttle_scope = "order-lookup"

    @extend_schema(
        request=cs.OrderLookupInput,
        responses={202: ACCEPTED, 429: THROTTLED},
        auth=[],
        operation_id="storefront_orders_lookup",
        summary="Find my order: e-mail its link again",
        description="202 whether or not an order has this number and e-mail; only when both match is the "
        "order's link (`/orders/{number}?token=`) e-mailed to that address.",
    )
    def post(self, request: Request) -> Response:
        data = validated(cs.OrderLookupInput, request.data, context=shop_context(request))
        accounts.order_link_request(email=data["email"], number=data["number"])
        return Response(status=status.HTTP_202_ACCEPTED)
