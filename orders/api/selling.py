"""
Selling endpoints: the merchant's shipping zones, taxes and discounts (Admin
API), and the cart's address, shipping method and discount code (Storefront API).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.models import Category, Product
from orders import carts, countries, discounts, pricing, quoting, shipping, taxes
from orders.api import selling_serializers as ss
from orders.api.serializers import CartOutput, ShippingAddressInput
from orders.api.views import _cart_body
from orders.errors import DiscountUnknown
from tenants.api.auth import request_actor
from tenants.api.base import AdminAPIView, StorefrontAPIView, shop_context, shop_currency, validated
from tenants.errors import ResourceNotFound
from tenants.models import Membership

SETTINGS_SCOPES = {
    "GET": "orders:read",
    "POST": "orders:write",
    "PUT": "orders:write",
    "PATCH": "orders:write",
    "DELETE": "orders:write",
}
MERCHANTS = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN})


class SellingAdminView(AdminAPIView):
    required_scopes = SETTINGS_SCOPES
    member_roles = MERCHANTS

    def output(self, serializer_class: type, instance: Any, **kwargs: Any) -> Any:
        return serializer_class(instance, context=shop_context(self.request), **kwargs).data

    def valid(self, serializer_class: type, data: Any) -> dict[str, Any]:
        return validated(serializer_class, data, context=shop_context(self.request))


# --- Admin: shipping zones ------------------------------------------------------------------


def _method_specs(methods: list[dict[str, Any]]) -> list[shipping.MethodSpec]:
    return [
        shipping.MethodSpec(
            id=method.get("id"),
            name=method["name"],
            rate_type=method["rate_type"],
            price=method["price"],
            free_over=method["free_over"],
            weight_bands=tuple((band["up_to_grams"], band["price"]) for band in method["weight_bands"]),
            min_days=method["min_days"],
            max_days=method["max_days"],
            pickup=method["pickup"],
        )
        for method in methods
    ]


class AdminShippingZoneListView(SellingAdminView):
    serializer_class = ss.ShippingZoneOutput
    pagination_class = None  # a shop has at most shipping.MAX_ZONES

    @extend_schema(
        responses=ss.ShippingZoneOutput(many=True),
        operation_id="admin_shipping_zones_list",
        summary="Shipping zones with their methods",
    )
    def get(self, request: Request) -> Response:
        return Response(self.output(ss.ShippingZoneOutput, shipping.zones_list(), many=True))

    @extend_schema(
        request=ss.ShippingZoneInput,
        responses={
            201: ss.ShippingZoneOutput,
            409: OpenApiResponse(
                description="A country is already in another zone (`shipping_zone_overlap`)."
            ),
        },
        operation_id="admin_shipping_zones_create",
        summary="Create a shipping zone (countries, postal-code prefixes, methods)",
    )
    def post(self, request: Request) -> Response:
        data = self.valid(ss.ShippingZoneInput, request.data)
        zone = shipping.shipping_zone_create(
            actor=request_actor(request),
            name=data["name"],
            countries=data["countries"],
            postal_code_prefixes=data.get("postal_code_prefixes", []),
            methods=_method_specs(data.get("methods", [])),
        )
        return Response(self.output(ss.ShippingZoneOutput, zone), status=status.HTTP_201_CREATED)


class AdminShippingZoneDetailView(SellingAdminView):
    @extend_schema(
        responses=ss.ShippingZoneOutput,
        operation_id="admin_shipping_zones_retrieve",
        summary="A shipping zone",
    )
    def get(self, request: Request, zone_id: int) -> Response:
        return Response(self.output(ss.ShippingZoneOutput, shipping.access_zone_by_id(zone_id=zone_id)))

    @extend_schema(
        request=ss.ShippingZoneUpdateInput,
        responses={
            200: ss.ShippingZoneOutput,
            409: OpenApiResponse(
                description="A country is already in another zone (`shipping_zone_overlap`)."
            ),
        },
        operation_id="admin_shipping_zones_update",
        summary="Change a shipping zone",
        description="`methods`, when given, become the zone's methods: those named by `id` are kept and "
        "changed, those without an `id` are added, the others are removed.",
    )
    def patch(self, request: Request, zone_id: int) -> Response:
        zone = shipping.access_zone_by_id(zone_id=zone_id)
        data = self.valid(ss.ShippingZoneUpdateInput, request.data)
        if "methods" in data:
            data["methods"] = _method_specs(data["methods"])
        zone = shipping.shipping_zone_update(actor=request_actor(request), zone=zone, **data)
        return Response(self.output(ss.ShippingZoneOutput, zone))

    @extend_schema(responses={204: None}, operation_id="admin_shipping_zones_delete", summary="Delete a zone")
    def delete(self, request: Request, zone_id: int) -> Response:
        zone = shipping.access_zone_by_id(zone_id=zone_id)
        shipping.shipping_zone_delete(actor=request_actor(request), zone=zone)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Admin: taxes ---------------------------------------------------------------------------


class AdminTaxesView(SellingAdminView):
    @extend_schema(
        responses=ss.TaxesOutput, operation_id="admin_taxes_retrieve", summary="The shop's tax settings"
    )
    def get(self, request: Request) -> Response:
        return Response(ss.TaxesOutput(taxes.tax_settings_json(taxes.tax_settings())).data)

    @extend_schema(
        request=ss.TaxesInput,
        responses=ss.TaxesOutput,
        operation_id="admin_taxes_update",
        summary="Replace the shop's tax settings",
        description="Rates are percentages as decimal strings. The most specific rate applies: a category "
        "override for the country, else the region's rate, else the country's, else `default_rate`.",
    )
    def put(self, request: Request) -> Response:
        data = self.valid(ss.TaxesInput, request.data)
        wanted = {override["category"] for override in data["category_overrides"]}
        known = set(Category.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        if wanted - known:
            raise serializers.ValidationError(
                {"category_overrides": [f"Unknown category {min(wanted - known)}."]}
            )
        saved = taxes.taxes_update(actor=request_actor(request), **data)
        return Response(ss.TaxesOutput(taxes.tax_settings_json(saved)).data)


# --- Admin: discounts -----------------------------------------------------------------------


def _discount_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The service's fields from the input: `applies_to` checked against the catalog and unpacked."""
    fields = {name: value for name, value in data.items() if name != "applies_to"}
    applies_to = data.get("applies_to")
    if applies_to is not None:
        for name, model in (("products", Product), ("categories", Category)):
            wanted = set(applies_to[name])
            known = set(model.objects.filter(pk__in=wanted).values_list("pk", flat=True))
            if wanted - known:
                raise serializers.ValidationError(
                    {f"applies_to.{name}": [f"Unknown id {min(wanted - known)}."]}
                )
        fields["product_ids"] = sorted(set(applies_to["products"]))
        fields["category_ids"] = sorted(set(applies_to["categories"]))
    return fields


class AdminDiscountListView(SellingAdminView):
    serializer_class = ss.DiscountOutput

    @extend_schema(
        responses=ss.DiscountOutput(many=True),
        operation_id="admin_discounts_list",
        summary="Discounts, newest first",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(discounts.discounts_list()) or []
        return self.get_paginated_response(self.output(ss.DiscountOutput, page, many=True))

    @extend_schema(
        request=ss.DiscountInput,
        responses={
            201: ss.DiscountOutput,
            409: OpenApiResponse(description="Another discount has this code (`discount_code_taken`)."),
        },
        operation_id="admin_discounts_create",
        summary="Create a discount code, or an automatic promotion (no code)",
    )
    def post(self, request: Request) -> Response:
        data = self.valid(ss.DiscountInput, request.data)
        ss.discount_fields_check(data)
        discount = discounts.discount_create(actor=request_actor(request), **_discount_fields(data))
        return Response(self.output(ss.DiscountOutput, discount), status=status.HTTP_201_CREATED)


class AdminDiscountDetailView(SellingAdminView):
    @extend_schema(responses=ss.DiscountOutput, operation_id="admin_discounts_retrieve", summary="A discount")
    def get(self, request: Request, discount_id: int) -> Response:
        return Response(
            self.output(ss.DiscountOutput, discounts.access_discount_by_id(discount_id=discount_id))
        )

    @extend_schema(
        request=ss.DiscountUpdateInput,
        responses={
            200: ss.DiscountOutput,
            409: OpenApiResponse(description="Another discount has this code (`discount_code_taken`)."),
            422: OpenApiResponse(description="A usage limit below the uses counted (`discount_exhausted`)."),
        },
        operation_id="admin_discounts_update",
        summary="Change a discount",
    )
    def patch(self, request: Request, discount_id: int) -> Response:
        discount = discounts.access_discount_by_id(discount_id=discount_id)
        data = self.valid(ss.DiscountUpdateInput, request.data)
        current = {name: getattr(discount, name) for name in ("kind", "value", "starts_at", "ends_at")}
        ss.discount_fields_check({**current, **data})
        discount = discounts.discount_update(
            actor=request_actor(request), discount=discount, **_discount_fields(data)
        )
        return Response(self.output(ss.DiscountOutput, discount))

    @extend_schema(responses={204: None}, operation_id="admin_discounts_delete", summary="Delete a discount")
    def delete(self, request: Request, discount_id: int) -> Response:
        discount = discounts.access_discount_by_id(discount_id=discount_id)
        discounts.discount_delete(actor=request_actor(request), discount=discount)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Storefront: the cart's address, shipping method and discount code ---------------------------


def _cart_view(request: Request, cart_id: str, cart: carts.CartRow) -> carts.CartView:
    return carts.cart_view_of(cart_id, cart, currency=shop_currency(request))


class CartShippingAddressView(StorefrontAPIView):
    @extend_schema(
        request=ShippingAddressInput,
        responses=CartOutput,
        operation_id="storefront_cart_shipping_address",
        summary="Set where the cart goes (re-prices tax; a method that no longer serves it is dropped)",
    )
    def put(self, request: Request, cart_id: str) -> Response:
        address = validated(ShippingAddressInput, request.data, context=shop_context(request))
        cart = carts.cart_read(cart_id, for_change=True)
        changes: dict[str, Any] = {"shipping_address": dict(address)}
        if cart.choices.shipping_method_id is not None:
            method = quoting.pricing_context(method_id=cart.choices.shipping_method_id, code=None).method
            if method is None or not method.serves(quoting.address_of(address)):
                changes["shipping_method_id"] = None
        return _cart_body(_cart_view(request, cart_id, carts.cart_choices_set(cart_id, **changes)))


class CartShippingMethodsView(StorefrontAPIView):
    pagination_class = None  # a zone has at most shipping.MAX_METHODS

    @extend_schema(
        responses=ss.ShippingOfferOutput(many=True),
        operation_id="storefront_cart_shipping_methods",
        summary="The shipping methods for the cart's address and contents, priced",
    )
    def get(self, request: Request, cart_id: str) -> Response:
        view = carts.cart_view(cart_id, currency=shop_currency(request))
        address = quoting.address_of(view.choices.shipping_address)
        if address is None:
            return Response([])
        priced = quoting.cart_quote(view, currency=view.subtotal.currency)
        items = quoting.cart_items(view)
        weight = sum(item.weight_grams * item.quantity for item in items)
        goods = priced.quote.subtotal - sum((line.discount for line in priced.quote.lines), Decimal(0))
        rounded = pricing.rounder(view.subtotal.currency)
        offers = []
        for method in shipping.methods_for(address):
            price = method.price_for(subtotal=goods, weight_grams=weight)
            if price is not None:
                offers.append(
                    {
                        "id": method.id,
                        "name": method.name,
                        "price": {"amount": str(rounded(price)), "currency": view.subtotal.currency},
                        "min_days": method.min_days,
                        "max_days": method.max_days,
                        "pickup": method.pickup,
                    }
                )
        return Response(offers)


class CartShippingMethodView(StorefrontAPIView):
    @extend_schema(
        request=ss.ShippingMethodChoiceInput,
        responses={
            200: CartOutput,
            409: OpenApiResponse(description="The cart has no address yet (`shipping_address_required`)."),
            422: OpenApiResponse(
                description="Not a method for this address or weight (`shipping_method_unavailable`)."
            ),
        },
        operation_id="storefront_cart_shipping_method",
        summary="Choose one of the cart's shipping methods",
    )
    def put(self, request: Request, cart_id: str) -> Response:
        data = validated(ss.ShippingMethodChoiceInput, request.data)
        view = carts.cart_view(cart_id, currency=shop_currency(request))
        method = quoting.pricing_context(method_id=data["method"], code=None).method
        quoting.method_check(
            method=method,
            address=quoting.address_of(view.choices.shipping_address),
            items=quoting.cart_items(view),
        )
        cart = carts.cart_choices_set(cart_id, shipping_method_id=data["method"])
        return _cart_body(_cart_view(request, cart_id, cart))


class CartDiscountCodesView(StorefrontAPIView):
    @extend_schema(
        request=ss.DiscountCodeInput,
        responses={
            201: CartOutput,
            422: OpenApiResponse(
                description="The code does not apply; `code` says why: `discount_unknown`, "
                "`discount_expired`, `discount_min_subtotal`, `discount_exhausted`, "
                "`discount_not_applicable`."
            ),
        },
        operation_id="storefront_cart_discount_codes_apply",
        summary="Apply a discount code (a cart holds one; a new one replaces it)",
    )
    def post(self, request: Request, cart_id: str) -> Response:
        data = validated(ss.DiscountCodeInput, request.data)
        view = carts.cart_view(cart_id, currency=shop_currency(request))
        rule = discounts.discount_by_code(data["code"])
        if rule is None or rule.code is None:
            raise DiscountUnknown("No discount has this code.", errors={"code": ["Unknown code."]})
        items = quoting.cart_items(view)
        subtotal = sum(
            (pricing.rounder(view.subtotal.currency)(i.unit_price * i.quantity) for i in items), Decimal(0)
        )
        refusal = pricing.discount_refusal(rule, items=items, subtotal=subtotal, now=timezone.now())
        if refusal is not None:
            raise refusal
        cart = carts.cart_choices_set(cart_id, discount_code=rule.code)
        return _cart_body(_cart_view(request, cart_id, cart), status.HTTP_201_CREATED)


class CartDiscountCodeView(StorefrontAPIView):
    @extend_schema(
        responses={200: CartOutput},
        operation_id="storefront_cart_discount_codes_remove",
        summary="Remove the cart's discount code",
    )
    def delete(self, request: Request, cart_id: str, code: str) -> Response:
        cart = carts.cart_read(cart_id, for_change=True)
        if cart.choices.discount_code is None or cart.choices.discount_code != discounts.code_normal(code):
            raise ResourceNotFound("This cart has no such code.")
        return _cart_body(_cart_view(request, cart_id, carts.cart_choices_set(cart_id, discount_code=None)))


# --- Storefront: a country's regions ------------------------------------------------------------

# pycountry's list changes only with a deploy: browsers and the edge may keep it for a day.
REGIONS_CACHE = "public, max-age=86400"


class CountryRegionsView(StorefrontAPIView):
    pagination_class = None  # a country has a few hundred subdivisions at most

    @extend_schema(
        responses={
            200: ss.RegionOutput(many=True),
            404: OpenApiResponse(description="Not an ISO country code."),
        },
        operation_id="storefront_country_regions",
        summary="A country's regions (ISO 3166-2), the ones an address's `region` takes",
        description="Sorted by name; empty for a country without subdivisions. The same list is accepted by "
        "`carts/{id}/shipping-address`, checkout and the Admin API's tax rates.",
    )
    def get(self, request: Request, country: str) -> Response:
        if not countries.country_valid(country):
            raise ResourceNotFound("Not an ISO 3166-1 alpha-2 country code (e.g. US).")
        regions = countries.country_regions(country)
        response = Response(ss.RegionOutput([region._asdict() for region in regions], many=True).data)
        response["Cache-Control"] = REGIONS_CACHE
        return response
