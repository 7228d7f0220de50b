"""Order endpoints: carts and checkout for shoppers (Storefront API), orders and customers for merchants."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from orders import carts, selectors, services
from orders.api import serializers as s
from orders.errors import CartEmpty
from orders.models import Order
from tenants.api.base import AdminAPIView, StorefrontAPIView, shop_context, shop_currency, validated
from tenants.auth import request_actor
from tenants.conventions.idempotency import idempotent

ORDERS_READ_WRITE = {"GET": "orders:read", "POST": "orders:write"}


def _cart_response(request: Request, cart_id: str, status_code: int = 200) -> Response:
    return _cart_body(carts.cart_view(cart_id, currency=shop_currency(request)), status_code)


def _cart_body(view: carts.CartView, status_code: int = 200) -> Response:
    return Response(s.CartOutput(view).data, status=status_code)


# --- Storefront: carts -----------------------------------------------------------------


class CartCreateView(StorefrontAPIView):
    @extend_schema(
        request=None,
        responses={201: s.CartOutput},
        operation_id="storefront_carts_create",
        summary="Start a cart",
    )
    def post(self, request: Request) -> Response:
        return _cart_response(request, carts.cart_create(), status.HTTP_201_CREATED)


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
        data = validated(s.CartItemInput, request.data, context=shop_context(request))
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
        data = validated(s.CartItemUpdateInput, request.data, context=shop_context(request))
        view = carts.cart_item_set(
            cart_id, item_id=item_id, quantity=data["quantity"], currency=shop_currency(request)
        )
        return _cart_body(view)

    @extend_schema(
        responses=s.CartOutput, operation_id="storefront_cart_items_remove", summary="Remove an item"
    )
    def delete(self, request: Request, cart_id: str, item_id: int) -> Response:
        carts.cart_quantities(cart_id)  # 404 for an unknown cart before the item
        carts.cart_item_remove(cart_id, item_id)
        return _cart_response(request, cart_id)


# --- Storefront: checkout and the shopper's order ------------------------------------------


class CheckoutView(StorefrontAPIView):
    @extend_schema(
        request=s.CheckoutInput,
        responses={
            201: s.PlacedOrderOutput,
            402: OpenApiResponse(
                description="The card was declined, or the shop's plan allows no more orders."
            ),
        },
        operation_id="storefront_checkout",
        summary="Place an order from a cart (Idempotency-Key required)",
        description="Reserves stock, takes the payment and empties the cart. A declined card answers 402 and "
        "changes nothing; a sold-out item answers 409.",
    )
    @idempotent(required=True)
    def post(self, request: Request) -> Response:
        data = validated(s.CheckoutInput, request.data, context=shop_context(request))
        items = {variant: quantity for variant, quantity in carts.cart_quantities(data["cart"]).items()}
        if not items:
            raise CartEmpty("Add something to the cart first.")
        order, token = services.order_place(
            items=items,
            email=data["email"],
            shipping_address=services.ShippingAddress(**data["shipping_address"]),
            payment_method=data["payment_method"],
            currency=shop_currency(request),
        )
        cart_id = data["cart"]
        transaction.on_commit(lambda: carts.cart_empty(cart_id))
        body = {**s.OrderOutput(order).data, "token": token}
        return Response(body, status=status.HTTP_201_CREATED)


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
