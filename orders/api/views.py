"""Order endpoints: carts and checkout for shoppers (Storefront API), orders and customers for merchants."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from orders import carts, payments, quoting, selectors, services
from orders.api import serializers as s
from orders.errors import CartNotFound
from orders.models import Order, PaymentSettings
from tenants.api.base import AdminAPIView, StorefrontAPIView, shop_context, shop_currency, validated
from tenants.auth import request_actor
from tenants.conventions.idempotency import ANONYMOUS, idempotent
from tenants.models import Membership

ORDERS_READ_WRITE = {"GET": "orders:read", "POST": "orders:write"}


def _cart_response(request: Request, cart_id: str, status_code: int = 200) -> Response:
    return _cart_body(carts.cart_view(cart_id, currency=shop_currency(request)), status_code)


def _cart_body(view: carts.CartView, status_code: int = 200) -> Response:
    """The cart with its quote (orders.quoting: one more query for the shop's pricing settings)."""
    priced = quoting.cart_quote(view, currency=view.subtotal.currency)
    return Response(s.cart_output(view, priced), status=status_code)


# --- Storefront: carts -----------------------------------------------------------------


class CartCreateView(StorefrontAPIView):
    @extend_schema(
        request=None,
        responses={201: s.CartOutput},
        operation_id="storefront_carts_create",
        summary="Start a cart",
    )
    def post(self, request: Request) -> Response:
        view = carts.CartView.empty(carts.cart_create(), currency=shop_currency(request))
        return _cart_body(view, status.HTTP_201_CREATED)


class CartDetailView(StorefrontAPIView):
    @extend_schema(
        responses=s.CartOutput,
        operation_id="storefront_carts_retrieve",
        summary="The cart with current prices and its subtotal",
    )
    def get(self, request: Request, cart_id: str) -> Response:
        return _cart_response(request, cart_id)


class CartItemsView(StorefrontAPIView):
    @extend_schema(
        request=s.CartItemInput,
        responses={201: s.CartOutput},
        operation_id="storefront_cart_items_add",
        summary="Add a variant to the cart",
    )
    def post(self, request: Request, cart_id: str) -> Response:
        data = s.cart_item_input_plain(request.data, fields=("variant", "quantity")) or validated(
            s.CartItemInput, request.data, context=shop_context(request)
        )
        view = carts.cart_item_add(
            cart_id, variant_id=data["variant"], quantity=data["quantity"], currency=shop_currency(request)
        )
        return _cart_body(view, status.HTTP_201_CREATED)


class CartItemView(StorefrontAPIView):
    @extend_schema(
        request=s.CartItemUpdateInput,
        responses=s.CartOutput,
        operation_id="storefront_cart_items_update",
        summary="Change an item's quantity",
    )
    def patch(self, request: Request, cart_id: str, item_id: int) -> Response:
        data = s.cart_item_input_plain(request.data, fields=("quantity",)) or validated(
            s.CartItemUpdateInput, request.data, context=shop_context(request)
        )
        view = carts.cart_item_set(
            cart_id, item_id=item_id, quantity=data["quantity"], currency=shop_currency(request)
        )
        return _cart_body(view)

    @extend_schema(
        responses=s.CartOutput, operation_id="storefront_cart_items_remove", summary="Remove an item"
    )
    def delete(self, request: Request, cart_id: str, item_id: int) -> Response:
        return _cart_body(carts.cart_item_remove(cart_id, item_id=item_id, currency=shop_currency(request)))


# --- Storefront: checkout and the shopper's order ------------------------------------------


def _cart_holder(request: Request) -> str:
    """A shopper's Idempotency-Keys are theirs alone: scoped to the (hash of the) cart they check out."""
    cart = request.data.get("cart") if isinstance(request.data, Mapping) else None
    try:
        return f"cart:{carts.cart_hash(cart)}"
    except CartNotFound:
        return ANONYMOUS  # no cart id: refused by validation, and nothing secret is answered


def _without_token(request: Request, body: Any) -> Any:
    """The order as stored for replays: its token is not kept (only its hash, on the order)."""
    return (
        {name: value for name, value in body.items() if name != "token"} if isinstance(body, dict) else body
    )


def _with_token(request: Request, body: Any) -> Any:
    """
    A replayed order gets its token again, derived from the cart id this request
    carries: the key's scope is that cart and the body is the same, so the caller
    holds the cart that placed the order.
    """
    if isinstance(body, dict) and "number" in body:
        return {**body, "token": services.order_token(cart_id=request.data["cart"])}
    return body


class CheckoutView(StorefrontAPIView):
    @extend_schema(
        request=s.CheckoutInput,
        responses={
            201: s.PlacedOrderOutput,
            402: OpenApiResponse(
                description="The card was declined, or the shop's plan allows no more orders."
            ),
            422: OpenApiResponse(
                description="A payment provider the shop does not accept (`payment_method_disabled`), or "
                "the Idempotency-Key reused with a different request."
            ),
            429: OpenApiResponse(
                description='This client address\'s checkout budget (`"checkout"`) is spent until '
                "`Retry-After` seconds have passed."
            ),
        },
        operation_id="storefront_checkout",
        summary="Place an order from a cart (Idempotency-Key required)",
        description="Reserves stock, takes the payment and empties the cart. A declined card answers 402 and "
        "changes nothing; a sold-out item answers 409; a provider the shop does not accept (manual payment "
        "until the merchant turns it on) answers 422 `payment_method_disabled`. An unpaid order holds its "
        "stock until `expires_at`, then expires (`order.expired`). A cart makes one order: the same request "
        "with the same Idempotency-Key replays it (token included); any other checkout of that cart answers "
        "409 `cart_checked_out` with the order's number. Keys are scoped to the cart. Checkouts have their "
        'own budget per client address (`RateLimit-Policy: "checkout"`), tighter than the storefront\'s: 429 '
        "beyond it.",
    )
    @idempotent(required=True, principal=_cart_holder, stored_body=_without_token, replayed_body=_with_token)
    def post(self, request: Request) -> Response:
        data = validated(s.CheckoutInput, request.data, context=shop_context(request))
        order, token = services.order_place(
            cart_id=data["cart"],
            email=data["email"],
            shipping_address=(
                services.ShippingAddress(**data["shipping_address"]) if "shipping_address" in data else None
            ),
            payment_method=data["payment_method"],
            currency=shop_currency(request),
            shipping_method=data.get("shipping_method"),
        )
        body = {**s.OrderOutput(order).data, "token": token}
        return Response(body, status=status.HTTP_201_CREATED)


class PaymentMethodsView(StorefrontAPIView):
    @extend_schema(
        responses=s.PaymentMethodsOutput,
        operation_id="storefront_payment_methods",
        summary="The payment providers this shop accepts at checkout",
    )
    def get(self, request: Request) -> Response:
        return Response(s.PaymentMethodsOutput({"providers": payments.providers_accepted()}).data)


class ShopperOrderView(StorefrontAPIView):
    @extend_schema(
        responses=s.OrderOutput,
        operation_id="storefront_orders_retrieve",
        summary="The shopper's own order, with the token from checkout",
        parameters=[OpenApiParameter("token", OpenApiTypes.STR, required=True)],
    )
    def get(self, request: Request, number: int) -> Response:
        query = validated(s.OrderTokenQuery, request.query_params, context=shop_context(request))
        order = selectors.access_order_by_number_and_token(number=number, token=query["token"])
        return Response(s.OrderOutput(order).data)


# --- Admin: orders and customers --------------------------------------------------------


class OrderAdminView(AdminAPIView):
    required_scopes = ORDERS_READ_WRITE

    def order_response(self, order_number: int) -> Response:
        order = selectors.access_order_by_number(number=order_number)
        return Response(s.OrderOutput(order).data)


class AdminOrderListView(OrderAdminView):
    serializer_class = s.OrderOutput

    @extend_schema(
        responses=s.OrderOutput(many=True),
        operation_id="admin_orders_list",
        summary="Orders, newest first",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=[c[0] for c in Order.Status.choices]),
            OpenApiParameter("email", OpenApiTypes.STR),
            OpenApiParameter("placed_from", OpenApiTypes.DATETIME),
            OpenApiParameter("placed_to", OpenApiTypes.DATETIME),
        ],
    )
    def get(self, request: Request) -> Response:
        query = validated(s.OrderQuery, request.query_params, context=shop_context(request))
        page = self.paginate_queryset(selectors.orders_for_admin(**query)) or []
        return self.get_paginated_response(s.OrderOutput(page, many=True).data)


class AdminOrderDetailView(OrderAdminView):
    @extend_schema(responses=s.OrderOutput, operation_id="admin_orders_retrieve", summary="One order")
    def get(self, request: Request, number: int) -> Response:
        return self.order_response(number)


class AdminOrderMarkPaidView(OrderAdminView):
    @extend_schema(
        request=s.MarkPaidInput,
        responses=s.OrderOutput,
        operation_id="admin_orders_mark_paid",
        summary="Record the payment of a pending order",
    )
    def post(self, request: Request, number: int) -> Response:
        data = validated(s.MarkPaidInput, request.data, context=shop_context(request))
        order = selectors.access_order_by_number(number=number)
        services.order_mark_paid(actor=request_actor(request), order=order, reference=data["reference"])
        return self.order_response(number)


class AdminOrderFulfillView(OrderAdminView):
    @extend_schema(
        request=None,
        responses=s.OrderOutput,
        operation_id="admin_orders_fulfill",
        summary="Mark a paid order fulfilled (shipped)",
    )
    def post(self, request: Request, number: int) -> Response:
        order = selectors.access_order_by_number(number=number)
        services.order_fulfill(actor=request_actor(request), order=order)
        return self.order_response(number)


class AdminOrderCancelView(OrderAdminView):
    @extend_schema(
        request=s.CancelInput,
        responses=s.OrderOutput,
        operation_id="admin_orders_cancel",
        summary="Cancel a pending or paid order (stock returned, payment refunded)",
    )
    def post(self, request: Request, number: int) -> Response:
        data = validated(s.CancelInput, request.data, context=shop_context(request))
        order = selectors.access_order_by_number(number=number)
        services.order_cancel(actor=request_actor(request), order=order, reason=data["reason"])
        return self.order_response(number)


class AdminOrderRefundView(OrderAdminView):
    @extend_schema(
        request=s.RefundInput,
        responses=s.OrderOutput,
        operation_id="admin_orders_refund",
        summary="Refund part or all of a paid or fulfilled order",
    )
    def post(self, request: Request, number: int) -> Response:
        order = selectors.access_order_by_number(number=number)
        data = validated(s.RefundInput, request.data, context={"currency": order.currency})
        services.order_refund(
            actor=request_actor(request), order=order, amount=data["amount"], reason=data["reason"]
        )
        return self.order_response(number)


class AdminCustomerListView(OrderAdminView):
    serializer_class = s.CustomerOutput

    @extend_schema(
        responses=s.CustomerOutput(many=True),
        operation_id="admin_customers_list",
        summary="Shoppers who ordered",
        parameters=[OpenApiParameter("email", OpenApiTypes.STR, description="E-mail contains.")],
    )
    def get(self, request: Request) -> Response:
        query = validated(s.CustomerQuery, request.query_params, context=shop_context(request))
        page = self.paginate_queryset(selectors.customers_for_admin(**query)) or []
        return self.get_paginated_response(s.CustomerOutput(page, many=True).data)


class AdminCustomerDetailView(OrderAdminView):
    @extend_schema(
        responses=s.CustomerDetailOutput,
        operation_id="admin_customers_retrieve",
        summary="A customer with their orders",
    )
    def get(self, request: Request, customer_id: int) -> Response:
        customer = selectors.access_customer_by_id(customer_id=customer_id)
        orders = selectors.orders_for_admin().filter(customer=customer)[:100]
        body = {
            **s.CustomerOutput(customer).data,
            "orders": s.OrderOutput(orders, many=True).data,
        }
        return Response(body)


# --- Admin: payment settings ---------------------------------------------------------------


def _payment_settings_body(current: PaymentSettings) -> dict[str, object]:
    return s.PaymentSettingsOutput(
        {
            "manual_enabled": current.manual_enabled,
            "manual_expiry_hours": current.manual_expiry_hours,
            "card_authorization_expiry_minutes": settings.ORDER_AUTHORIZATION_EXPIRY_MINUTES,
            "providers": payments.providers_accepted(),
        }
    ).data


class AdminPaymentSettingsView(AdminAPIView):
    required_scopes = {"GET": "orders:read", "PATCH": "orders:write"}
    member_roles = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN})

    @extend_schema(
        responses=s.PaymentSettingsOutput,
        operation_id="admin_payment_settings_retrieve",
        summary="The shop's payment settings",
    )
    def get(self, request: Request) -> Response:
        return Response(_payment_settings_body(payments.payment_settings()))

    @extend_schema(
        request=s.PaymentSettingsInput,
        responses=s.PaymentSettingsOutput,
        operation_id="admin_payment_settings_update",
        summary="Turn manual payment on or off, and set how long its unpaid orders hold stock",
        description="Manual payment is off until turned on here. A new expiry applies to orders placed "
        "afterwards; orders already placed keep theirs.",
    )
    def patch(self, request: Request) -> Response:
        data = validated(s.PaymentSettingsInput, request.data)
        return Response(
            _payment_settings_body(services.payment_settings_update(actor=request_actor(request), **data))
        )
