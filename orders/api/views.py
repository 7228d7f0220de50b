"""Order endpoints: carts and checkout for shoppers (Storefront API), orders and customers for merchants."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from orders import authorizations, carts, fulfilment, payments, quoting, selectors, services
from orders.api import serializers as s
from orders.api.auth import CustomerJWTAuthentication, signed_in_customer
from orders.errors import CartNotFound, PaymentDeclined, PaymentNotFound, ProviderWebhookSignatureInvalid
from orders.models import Customer, Order, Payment, PaymentSettings
from tenants.api.auth import request_actor
from tenants.api.base import AdminAPIView, StorefrontAPIView, shop_context, shop_currency, validated
from tenants.audit.services import Actor
from tenants.conventions.fields import ordering_parameter
from tenants.conventions.idempotency import ANONYMOUS, KeyHold, idempotent
from tenants.conventions.pagination import SortedCursorPage
from tenants.models import Membership
from tenants.money import Money
from tenants.webhooks import signing

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


CHECKOUT_DESCRIPTION = (
    "Three steps, as Saleor and Medusa take them: one short transaction reserves the stock and writes a "
    "pending order with its payment intent; the payment provider is then asked with no database lock "
    "held, with the order's id as its idempotency key; a second short transaction records its answer. "
    "Paid: 201, `payment_status: paid`. The provider needs the shopper (3-D Secure, a redirect): 201 with"
    " `payment_status: pending` and `payment_action_url`; send the shopper there, then `POST "
    "orders/{number}/payment-confirmation`. A declined card answers 402: the order is cancelled (payment "
    "`failed`), the stock and the cart are given back. A sold-out item answers 409; a provider the shop "
    "does not accept (manual payment until the merchant turns it on) answers 422 "
    "`payment_method_disabled`. An unpaid order holds its stock until `expires_at`, then expires "
    "(`order.expired`). A cart makes one order: the same request with the same Idempotency-Key replays it"
    " (token included); any other checkout of that cart answers 409 `cart_checked_out` with the order's "
    "number. Keys are scoped to the cart. Checkouts have their own budget per client address (`RateLimit-"
    "Policy: \"checkout\"`), tighter than the storefront's: 429 beyond it. With a customer's `Authorization: "
    "Bearer` token the order goes into their account (a token that is not valid for this shop answers 401); "
    "without one it is a guest order."
)


class CheckoutView(StorefrontAPIView):
    # Anonymous (a guest) or a signed-in customer, whose order is then theirs.
    authentication_classes = [CustomerJWTAuthentication]

    @extend_schema(
        request=s.CheckoutInput,
        responses={
            201: s.PlacedOrderOutput,
            401: OpenApiResponse(
                description="An `Authorization: Bearer` token was sent that is not a valid customer token "
                "of this shop (a guest sends none)."
            ),
            202: OpenApiResponse(
                s.PlacedOrderOutput,
                description="The payment provider did not answer in time: the order is placed and pending; "
                "its payment is looked up at the provider within minutes and the order paid or released.",
            ),
            402: OpenApiResponse(
                description="The card was declined (the order is cancelled with payment_status `failed`, its "
                "stock and the cart are given back: pay again with another card), or the shop's plan allows "
                "no more orders."
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
        description=CHECKOUT_DESCRIPTION,
    )
    @idempotent(
        required=True,
        steps=True,
        principal=_cart_holder,
        stored_body=_without_token,
        replayed_body=_with_token,
    )
    def post(self, request: Request) -> Response:
        data = validated(s.CheckoutInput, request.data, context=shop_context(request))
        hold: KeyHold = request.idempotency  # type: ignore[attr-defined]
        with hold.taken():
            placed = services.order_place(
                cart_id=data["cart"],
                email=data["email"],
                shipping_address=(
                    services.ShippingAddress(**data["shipping_address"])
                    if "shipping_address" in data
                    else None
                ),
                payment_method=data["payment_method"],
                currency=shop_currency(request),
                shipping_method=data.get("shipping_method"),
                account=signed_in_customer(request),
            )
            if placed.charge is None:  # manual: nothing to ask a provider
                return _placed_response(hold, placed, status.HTTP_201_CREATED)
        answer = services.order_payment_request(placed=placed, payment_method=data["payment_method"])
        with transaction.atomic():
            order = services.order_payment_settle(
                order_id=placed.order.pk, answer=answer, actor=_shopper(placed.order), placed=placed
            )
            if order.payment_status != Order.PaymentStatus.FAILED:
                code = status.HTTP_202_ACCEPTED if answer is None else status.HTTP_201_CREATED
                return _placed_response(hold, placed, code)
        message = (placed.charge.reason if placed.charge else "") or "The card was declined."
        raise PaymentDeclined(message, errors={"payment_method.card_number": [message]})


def _shopper(order: Order) -> Actor:
    return Actor(type="customer", id=order.customer_id if order.placed_signed_in else None, label=order.email)


def _placed_response(hold: KeyHold, placed: services.PlacedOrder, code: int) -> Response:
    """The placed order with its token, stored under the Idempotency-Key in the current transaction."""
    response = Response({**s.OrderOutput(placed.order).data, "token": placed.token}, status=code)
    hold.store(response)
    return response


class PaymentConfirmationView(StorefrontAPIView):
    @extend_schema(
        request=s.PaymentConfirmationInput,
        responses={
            200: s.OrderOutput,
            402: OpenApiResponse(description="The shopper's confirmation failed: the order is cancelled."),
            404: OpenApiResponse(description="No such order, or the token does not match."),
            409: OpenApiResponse(description="The payment is not waiting for a confirmation."),
            503: OpenApiResponse(description="The provider did not answer; try again."),
        },
        operation_id="storefront_orders_payment_confirm",
        summary="Back from the provider's page (3-D Secure, a redirect): finish the payment",
        description="The provider is asked what became of the payment (no database lock held) and the order "
        "is paid, or cancelled with payment_status `failed` (402, stock and cart given back).",
    )
    def post(self, request: Request, number: int) -> Response:
        data = validated(s.PaymentConfirmationInput, request.data, context=shop_context(request))
        order = selectors.access_order_by_number_and_token(number=number, token=data["token"])
        order = services.order_payment_confirm(order=order, details=data["details"])
        if order.payment_status == Order.PaymentStatus.FAILED:
            raise PaymentDeclined("The payment was not confirmed; the order is cancelled.")
        return Response(s.OrderOutput(selectors.access_order_by_number(number=number)).data)


class ProviderWebhookView(StorefrontAPIView):
    @extend_schema(
        request=s.ProviderWebhookInput,
        responses={
            204: None,
            400: OpenApiResponse(description="Missing, wrong or stale `Provider-Signature`, or a bad body."),
            404: OpenApiResponse(description="No such provider, or no payment of this shop under that key."),
        },
        parameters=[
            OpenApiParameter(
                "Provider-Signature",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description='`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with the shop\'s '
                "secret for this provider (Admin API `payment-settings`), at most 5 minutes old.",
            )
        ],
        operation_id="storefront_payment_provider_webhook",
        summary="Asynchronous confirmation from a payment provider (signed)",
        description="The provider says what became of a payment (paid, authorized, awaiting the shopper, "
        "failed); the order is settled as the checkout would have. Repeats change nothing.",
    )
    def post(self, request: Request, provider: str) -> Response:
        body = request.body  # the raw bytes the signature covers, read before the parser reads them again
        parsed = request.data  # JSON that cannot be stored is refused here, before anything else
        if provider not in payments.PROVIDERS or not payments.provider_for(provider).pays_at_checkout:
            raise PaymentNotFound("This shop takes no webhooks from that provider.")
        header = request.headers.get(PROVIDER_SIGNATURE_HEADER, "")
        if not signing.verify(payments.provider_webhook_secret(provider), header, body):
            raise ProviderWebhookSignatureInvalid("The Provider-Signature header does not sign this body.")
        data = validated(s.ProviderWebhookInput, parsed)
        answer = payments.ProviderAnswer(
            status=WEBHOOK_STATES[data["type"]],
            reference=data["reference"],
            action_url=data["action_url"],
            message=data["message"],
        )
        services.provider_notification_apply(provider=provider, key=data["payment"], answer=answer)
        return Response(status=status.HTTP_204_NO_CONTENT)


PROVIDER_SIGNATURE_HEADER = "Provider-Signature"
WEBHOOK_STATES = {
    "payment.succeeded": Payment.Status.SUCCEEDED,
    "payment.authorized": Payment.Status.AUTHORIZED,
    "payment.requires_action": Payment.Status.REQUIRES_ACTION,
    "payment.failed": Payment.Status.FAILED,
}


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
    pagination_class = SortedCursorPage

    @extend_schema(
        responses=s.OrderOutput(many=True),
        operation_id="admin_orders_list",
        summary="Orders, newest first unless `ordering` says otherwise",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=[c[0] for c in Order.Status.choices]),
            OpenApiParameter("email", OpenApiTypes.STR),
            OpenApiParameter("placed_from", OpenApiTypes.DATETIME),
            OpenApiParameter("placed_to", OpenApiTypes.DATETIME),
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                description="An order number (`1042` or `#1042`), part of an e-mail, or part of a name.",
            ),
            OpenApiParameter("from", OpenApiTypes.DATE, description="Placed on or after this day (UTC)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Placed on or before this day (UTC)."),
            OpenApiParameter("total_min", OpenApiTypes.STR, description="Total at least this (a decimal)."),
            OpenApiParameter("total_max", OpenApiTypes.STR, description="Total at most this (a decimal)."),
            ordering_parameter(selectors.ORDER_ORDERINGS, default=s.ORDER_ORDERING_DEFAULT),
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
        request=s.FulfillInput,
        responses={
            200: s.OrderOutput,
            409: OpenApiResponse(description="An order not paid, or nothing left to ship."),
            422: OpenApiResponse(
                description="A line of another order, a line named twice, or more units than are left to "
                "ship."
            ),
        },
        operation_id="admin_orders_fulfill",
        summary="Ship units of a paid order (a fulfilment), all of them without `lines`",
        description="Records a fulfilment (listed in the order's `fulfillments`) of the `lines` given, or of "
        "every unit still to ship, with an optional tracking number, carrier and tracking link. The order is "
        "`partially_fulfilled` (event `order.partially_fulfilled`) until every unit to ship has shipped "
        "(units refunded into stock never do), then `fulfilled` (`order.fulfilled`); each fulfilment sends "
        "the shopper a shipping e-mail with its units and tracking.",
    )
    def post(self, request: Request, number: int) -> Response:
        data = validated(s.FulfillInput, request.data)
        order = selectors.access_order_by_number(number=number)
        fulfilment.order_fulfill(
            actor=request_actor(request),
            order=order,
            lines=[fulfilment.FulfillmentLineRequest(**line) for line in data.pop("lines", [])],
            **data,
        )
        return self.order_response(number)


class AdminOrderCancelView(OrderAdminView):
    @extend_schema(
        request=s.CancelInput,
        responses=s.OrderOutput,
        operation_id="admin_orders_cancel",
        summary="Cancel a pending or paid order (stock returned, payment refunded)",
        description="A paid order's refund is recorded with the cancellation, then sent to the provider "
        "with no database lock held; a provider that does not answer leaves it `pending` in `payments`.",
    )
    @idempotent(steps=True)
    def post(self, request: Request, number: int) -> Response:
        data = validated(s.CancelInput, request.data, context=shop_context(request))
        order = selectors.access_order_by_number(number=number)
        hold: KeyHold = request.idempotency  # type: ignore[attr-defined]
        with hold.taken():
            services.order_cancel(actor=request_actor(request), order=order, reason=data["reason"])
        services.refunds_send(order=order)
        return self.stored_order_response(hold, number)

    def stored_order_response(self, hold: KeyHold, number: int) -> Response:
        with transaction.atomic():
            response = self.order_response(number)
            hold.store(response)
        return response


class AdminOrderRefundView(AdminOrderCancelView):
    @extend_schema(
        request=s.RefundInput,
        responses={
            200: s.OrderOutput,
            409: OpenApiResponse(description="More than is left to refund, or an order not paid."),
            422: OpenApiResponse(
                description="A line of another order, a line named twice, or more units than are left."
            ),
        },
        operation_id="admin_orders_refund",
        summary="Refund part of a paid or fulfilled order, as often as needed until all of it is",
        description="Either a plain `amount`, or `lines` (units at the price paid, optionally put back into "
        "stock) and a `shipping` amount. The order keeps its status and fulfilment until everything paid "
        "is refunded (then `refunded`); `payment_status` says `partially_refunded` meanwhile. The provider "
        "is asked after the refund is recorded, with no database lock held.",
    )
    @idempotent(steps=True)
    def post(self, request: Request, number: int) -> Response:
        order = selectors.access_order_by_number(number=number)
        data = validated(s.RefundInput, request.data, context={"currency": order.currency})
        hold: KeyHold = request.idempotency  # type: ignore[attr-defined]
        with hold.taken():
            services.order_refund(
                actor=request_actor(request),
                order=order,
                amount=data.get("amount"),
                lines=[services.RefundLineRequest(**line) for line in data.get("lines", [])],
                shipping=data.get("shipping", Decimal(0)),
                reason=data["reason"],
            )
        services.refunds_send(order=order)
        return self.stored_order_response(hold, number)


class AdminOrderCaptureView(AdminOrderCancelView):
    @extend_schema(
        request=s.CaptureInput,
        responses={
            200: s.OrderOutput,
            402: OpenApiResponse(description="The provider refused the capture (nothing changed)."),
            409: OpenApiResponse(
                description="No authorized payment (`payment_not_authorized`: already captured, voided, "
                "or never authorized), or more than was authorized (`capture_too_large`)."
            ),
            503: OpenApiResponse(description="The provider did not answer; try again (never taken twice)."),
        },
        operation_id="admin_orders_capture",
        summary="Capture an authorized card payment, all of it or less",
        description="For an order whose `payment_status` is `authorized` (the shop captures cards by hand, "
        "`payment-settings`). The provider is asked under the payment's key with no database lock held; "
        "the order becomes `paid` (`order.paid`, with `capture`). Less than authorized releases the rest, "
        "listed as a voided charge, and refunds are then limited to what was taken.",
    )
    @idempotent(steps=True)
    def post(self, request: Request, number: int) -> Response:
        order = selectors.access_order_by_number(number=number)
        data = validated(s.CaptureInput, request.data, context={"currency": order.currency})
        hold: KeyHold = request.idempotency  # type: ignore[attr-defined]
        with hold.taken():
            authorized = authorizations.authorization_check(order=order, amount=data.get("amount"))
        answer = authorizations.payment_capture_request(authorized)
        authorizations.order_capture_settle(
            actor=request_actor(request), authorized=authorized, answer=answer
        )
        return self.stored_order_response(hold, number)


class AdminOrderVoidView(AdminOrderCancelView):
    @extend_schema(
        request=None,
        responses={
            200: s.OrderOutput,
            409: OpenApiResponse(description="No authorized payment to void (`payment_not_authorized`)."),
            503: OpenApiResponse(description="The provider did not answer; try again."),
        },
        operation_id="admin_orders_void",
        summary="Void an authorized card payment: nothing is taken, the order is cancelled",
        description="For an order whose `payment_status` is `authorized`. The provider drops the "
        "authorization (asked with no database lock held); the order is cancelled with payment_status "
        "`expired`, its stock goes back (`order.cancelled`, reason `payment_voided`).",
    )
    @idempotent(steps=True)
    def post(self, request: Request, number: int) -> Response:
        order = selectors.access_order_by_number(number=number)
        hold: KeyHold = request.idempotency  # type: ignore[attr-defined]
        with hold.taken():
            authorized = authorizations.authorization_check(order=order)
        answer = authorizations.payment_void_request(authorized)
        authorizations.order_void_settle(actor=request_actor(request), authorized=authorized, answer=answer)
        return self.stored_order_response(hold, number)


class AdminOrderEventsView(OrderAdminView):
    serializer_class = s.OrderEventOutput

    @extend_schema(
        responses=s.OrderEventOutput(many=True),
        operation_id="admin_orders_events_list",
        summary="The order's timeline: what happened to it, by whom, and internal notes (newest first)",
    )
    def get(self, request: Request, number: int) -> Response:
        # The cursor is checked first (a forged one is a 400 whatever the order); an empty
        # page then tells whether the order exists at all.
        page = self.paginate_queryset(selectors.order_timeline(number=number)) or []
        if not page:
            selectors.access_order_by_number(number=number)
        return self.get_paginated_response(s.OrderEventOutput(page, many=True).data)


class AdminOrderNotesView(OrderAdminView):
    @extend_schema(
        request=s.NoteInput,
        responses={201: s.OrderEventOutput},
        operation_id="admin_orders_notes_create",
        summary="Add an internal note to the order's timeline",
    )
    def post(self, request: Request, number: int) -> Response:
        data = validated(s.NoteInput, request.data)
        order = selectors.access_order_by_number(number=number)
        note = services.order_note_add(actor=request_actor(request), order=order, body=data["body"])
        return Response(s.OrderEventOutput(note).data, status=status.HTTP_201_CREATED)


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
    required_scopes = {"GET": "orders:read", "PATCH": "orders:write"}

    @extend_schema(
        responses=s.CustomerDetailOutput,
        operation_id="admin_customers_retrieve",
        summary="A customer with their orders",
    )
    def get(self, request: Request, customer_id: int) -> Response:
        customer = selectors.access_customer_by_id(customer_id=customer_id)
        return Response(_customer_detail(customer))

    @extend_schema(
        request=s.CustomerNoteInput,
        responses=s.CustomerDetailOutput,
        operation_id="admin_customers_update",
        summary="Change the internal notes about a customer",
    )
    def patch(self, request: Request, customer_id: int) -> Response:
        data = validated(s.CustomerNoteInput, request.data)
        customer = selectors.access_customer_by_id(customer_id=customer_id)
        customer = services.customer_note_set(
            actor=request_actor(request), customer=customer, note=data["note"]
        )
        return Response(_customer_detail(customer))


def _customer_detail(customer: Customer) -> dict[str, Any]:
    """A customer with their orders (on their record or with their e-mail), addresses and total spent."""
    orders = selectors.customer_order_history(customer=customer)
    return {
        **s.CustomerOutput(customer).data,
        "note": customer.note,
        "total_spent": [
            Money(amount, currency).as_json()
            for currency, amount in selectors.customer_total_spent(customer=customer)
        ],
        "addresses": s.AddressOutput(selectors.order_addresses(orders), many=True).data,
        "orders": s.OrderOutput(orders, many=True).data,
    }


# --- Admin: payment settings ---------------------------------------------------------------


def _payment_settings_body(current: PaymentSettings) -> dict[str, object]:
    return s.PaymentSettingsOutput(
        {
            "manual_enabled": current.manual_enabled,
            "manual_expiry_hours": current.manual_expiry_hours,
            "card_capture": current.card_capture,
            "card_authorization_expiry_minutes": settings.ORDER_AUTHORIZATION_EXPIRY_MINUTES,
            "providers": payments.providers_accepted(),
            "provider_webhooks": [
                {
                    "provider": code,
                    "path": f"/api/storefront/v1/payments/{code}/webhook",
                    "secret": payments.provider_webhook_secret(code),
                }
                for code, provider in payments.PROVIDERS.items()
                if provider.pays_at_checkout
            ],
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
        summary="Turn manual payment on or off, set how long its unpaid orders hold stock, and how cards "
        "are captured",
        description="Manual payment is off until turned on here. With `card_capture: manual` the checkout "
        "only authorizes cards (the order is `pending`, payment `authorized`, holding its stock) and the "
        "merchant captures or voids each order (`orders/{number}/capture`, `orders/{number}/void`). Both "
        "apply to orders placed afterwards; orders already placed keep theirs.",
    )
    def patch(self, request: Request) -> Response:
        data = validated(s.PaymentSettingsInput, request.data)
        return Response(
            _payment_settings_body(services.payment_settings_update(actor=request_actor(request), **data))
        )
