"""Input and output serializers of the order endpoints (Storefront and Admin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.api.serializers import RenditionOutput
from catalog.rendering import renditions_json
from orders.api.selling_serializers import (
    AppliedDiscountOutput,
    QuotedMethodOutput,
    RateOutputField,
    TaxLineOutput,
    TotalsOutput,
    country_field,
)
from orders.carts import CartView
from orders.countries import region_valid
from orders.models import Order, OrderEvent, Payment, PaymentSettings
from orders.payments import PROVIDERS
from orders.pricing import rate_text
from orders.quoting import CartQuote, quoted_method
from orders.selectors import ORDER_ORDERINGS
from orders.services import order_breakdown
from tenants.conventions.fields import (
    DayRangeQuery,
    OrderingField,
    StrictBooleanField,
    StrictCharField,
    StrictRegexField,
)
from tenants.conventions.money import AmountInputField, MoneyField, RecordMoneyField
from tenants.money import Money
from tenants.storage import object_url

# --- Carts ---------------------------------------------------------------------------


class CartItemInput(serializers.Serializer):
    variant = serializers.IntegerField(min_value=1, max_value=2**62)
    quantity = serializers.IntegerField(min_value=1, max_value=1000)


class CartItemUpdateInput(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=1000)


_CART_ITEM_BOUNDS = {"variant": (1, 2**62), "quantity": (1, 1000)}


def cart_item_input_plain(data: Any, *, fields: tuple[str, ...]) -> dict[str, int] | None:
    """
    What CartItemInput (fields variant and quantity) or CartItemUpdateInput
    (quantity) validates `data` to, when `data` is exactly those fields as JSON
    integers in range; None for anything else, which the serializer then judges
    (and words the 400 for). Building the serializer's fields cost more than
    the request's SQL; a test holds the two equal.
    """
    if type(data) is not dict or len(data) != len(fields):
        return None
    plain = {}
    for name in fields:
        value = data.get(name)
        low, high = _CART_ITEM_BOUNDS[name]
        if type(value) is not int or not low <= value <= high:
            return None
        plain[name] = value
    return plain


def _thumbnail_url(key: str) -> str | None:
    return object_url(key) if key else None


class CartLineOutput(serializers.Serializer):
    id = serializers.IntegerField(source="item_id", help_text="The item id (the variant's id).")
    variant = serializers.IntegerField(source="variant.id")
    product = serializers.IntegerField(source="variant.product_id")
    sku = serializers.CharField(source="variant.sku")
    title = serializers.CharField(source="variant.product_title")
    variant_title = serializers.CharField(source="variant.title")
    product_slug = serializers.CharField(
        source="variant.product_slug", help_text="Links to the product's page."
    )
    thumbnail_url = serializers.SerializerMethodField(
        help_text="The product's first picture, small; null if none."
    )
    renditions = serializers.SerializerMethodField(
        help_text="That picture at several widths (WebP, narrowest first), for `srcset`; empty if none."
    )
    quantity = serializers.IntegerField()
    unit_price = MoneyField()
    line_total = MoneyField()
    available = serializers.BooleanField(
        help_text="False when the item is no longer for sale or not in stock."
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_thumbnail_url(self, line: Any) -> str | None:
        return _thumbnail_url(line.variant.thumbnail_key)

    @extend_schema_field(RenditionOutput(many=True))
    def get_renditions(self, line: Any) -> list[dict[str, Any]]:
        return renditions_json(line.variant.renditions)


class AddressOutput(serializers.Serializer):
    name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    city = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField()
    region = serializers.CharField(default="", help_text="ISO 3166-2 subdivision (after the dash), or empty.")


@dataclass(frozen=True)
class PricedCart:
    """A cart with its quote: what CartOutput renders."""

    view: CartView
    priced: CartQuote

    def __getattr__(self, name: str) -> Any:
        return getattr(self.view, name)


def _priced_field(help_text: str = "") -> serializers.SerializerMethodField:
    """A field of the cart's (or order's) breakdown; its schema is on its get_ method."""
    return serializers.SerializerMethodField(help_text=help_text or None)


class CartOutput(serializers.Serializer):
    id = serializers.CharField()
    lines = CartLineOutput(many=True)
    subtotal = MoneyField()
    item_count = serializers.IntegerField()
    shipping_address = _priced_field()
    shipping_method = _priced_field("The chosen method while it serves the address and contents, else null.")
    discount_codes = _priced_field("At most one code.")
    discounts = _priced_field("The discounts that apply now, automatic ones included.")
    prices_include_tax = _priced_field()
    totals = _priced_field()
    tax_lines = _priced_field()

    def _priced(self, cart: PricedCart, name: str) -> Any:
        return cart_pricing_output(cart.view, cart.priced)[name]

    @extend_schema_field(AddressOutput(allow_null=True))
    def get_shipping_address(self, cart: PricedCart) -> Any:
        return self._priced(cart, "shipping_address")

    @extend_schema_field(QuotedMethodOutput(allow_null=True))
    def get_shipping_method(self, cart: PricedCart) -> Any:
        return self._priced(cart, "shipping_method")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_discount_codes(self, cart: PricedCart) -> Any:
        return self._priced(cart, "discount_codes")

    @extend_schema_field(AppliedDiscountOutput(many=True))
    def get_discounts(self, cart: PricedCart) -> Any:
        return self._priced(cart, "discounts")

    @extend_schema_field(serializers.BooleanField())
    def get_prices_include_tax(self, cart: PricedCart) -> Any:
        return self._priced(cart, "prices_include_tax")

    @extend_schema_field(TotalsOutput())
    def get_totals(self, cart: PricedCart) -> Any:
        return self._priced(cart, "totals")

    @extend_schema_field(TaxLineOutput(many=True))
    def get_tax_lines(self, cart: PricedCart) -> Any:
        return self._priced(cart, "tax_lines")


def cart_output(view: CartView, priced: CartQuote) -> dict[str, Any]:
    """
    `CartOutput(view).data`, written out: every cart request answers the cart, and
    building the serializer's fields for each line cost more than the request's SQL.
    CartOutput stays the contract (the OpenAPI document); a test holds the two equal.
    """
    return {
        "id": view.id,
        "lines": [
            {
                "id": line.item_id,
                "variant": line.variant.id,
                "product": line.variant.product_id,
                "sku": line.variant.sku,
                "title": line.variant.product_title,
                "variant_title": line.variant.title,
                "product_slug": line.variant.product_slug,
                "thumbnail_url": _thumbnail_url(line.variant.thumbnail_key),
                "renditions": renditions_json(line.variant.renditions),
                "quantity": line.quantity,
                "unit_price": line.unit_price.as_json(),
                "line_total": line.line_total.as_json(),
                "available": line.available,
            }
            for line in view.lines
        ],
        "subtotal": view.subtotal.as_json(),
        "item_count": view.item_count,
        **cart_pricing_output(view, priced),
    }


def cart_pricing_output(view: CartView, priced: CartQuote) -> dict[str, Any]:
    """The cart's choices and breakdown (CartOutput's fields after item_count)."""
    quote = priced.quote
    currency = quote.currency
    address = view.choices.shipping_address
    return {
        "shipping_address": None if address is None else {"line2": "", "region": "", **address},
        "shipping_method": quoted_method(quote),
        "discount_codes": [view.choices.discount_code] if view.choices.discount_code else [],
        "discounts": [applied.as_json(currency) for applied in quote.discounts],
        "prices_include_tax": quote.prices_include_tax,
        "totals": quote.totals_json(),
        "tax_lines": [line.as_json(currency) for line in quote.tax_lines],
    }


# --- Checkout --------------------------------------------------------------------------


class ShippingAddressInput(serializers.Serializer):
    name = StrictCharField(max_length=200)
    line1 = StrictCharField(max_length=200)
    line2 = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    city = StrictCharField(max_length=100)
    postal_code = StrictCharField(max_length=20)
    country = country_field()
    region = StrictRegexField(
        r"^[A-Z0-9]{0,3}$", required=False, allow_blank=True, default="",
        help_text="ISO 3166-2 subdivision, the part after the dash (CA of US-CA); for regional tax rates.",
    )  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        region, country = attrs.get("region"), attrs.get("country")
        if not region:
            return attrs
        if country is None:  # a partial update: the region is checked against its country
            raise serializers.ValidationError({"country": ["Send the country with a region."]})
        if not region_valid(country, region):
            raise serializers.ValidationError({"region": [f"Not a region of {country}."]})
        return attrs


class PaymentMethodInput(serializers.Serializer):
    provider = serializers.ChoiceField(choices=sorted(PROVIDERS))
    card_number = StrictRegexField(r"^[0-9 ]{12,23}$", required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["provider"] == "test" and not attrs.get("card_number"):
            raise serializers.ValidationError({"card_number": ["The test provider needs a card number."]})
        return attrs


class CheckoutInput(serializers.Serializer):
    cart = StrictRegexField(r"^[0-9a-f]{32}$")
    email = serializers.EmailField(max_length=254)
    shipping_address = ShippingAddressInput(required=False, help_text="Defaults to the cart's.")
    shipping_method = serializers.IntegerField(
        min_value=1,
        max_value=2**62,
        required=False,
        help_text="Defaults to the cart's; needed for goods to ship.",
    )
    payment_method = PaymentMethodInput()


# --- Orders --------------------------------------------------------------------------


class OrderLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    variant = serializers.IntegerField(source="variant_id", allow_null=True)
    product = serializers.IntegerField(source="product_id", allow_null=True)
    sku = serializers.CharField()
    title = serializers.CharField()
    variant_title = serializers.CharField()
    unit_price = RecordMoneyField(currency_source="order.currency")
    quantity = serializers.IntegerField()
    line_total = RecordMoneyField(currency_source="order.currency")
    refunded_quantity = serializers.IntegerField(help_text="Units of this line refunded so far.")
    fulfilled_quantity = serializers.IntegerField(help_text="Units of this line shipped so far.")
    restocked_quantity = serializers.IntegerField(
        help_text="Of the refunded units, those put back into stock: they never ship."
    )
    discount = RecordMoneyField(currency_source="order.currency", help_text="Its share of the discounts.")
    tax = RecordMoneyField(currency_source="order.currency")
    tax_rate = RateOutputField(help_text="Percent, as applied at checkout.")
    tax_name = serializers.CharField()


class PaymentOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Payment.Kind.choices)
    status = serializers.ChoiceField(
        choices=Payment.Status.choices,
        help_text="A charge: pending until its provider answers, requires_action while the shopper "
        "confirms it, then succeeded, authorized, failed or voided. A refund: pending until the provider "
        "paid it back.",
    )
    provider = serializers.CharField()
    amount = RecordMoneyField(currency_source="order.currency")
    shipping_amount = RecordMoneyField(
        currency_source="order.currency", help_text="Of a refund: the part that pays back shipping."
    )
    reference = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class FulfillmentLineOutput(serializers.Serializer):
    line = serializers.IntegerField(source="order_line_id", help_text="The order line's id.")
    quantity = serializers.IntegerField(help_text="Units of it in this parcel.")


class FulfillmentOutput(serializers.Serializer):
    """A parcel that shipped: which units, and how to follow it."""

    id = serializers.IntegerField()
    lines = FulfillmentLineOutput(many=True, source="lines.all")
    tracking_number = serializers.CharField()
    carrier = serializers.CharField()
    tracking_url = serializers.CharField(help_text="An http(s) link to follow the parcel, or empty.")
    created_at = serializers.DateTimeField()


_DATETIME = serializers.DateTimeField()
_ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postal_code", "country", "region")


class OrderOutput(serializers.Serializer):
    """An order as shoppers and merchants see it: status, money, address, lines and payments."""

    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Order.Status.choices)
    payment_status = serializers.ChoiceField(choices=Order.PaymentStatus.choices)
    fulfillment_status = serializers.ChoiceField(choices=Order.FulfillmentStatus.choices)
    payment_action_url = serializers.CharField(
        allow_null=True,
        help_text="While the payment waits for the shopper (3-D Secure, a redirect): where to send them; "
        "then `POST orders/{number}/payment-confirmation`.",
    )
    email = serializers.EmailField()
    currency = serializers.CharField(
        help_text="The currency the order was placed in; all its amounts are in it."
    )
    subtotal = RecordMoneyField()
    total = RecordMoneyField()
    totals = _priced_field("The breakdown, snapshotted at checkout.")
    prices_include_tax = serializers.BooleanField()
    tax_lines = _priced_field("The tax by rate.")
    discounts = _priced_field("The discounts applied.")
    shipping_method = _priced_field("As quoted; null when nothing shipped.")
    refunded_amount = RecordMoneyField()
    shipping_address = AddressOutput()
    payment_provider = serializers.CharField()
    lines = OrderLineOutput(many=True, source="lines.all")
    payments = PaymentOutput(many=True, source="payments.all")
    fulfillments = FulfillmentOutput(
        many=True, source="fulfillments.all", help_text="The parcels shipped so far, oldest first."
    )
    placed_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    fulfilled_at = serializers.DateTimeField(allow_null=True)
    tracking_number = serializers.CharField(help_text="The latest fulfilment's; empty without one.")
    carrier = serializers.CharField(help_text="The latest fulfilment's; empty without one.")
    tracking_url = serializers.CharField(help_text="The latest fulfilment's http(s) link, or empty.")
    cancelled_at = serializers.DateTimeField(allow_null=True)
    refunded_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(
        allow_null=True,
        help_text="While the order is unpaid: when it expires and gives its stock back unless paid.",
    )

    @extend_schema_field(TotalsOutput())
    def get_totals(self, order: Order) -> Any:
        return order_breakdown(order)["totals"]

    @extend_schema_field(TaxLineOutput(many=True))
    def get_tax_lines(self, order: Order) -> Any:
        return order.tax_lines

    @extend_schema_field(AppliedDiscountOutput(many=True))
    def get_discounts(self, order: Order) -> Any:
        return order.discounts

    @extend_schema_field(QuotedMethodOutput(allow_null=True))
    def get_shipping_method(self, order: Order) -> Any:
        return order.shipping_method

    def to_representation(self, order: Order) -> dict[str, Any]:
        # The declared fields above are the contract and the OpenAPI schema; this writes
        # them out by hand, as DRF's generic rendering built and copied some forty fields
        # per order, a large part of the checkout's CPU. A test holds the two renderings equal.
        # Every amount in the order's own currency: the shop's may have changed since.
        currency = order.currency

        def money(amount: Decimal) -> dict[str, str]:
            return Money(amount, currency).as_json()

        def when(value: datetime | None) -> str | None:
            return None if value is None else _DATETIME.to_representation(value)

        address = order.shipping_address
        payments = list(order.payments.all())
        waiting = Payment.Status.REQUIRES_ACTION
        action = next((p.action_url for p in payments if p.status == waiting and p.action_url), None)
        return {
            "number": order.number,
            "status": str(order.status),
            "payment_status": str(order.payment_status),
            "fulfillment_status": str(order.fulfillment_status),
            "payment_action_url": action,
            "email": order.email,
            "currency": order.currency,
            "subtotal": money(order.subtotal),
            "total": money(order.total),
            **{name: value for name, value in order_breakdown(order).items()},
            "refunded_amount": money(order.refunded_amount),
            "shipping_address": {name: str(address.get(name, "")) for name in _ADDRESS_FIELDS},
            "payment_provider": order.payment_provider,
            "lines": [
                {
                    "id": line.pk,
                    "variant": line.variant_id,
                    "product": line.product_id,
                    "sku": line.sku,
                    "title": line.title,
                    "variant_title": line.variant_title,
                    "unit_price": money(line.unit_price),
                    "quantity": line.quantity,
                    "line_total": money(line.line_total),
                    "refunded_quantity": line.refunded_quantity,
                    "fulfilled_quantity": line.fulfilled_quantity,
                    "restocked_quantity": line.restocked_quantity,
                    "discount": money(line.discount),
                    "tax": money(line.tax),
                    "tax_rate": rate_text(line.tax_rate),
                    "tax_name": line.tax_name,
                }
                for line in order.lines.all()
            ],
            "payments": [
                {
                    "kind": str(payment.kind),
                    "status": str(payment.status),
                    "provider": payment.provider,
                    "amount": money(payment.amount),
                    "shipping_amount": money(payment.shipping_amount),
                    "reference": payment.reference,
                    "reason": payment.reason,
                    "created_at": when(payment.created_at),
                }
                for payment in payments
            ],
            "fulfillments": [
                {
                    "id": fulfillment.pk,
                    "lines": [
                        {"line": line.order_line_id, "quantity": line.quantity}
                        for line in fulfillment.lines.all()
                    ],
                    "tracking_number": fulfillment.tracking_number,
                    "carrier": fulfillment.carrier,
                    "tracking_url": fulfillment.tracking_url,
                    "created_at": when(fulfillment.created_at),
                }
                for fulfillment in order.fulfillments.all()
            ],
            "placed_at": when(order.placed_at),
            "paid_at": when(order.paid_at),
            "fulfilled_at": when(order.fulfilled_at),
            "tracking_number": order.tracking_number,
            "carrier": order.carrier,
            "tracking_url": order.tracking_url,
            "cancelled_at": when(order.cancelled_at),
            "refunded_at": when(order.refunded_at),
            "expires_at": when(order.expires_at) if order.status == Order.Status.PENDING else None,
        }


class PlacedOrderOutput(OrderOutput):
    token = serializers.CharField(help_text="The shopper's secret to view this order; shown only here.")


ORDER_ORDERING_DEFAULT = "-number"


class OrderQuery(DayRangeQuery):
    """`from`/`to` are whole days (UTC), both included; they become `placed_on_from`/`placed_on_to`."""

    day_range_prefix = "placed_on"
    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)
    payment_status = serializers.ChoiceField(choices=Order.PaymentStatus.choices, required=False)
    fulfillment_status = serializers.ChoiceField(choices=Order.FulfillmentStatus.choices, required=False)
    email = serializers.EmailField(required=False)
    placed_from = serializers.DateTimeField(required=False)
    placed_to = serializers.DateTimeField(required=False)
    q = StrictCharField(max_length=200, required=False)
    total_min = AmountInputField(required=False)
    total_max = AmountInputField(required=False)
    ordering = OrderingField(ORDER_ORDERINGS, default=ORDER_ORDERING_DEFAULT)


class FulfillLineInput(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, max_value=2**62, help_text="The order line's id.")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000, help_text="Units of it shipped.")


class FulfillInput(serializers.Serializer):
    lines = FulfillLineInput(  # type: ignore[call-arg]
        many=True,
        required=False,
        max_length=500,
        help_text="The units this parcel ships; without it (or empty), every unit still to ship.",
    )
    tracking_number = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    carrier = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    tracking_url = StrictCharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="An http(s) link to follow the parcel.",
    )

    def validate_tracking_url(self, value: str) -> str:
        if value:
            try:
                URLValidator(schemes=["http", "https"])(value)
            except DjangoValidationError:
                raise serializers.ValidationError("Enter an http or https link.") from None
        return value


class CustomerNoteInput(serializers.Serializer):
    note = StrictCharField(
        max_length=5000,
        allow_blank=True,
        help_text="Internal notes about the customer (never shown to them).",
    )


class OrderTokenQuery(serializers.Serializer):
    token = StrictCharField(max_length=100)


class CancelInput(serializers.Serializer):
    reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


class MarkPaidInput(serializers.Serializer):
    reference = StrictCharField(max_length=100, required=False, allow_blank=True, default="")


class RefundLineInput(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, max_value=2**62, help_text="The order line's id.")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    restock = StrictBooleanField(
        required=False, default=False, help_text="Put the units back into stock (the stock ledger says why)."
    )


class RefundInput(serializers.Serializer):
    amount = AmountInputField(
        required=False,
        help_text="A plain amount, in the order's currency; without it, the lines' units at the price paid "
        "plus `shipping`.",
    )
    lines = RefundLineInput(many=True, required=False, max_length=500)  # type: ignore[call-arg]
    shipping = AmountInputField(
        required=False, help_text="Shipping paid back, at most what is left to refund of the order."
    )
    reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        itemised = bool(attrs.get("lines")) or "shipping" in attrs
        if "amount" in attrs and itemised:
            raise serializers.ValidationError(
                {"amount": ["Send either an amount, or lines and shipping, not both."]}
            )
        if "amount" not in attrs and not itemised:
            raise serializers.ValidationError({"amount": ["Send an amount, or lines and/or shipping."]})
        return attrs


class NoteInput(serializers.Serializer):
    body = StrictCharField(max_length=5000, help_text="An internal note: only the shop's staff see it.")


class OrderEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=OrderEvent.Type.choices)
    actor = serializers.CharField(help_text="Who: a member's e-mail, an API key, the shopper, or system.")
    message = serializers.CharField()
    # A field named like Serializer.data: DRF moves declared fields off the class, so .data stays.
    data = serializers.DictField(help_text="Details of the entry (a refund's amount and lines, a reference).")  # type: ignore[assignment]
    created_at = serializers.DateTimeField()


class PaymentConfirmationInput(serializers.Serializer):
    token = StrictCharField(max_length=100, help_text="The order's token from checkout.")
    details = serializers.DictField(
        required=False,
        default=dict,
        help_text="What the provider's page returned; the `test` provider's 3-D Secure page sends "
        '`{"authentication": "approve"}` or `"decline"`.',
    )

    def validate_details(self, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > 20 or any(
            not isinstance(item, str) or len(item) > 500 or "\x00" in item for item in value.values()
        ):
            raise serializers.ValidationError("At most 20 text values of up to 500 characters.")
        return value


class ProviderWebhookInput(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=["payment.succeeded", "payment.authorized", "payment.requires_action", "payment.failed"]
    )
    payment = StrictCharField(max_length=64, help_text="The payment's idempotency key (the order's).")
    reference = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    message = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
    action_url = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class CustomerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    orders_count = serializers.IntegerField()
    first_order_at = serializers.DateTimeField(allow_null=True)
    last_order_at = serializers.DateTimeField(allow_null=True)


class CustomerDetailOutput(CustomerOutput):
    note = serializers.CharField(help_text="Internal notes about the customer.")
    total_spent = serializers.ListField(
        child=MoneyField(),
        help_text="What their paid orders came to, less refunds: one amount per currency they ordered in.",
    )
    addresses = AddressOutput(
        many=True, help_text="The distinct shipping addresses of their orders, newest first."
    )
    orders = OrderOutput(many=True)


class CustomerQuery(serializers.Serializer):
    email = StrictCharField(max_length=254, required=False)


# --- Payment settings ------------------------------------------------------------------


class CaptureInput(serializers.Serializer):
    amount = AmountInputField(
        required=False,
        help_text="What to take, in the order's currency, at most what was authorized (the rest is "
        "released); without it, all of it.",
    )


class PaymentSettingsInput(serializers.Serializer):
    manual_enabled = StrictBooleanField(
        required=False, help_text="Accept manual payment (bank transfer): orders wait unpaid, holding stock."
    )
    manual_expiry_hours = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=PaymentSettings.MANUAL_EXPIRY_HOURS_MAX,
        help_text="Hours an unpaid manual order holds its stock before it expires (for orders placed later).",
    )
    card_capture = serializers.ChoiceField(
        choices=PaymentSettings.CardCapture.choices,
        required=False,
        help_text="`automatic`: cards are charged at checkout. `manual`: checkout only authorizes the card; "
        "capture or void each order from the admin (for orders placed later).",
    )


class ProviderWebhookOutput(serializers.Serializer):
    provider = serializers.CharField()
    path = serializers.CharField(help_text="Where the provider posts, on any of the shop's hosts.")
    secret = serializers.CharField(help_text="What the provider signs its `Provider-Signature` with.")


class PaymentSettingsOutput(serializers.Serializer):
    manual_enabled = serializers.BooleanField()
    manual_expiry_hours = serializers.IntegerField()
    card_capture = serializers.ChoiceField(choices=PaymentSettings.CardCapture.choices)
    card_authorization_expiry_minutes = serializers.IntegerField(
        help_text="Minutes an order whose card payment did not complete holds its stock (platform setting)."
    )
    providers = serializers.ListField(
        child=serializers.CharField(), help_text="The payment providers shoppers can choose from now."
    )
    provider_webhooks = ProviderWebhookOutput(
        many=True, help_text="The endpoints of this shop for its card providers' asynchronous confirmations."
    )


class PaymentMethodsOutput(serializers.Serializer):
    providers = serializers.ListField(
        child=serializers.CharField(),
        help_text="The payment providers this shop accepts at checkout (`payment_method.provider`).",
    )
