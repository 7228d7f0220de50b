"""
Shipping zones, taxes and discounts through the APIs: the merchant's settings,
the cart's address, method and code, and checkout re-pricing into the order.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import uuid
from typing import Any

import pytest
from django.db import connections
from rest_framework.test import APIClient

from catalog.models import Variant
from orders.countries import region_valid
from orders.models import Cart, Discount, DiscountUse, Order, ShippingZone, TaxSettings
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem
from tests.orders.helpers import ADDRESS, cart_with, checkout, sellable_product, storefront

DE_ADDRESS = {"name": "Grace Hopper", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117",
              "country": "DE"}  # fmt: skip
ZONE = {
    "name": "Germany and Austria",
    "countries": ["DE", "AT"],
    "methods": [
        {"name": "Standard", "price": "4.90", "free_over": "100.00", "min_days": 2, "max_days": 4},
        {
            "name": "Heavy goods",
            "rate_type": "weight",
            "weight_bands": [
                {"up_to_grams": 1000, "price": "5.90"},
                {"up_to_grams": 30000, "price": "14.90"},
            ],
        },
        {"name": "Pick up in Berlin", "price": "0.00", "pickup": True},
    ],
}
TAXES = {
    "prices_include_tax": False,
    "shipping_taxable": True,
    "default_rate": "0",
    "rates": [
        {"country": "DE", "rate": "19", "name": "MwSt"},
        {"country": "AT", "rate": "20", "name": "USt"},
    ],
    "category_overrides": [],
}


@pytest.fixture
def admin(api, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


def _count(ctx: ShopContext, model: Any, **filters: Any) -> int:
    use_shop(ctx.shop)
    try:
        return int(model.objects.filter(**filters).count())
    finally:
        use_public()


def _zone(admin: AdminClient, body: dict[str, Any] = ZONE) -> dict[str, Any]:
    response = admin.post("shipping-zones", body)
    assert response.status_code == 201, response.content
    return response.json()


def _discount(admin: AdminClient, **body: Any) -> dict[str, Any]:
    response = admin.post("discounts", body)
    assert response.status_code == 201, response.content
    return response.json()


# --- Shipping zones -------------------------------------------------------------------------


def test_zone_crud_keeps_method_ids(admin: AdminClient) -> None:
    zone = _zone(admin)
    assert zone["countries"] == ["AT", "DE"]
    standard, heavy, pickup = zone["methods"]
    assert standard["price"] == {"amount": "4.90", "currency": "EUR"}
    assert heavy["weight_bands"][1] == {"up_to_grams": 30000, "price": {"amount": "14.90", "currency": "EUR"}}
    assert pickup["pickup"] is True
    changed = admin.patch(
        f"shipping-zones/{zone['id']}",
        {
            "methods": [
                {"id": standard["id"], "name": "Standard", "price": "5.90"},
                {"name": "Express", "price": "9"},
            ]
        },
    )
    assert changed.status_code == 200, changed.content
    methods = changed.json()["methods"]
    assert [m["name"] for m in methods] == ["Standard", "Express"]
    assert methods[0]["id"] == standard["id"] and methods[0]["price"]["amount"] == "5.90"
    assert admin.get(f"shipping-zones/{zone['id']}").json() == changed.json()
    assert [z["id"] for z in admin.get("shipping-zones").json()] == [zone["id"]]
    assert admin.delete(f"shipping-zones/{zone['id']}").status_code == 204
    assert_problem(admin.get(f"shipping-zones/{zone['id']}"), 404)


def test_a_country_in_two_zones_is_409_and_changes_nothing(admin: AdminClient, shop_a: ShopContext) -> None:
    first = _zone(admin)
    other = _zone(admin, {"name": "France", "countries": ["FR"]})
    body = assert_problem(admin.post("shipping-zones", {"name": "DACH", "countries": ["CH", "DE"]}), 409)
    assert body["code"] == "shipping_zone_overlap" and "DE" in str(body["detail"])
    assert_problem(admin.patch(f"shipping-zones/{other['id']}", {"countries": ["FR", "AT"]}), 409)
    assert _count(shop_a, ShippingZone) == 2
    assert admin.get(f"shipping-zones/{other['id']}").json()["countries"] == ["FR"]
    # A zone may keep its own countries when changed.
    assert admin.patch(f"shipping-zones/{first['id']}", {"countries": ["DE"]}).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**ZONE, "countries": ["XX"]}, "countries"),
        ({**ZONE, "countries": ["de"]}, "countries"),
        ({**ZONE, "countries": []}, "countries"),
        ({**ZONE, "countries": "DE"}, "countries"),
        ({**ZONE, "name": "A\u0000B"}, None),
        ({**ZONE, "methods": [{"name": "Neg", "price": "-1.00"}]}, "methods"),
        ({**ZONE, "methods": [{"name": "Huge", "price": "1e400"}]}, "methods"),
        ({**ZONE, "methods": [{"name": "Float", "price": 4.9}]}, "methods"),
        ({**ZONE, "methods": [{"name": "W", "rate_type": "weight"}]}, "methods"),
        ({**ZONE, "methods": [{"name": "D", "price": "1", "min_days": 5, "max_days": 2}]}, "methods"),
        (
            {
                **ZONE,
                "methods": [{"name": "B", "price": "1", "weight_bands": [{"up_to_grams": -5, "price": "1"}]}],
            },
            "methods",
        ),
        ({**ZONE, "postal_code_prefixes": ["10<script>"]}, "postal_code_prefixes"),
        ({**ZONE, "methods": [{"id": 999999, "name": "Ghost", "price": "1"}]}, None),
    ],
)
def test_bad_zones_are_refused_and_change_nothing(
    admin: AdminClient, shop_a: ShopContext, body, field
) -> None:
    response = admin.post("shipping-zones", body)
    assert 400 <= response.status_code < 500, response.content
    problem = assert_problem(response, response.status_code)
    if field:
        assert any(key.startswith(field) for key in problem["errors"]), problem
    assert _count(shop_a, ShippingZone) == 0


def test_zones_and_discounts_are_the_shops_own(api, admin: AdminClient, shop_b: ShopContext) -> None:
    zone = _zone(admin)
    discount = _discount(admin, code="MINE", kind="percentage", value="10")
    other = AdminClient(api, shop_b)
    for path in (f"shipping-zones/{zone['id']}", f"discounts/{discount['id']}"):
        assert_problem(other.get(path), 404)
        assert_problem(other.patch(path, {"name": "Stolen"} if "zones" in path else {"active": False}), 404)
        assert_problem(other.delete(path), 404)
    assert other.get("shipping-zones").json() == []
    assert other.get("discounts").json()["results"] == []
    assert other.get("taxes").json()["rates"] == []
    # Shop B may put Germany in a zone of its own: zones do not collide across shops.
    assert other.post("shipping-zones", {"name": "DE", "countries": ["DE"]}).status_code == 201
    assert admin.get(f"discounts/{discount['id']}").json()["active"] is True


# --- Taxes -----------------------------------------------------------------------------------


def test_taxes_read_and_replace(admin: AdminClient, api) -> None:
    assert admin.get("taxes").json() == {
        "prices_include_tax": False,
        "shipping_taxable": True,
        "default_rate": "0",
        "rates": [],
        "category_overrides": [],
    }
    category = admin.post("categories", {"name": "Books"}).json()["id"]
    body = {
        **TAXES,
        "rates": [*TAXES["rates"], {"country": "US", "region": "CA", "rate": "7.25", "name": "CA sales tax"}],
        "category_overrides": [
            {"category": category, "country": "DE", "rate": "7.0", "name": "MwSt ermäßigt"}
        ],
    }
    response = admin.put("taxes", body)
    assert response.status_code == 200, response.content
    saved = admin.get("taxes").json()
    assert saved == response.json()
    assert saved["rates"][2] == {"country": "US", "region": "CA", "rate": "7.25", "name": "CA sales tax"}
    assert saved["category_overrides"][0]["rate"] == "7"


@pytest.mark.parametrize(
    "change",
    [
        {"default_rate": "-1"},
        {"default_rate": "100.5"},
        {"default_rate": 19},
        {"default_rate": "NaN"},
        {"default_rate": "1e400"},
        {"default_rate": "19.123456"},
        {"rates": [{"country": "XX", "rate": "19", "name": "?"}]},
        {"rates": [{"country": "DE", "rate": "-19", "name": "MwSt"}]},
        {"rates": [{"country": "US", "region": "ZZ", "rate": "5", "name": "?"}]},
        {
            "rates": [
                {"country": "DE", "rate": "19", "name": "A"},
                {"country": "DE", "rate": "7", "name": "B"},
            ]
        },
        {"category_overrides": [{"category": 999999, "country": "DE", "rate": "7", "name": "Books"}]},
        {"prices_include_tax": "yes"},
        {"shipping_taxable": None},
        {"default_rates": "7"},  # a misspelt setting is refused, not dropped
    ],
)
def test_bad_taxes_are_refused_and_change_nothing(admin: AdminClient, shop_a: ShopContext, change) -> None:
    assert admin.put("taxes", TAXES).status_code == 200
    assert_problem(admin.put("taxes", {**TAXES, **change}), 400)
    assert admin.get("taxes").json()["rates"][0] == {
        "country": "DE",
        "region": "",
        "rate": "19",
        "name": "MwSt",
    }
    assert _count(shop_a, TaxSettings) == 1


# --- Discounts -------------------------------------------------------------------------------


def test_discount_crud_records_events(admin: AdminClient, shop_a: ShopContext) -> None:
    product = sellable_product(admin)
    created = _discount(
        admin, code="summer-10", kind="percentage", value="10", applies_to={"products": [product["id"]]},
        usage_limit=100,
    )  # fmt: skip
    assert created["code"] == "SUMMER-10" and created["times_used"] == 0
    assert created["applies_to"] == {"products": [product["id"]], "categories": []}
    assert_problem(admin.post("discounts", {"code": "Summer-10", "kind": "fixed", "value": "5"}), 409)
    changed = admin.patch(f"discounts/{created['id']}", {"value": "15", "ends_at": "2030-01-01T00:00:00Z"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["value"] == "15"  # percent
    assert admin.delete(f"discounts/{created['id']}").status_code == 204
    use_shop(shop_a.shop)
    events = list(OutboxEvent.objects.filter(type__startswith="discount.").order_by("created_at"))
    use_public()
    assert [e.type for e in events] == ["discount.created", "discount.updated", "discount.deleted"]
    assert events[0].payload["code"] == "SUMMER-10" and events[0].payload["kind"] == "percentage"


@pytest.mark.parametrize(
    "body",
    [
        {"code": "X", "kind": "percentage", "value": "101"},
        {"code": "X", "kind": "percentage"},
        {"code": "X", "kind": "fixed", "value": "-5"},
        {"code": "X", "kind": "fixed", "value": "0"},
        {"code": "X", "kind": "fixed", "value": "99999999999999"},
        {"code": "has space", "kind": "free_shipping"},
        {"code": "NUL\u0000", "kind": "free_shipping"},
        {"code": "X", "kind": "bogo"},
        {
            "code": "X",
            "kind": "free_shipping",
            "starts_at": "2030-01-02T00:00:00Z",
            "ends_at": "2030-01-01T00:00:00Z",
        },
        {"code": "X", "kind": "free_shipping", "usage_limit": 0},
        {"code": "X", "kind": "free_shipping", "usage_limit": 2**70},
        {"code": "X", "kind": "free_shipping", "applies_to": {"products": [999999]}},
        {"code": "X", "kind": "free_shipping", "applies_to": {"categories": ["a"]}},
    ],
)
def test_bad_discounts_are_refused_and_change_nothing(admin: AdminClient, shop_a: ShopContext, body) -> None:
    response = admin.post("discounts", body)
    assert_problem(response, 400)
    assert _count(shop_a, Discount) == 0


# --- The cart and checkout ---------------------------------------------------------------------


def _shop_that_sells(admin: AdminClient, *, price: str = "50.00", stock: int = 100) -> tuple[dict, int]:
    assert admin.put("taxes", TAXES).status_code == 200
    zone = _zone(admin)
    product = sellable_product(admin, price=price, stock=stock)
    variant = product["variants"][0]["id"]
    assert (
        admin.patch(f"products/{product['id']}/variants/{variant}", {"weight_grams": 800}).status_code == 200
    )
    return zone, variant


def test_cart_quotes_shipping_tax_and_discounts_and_the_order_keeps_them(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    zone, variant = _shop_that_sells(admin)
    standard, _heavy, _pickup = zone["methods"]
    _discount(admin, code="WELCOME", kind="percentage", value="10")
    _discount(admin, kind="fixed", value="1.00")  # automatic: stacks with the code
    cart_id = cart_with(api, shop_a, variant, 1)

    def cart(method: str, path: str = "", body: Any = None):
        return storefront(api, shop_a, method, f"carts/{cart_id}{path}", body)

    before = cart("get").json()
    assert before["totals"]["discount"] == {"amount": "1.00", "currency": "EUR"}  # the automatic one
    assert before["shipping_method"] is None and before["shipping_address"] is None
    assert storefront(api, shop_a, "get", f"carts/{cart_id}/shipping-methods").json() == []
    assert_problem(cart("put", "/shipping-method", {"method": standard["id"]}), 409)  # no address yet

    addressed = cart("put", "/shipping-address", DE_ADDRESS)
    assert addressed.status_code == 200, addressed.content
    assert addressed.json()["shipping_address"]["country"] == "DE"
    offers = cart("get", "/shipping-methods").json()
    assert [(o["name"], o["price"]["amount"], o["min_days"], o["max_days"]) for o in offers] == [
        ("Standard", "4.90", 2, 4),
        ("Heavy goods", "5.90", None, None),
        ("Pick up in Berlin", "0.00", None, None),
    ]
    chosen = cart("put", "/shipping-method", {"method": standard["id"]})
    assert chosen.status_code == 200, chosen.content
    applied = cart("post", "/discount-codes", {"code": " welcome "})
    assert applied.status_code == 201, applied.content
    body = applied.json()
    assert body["discount_codes"] == ["WELCOME"]
    assert body["shipping_method"]["name"] == "Standard"
    # 50.00 - (1.00 automatic + 5.00 code) = 44.00; tax 19 % of 44.00 = 8.36 and of 4.90 = 0.93
    assert body["totals"] == {
        "subtotal": {"amount": "50.00", "currency": "EUR"},
        "shipping": {"amount": "4.90", "currency": "EUR"},
        "discount": {"amount": "6.00", "currency": "EUR"},
        "tax": {"amount": "9.29", "currency": "EUR"},
        "total": {"amount": "58.19", "currency": "EUR"},
    }
    assert body["tax_lines"] == [
        {"name": "MwSt", "rate": "19", "amount": {"amount": "9.29", "currency": "EUR"}}
    ]

    placed = checkout(api, shop_a, cart_id, shipping_address=DE_ADDRESS)
    assert placed.status_code == 201, placed.content
    order = placed.json()
    assert order["totals"] == body["totals"] and order["total"] == body["totals"]["total"]
    assert order["tax_lines"] == body["tax_lines"]
    assert [(d["code"], d["amount"]["amount"]) for d in order["discounts"]] == [
        (None, "1.00"),
        ("WELCOME", "5.00"),
    ]
    assert order["shipping_method"]["name"] == "Standard" and order["shipping_method"]["tax_rate"] == "19"
    (line,) = order["lines"]
    assert (line["discount"]["amount"], line["tax"]["amount"], line["tax_rate"]) == ("6.00", "8.36", "19")
    assert admin.get(f"orders/{order['number']}").json()["totals"] == order["totals"]
    assert [d["times_used"] for d in admin.get("discounts").json()["results"]] == [1, 1]
    use_shop(shop_a.shop)
    event = OutboxEvent.objects.get(type="order.created")
    assert _count(shop_a, DiscountUse, email="ada@example.com") == 2
    use_shop(shop_a.shop)
    assert str(Order.objects.get().tax) == "9.290"
    use_public()
    assert event.payload["totals"] == order["totals"] and event.payload["tax_lines"] == order["tax_lines"]
    assert event.payload["discounts"] == order["discounts"]
    # The sales report agrees to the cent: revenue net of discounts, tax and shipping collected.
    from orders import exports, reports

    use_shop(shop_a.shop)
    reports.sales_recent_days_refresh()
    use_public()
    report = admin.get("reports/sales").json()["totals"]
    assert report["revenue"] == order["totals"]["total"]
    assert (report["discounts"], report["tax"], report["shipping"]) == (
        order["totals"]["discount"],
        order["totals"]["tax"],
        order["totals"]["shipping"],
    )
    # So does the order export (Shopify's columns): shipping, taxes, discount codes and amount, province.
    export = admin.post("orders/export", {})  # the job is queued on commit: it is run here instead
    assert export.status_code == 202, export.content
    use_shop(shop_a.shop)
    exports.order_export_run(export_id=export.json()["id"])
    use_public()
    done = admin.get(f"order-exports/{export.json()['id']}").json()
    download = admin.api.get(done["download_url"], HTTP_HOST=admin.ctx.host)
    (row,) = csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode()))
    assert [row[name] for name in ("Subtotal", "Shipping", "Taxes", "Total")] == [
        "50.00",
        "4.90",
        "9.29",
        "58.19",
    ]
    assert [row[name] for name in ("Discount Code", "Discount Amount", "Shipping Method")] == [
        "WELCOME",
        "6.00",
        "Standard",
    ]
    assert (row["Shipping Province"], row["Shipping Country"]) == ("", "DE")


def test_checkout_needs_a_method_for_goods_to_ship(api, admin: AdminClient, shop_a: ShopContext) -> None:
    zone, variant = _shop_that_sells(admin, stock=3)
    cart_id = cart_with(api, shop_a, variant, 2)
    problem = assert_problem(checkout(api, shop_a, cart_id, shipping_address=DE_ADDRESS), 422)
    assert problem["code"] == "shipping_method_required"
    # A method for another country, or one too light for the cart, is refused too.
    other = _zone(
        admin, {"name": "UK", "countries": ["GB"], "methods": [{"name": "Royal Mail", "price": "3"}]}
    )
    assert_problem(
        checkout(
            api, shop_a, cart_id, shipping_address=DE_ADDRESS, shipping_method=other["methods"][0]["id"]
        ),
        422,
    )
    heavy = zone["methods"][1]["id"]
    assert admin.patch(f"products/{_product_of(shop_a, variant)}/variants/{variant}",
                       {"weight_grams": 20000}).status_code == 200  # fmt: skip
    assert_problem(checkout(api, shop_a, cart_id, shipping_address=DE_ADDRESS, shipping_method=heavy), 422)
    use_shop(shop_a.shop)
    assert Variant.objects.get(pk=variant).stock == 3
    assert Order.objects.count() == 0 and Cart.objects.get().checked_out_at is None
    use_public()
    # An address in a country no zone covers has no methods; the shop does not ship there.
    cart_b = cart_with(api, shop_a, variant, 1)
    storefront(api, shop_a, "put", f"carts/{cart_b}/shipping-address", {**ADDRESS, "country": "JP"})
    assert storefront(api, shop_a, "get", f"carts/{cart_b}/shipping-methods").json() == []


def _product_of(ctx: ShopContext, variant: int) -> int:
    use_shop(ctx.shop)
    try:
        return int(Variant.objects.get(pk=variant).product_id)
    finally:
        use_public()


def test_a_shop_without_zones_sells_without_shipping(api, admin: AdminClient, shop_a: ShopContext) -> None:
    variant = sellable_product(admin, price="10.00")["variants"][0]["id"]
    order = checkout(api, shop_a, cart_with(api, shop_a, variant, 2)).json()
    assert order["totals"]["shipping"]["amount"] == "0.00" and order["total"]["amount"] == "20.00"
    assert order["shipping_method"] is None and order["tax_lines"] == []


@pytest.mark.parametrize(
    ("discount", "code"),
    [
        (None, "discount_unknown"),
        ({"ends_at": "2020-01-01T00:00:00Z"}, "discount_expired"),
        ({"starts_at": "2099-01-01T00:00:00Z"}, "discount_expired"),
        ({"active": False}, "discount_expired"),
        ({"min_subtotal": "500.00"}, "discount_min_subtotal"),
        ({"applies_to": {"categories": "OTHER"}}, "discount_not_applicable"),
    ],
)
def test_codes_that_do_not_apply_are_422_with_the_reason(
    api, admin: AdminClient, shop_a: ShopContext, discount, code
) -> None:
    _, variant = _shop_that_sells(admin)
    if discount is not None:
        if discount.get("applies_to") == {"categories": "OTHER"}:
            discount = {
                "applies_to": {"categories": [admin.post("categories", {"name": "Other"}).json()["id"]]}
            }
        _discount(admin, code="PROMO", kind="percentage", value="10", **discount)
    cart_id = cart_with(api, shop_a, variant, 1)
    problem = assert_problem(
        storefront(api, shop_a, "post", f"carts/{cart_id}/discount-codes", {"code": "promo"}), 422
    )
    assert problem["code"] == code
    assert storefront(api, shop_a, "get", f"carts/{cart_id}").json()["discount_codes"] == []


def test_a_removed_code_and_bad_cart_input(api, admin: AdminClient, shop_a: ShopContext, shop_b) -> None:
    _, variant = _shop_that_sells(admin)
    _discount(admin, code="PROMO", kind="fixed", value="5")
    cart_id = cart_with(api, shop_a, variant, 1)
    path = f"carts/{cart_id}"
    assert storefront(api, shop_a, "post", f"{path}/discount-codes", {"code": "PROMO"}).status_code == 201
    assert_problem(storefront(api, shop_a, "delete", f"{path}/discount-codes/OTHER"), 404)
    removed = storefront(api, shop_a, "delete", f"{path}/discount-codes/promo")
    assert removed.status_code == 200 and removed.json()["discount_codes"] == []
    for body in (
        {**DE_ADDRESS, "country": "XX"},
        {**DE_ADDRESS, "country": "de"},
        {**DE_ADDRESS, "region": "ZZZ"},
        {**DE_ADDRESS, "city": "Ber\u0000lin"},
        {**DE_ADDRESS, "postal_code": 10117},
        {"country": "DE"},
    ):
        assert_problem(storefront(api, shop_a, "put", f"{path}/shipping-address", body), 400)
    bad_methods: list[dict[str, object]] = [
        {"method": "one"},
        {"method": 2**70},
        {"method": -1},
        {"method": None},
        {},
    ]
    for body in bad_methods:
        assert_problem(storefront(api, shop_a, "put", f"{path}/shipping-method", body), 400)
    assert_problem(
        storefront(api, shop_a, "put", f"{path}/shipping-address", DE_ADDRESS | {"line2": None}), 400
    )
    assert_problem(storefront(api, shop_a, "post", f"{path}/discount-codes", {"code": "x" * 65}), 400)
    assert storefront(api, shop_a, "get", path).json()["shipping_address"] is None
    # Another shop's host knows neither the cart nor its methods.
    assert_problem(storefront(api, shop_b, "put", f"{path}/shipping-address", DE_ADDRESS), 404)
    assert_problem(storefront(api, shop_b, "get", f"{path}/shipping-methods"), 404)
    assert_problem(storefront(api, shop_b, "post", f"{path}/discount-codes", {"code": "PROMO"}), 404)


def test_a_changed_address_drops_a_method_that_no_longer_serves_it(api, admin: AdminClient, shop_a) -> None:
    zone, variant = _shop_that_sells(admin)
    cart_id = cart_with(api, shop_a, variant, 1)
    storefront(api, shop_a, "put", f"carts/{cart_id}/shipping-address", DE_ADDRESS)
    storefront(api, shop_a, "put", f"carts/{cart_id}/shipping-method", {"method": zone["methods"][0]["id"]})
    moved = storefront(
        api, shop_a, "put", f"carts/{cart_id}/shipping-address", {**DE_ADDRESS, "country": "FR"}
    )
    assert moved.json()["shipping_method"] is None
    assert moved.json()["totals"]["tax"]["amount"] == "0.00"  # no French rate: the default, 0


def test_per_customer_limit(api, admin: AdminClient, shop_a: ShopContext) -> None:
    zone, variant = _shop_that_sells(admin)
    _discount(admin, code="ONCE", kind="percentage", value="10", usage_limit_per_customer=1)
    method = zone["methods"][2]["id"]  # pickup

    def buy() -> Any:
        cart_id = cart_with(api, shop_a, variant, 1)
        storefront(api, shop_a, "post", f"carts/{cart_id}/discount-codes", {"code": "ONCE"})
        return checkout(api, shop_a, cart_id, shipping_address=DE_ADDRESS, shipping_method=method)

    assert buy().status_code == 201
    assert assert_problem(buy(), 422)["code"] == "discount_exhausted"
    assert _count(shop_a, Order) == 1


def test_fifty_racing_uses_of_a_ten_use_code_make_ten_orders(
    committed_shop: ShopContext, django_db_blocker
) -> None:
    """Fifty shoppers check out with a 10-use code at once, on real connections: exactly ten get it."""
    with django_db_blocker.unblock():
        admin = AdminClient(APIClient(), committed_shop)
        variant = sellable_product(admin, stock=100, price="10.00")["variants"][0]["id"]
        discount = _discount(admin, code="TEN", kind="percentage", value="50", usage_limit=10)
        carts = []
        for _ in range(50):
            cart_id = cart_with(APIClient(), committed_shop, variant, 1)
            applied = storefront(
                APIClient(), committed_shop, "post", f"carts/{cart_id}/discount-codes", {"code": "TEN"}
            )
            assert applied.status_code == 201, applied.content
            carts.append(cart_id)
        barrier = threading.Barrier(len(carts))
        statuses: list[int] = []
        lock = threading.Lock()

        def buy(shopper: int, cart_id: str) -> None:
            try:
                barrier.wait(20)
                status = checkout(
                    APIClient(),
                    committed_shop,
                    cart_id,
                    key=uuid.uuid4().hex,
                    remote_addr=f"198.51.100.{shopper}",
                ).status_code
                with lock:
                    statuses.append(status)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=buy, args=pair) for pair in enumerate(carts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

        assert sorted(statuses) == [201] * 10 + [422] * 40
        use_shop(committed_shop.shop)
        assert Discount.objects.get(pk=discount["id"]).times_used == 10
        assert Order.objects.count() == 10 and DiscountUse.objects.count() == 10
        assert Variant.objects.get(pk=variant).stock == 90
        assert {str(total) for total in Order.objects.values_list("total", flat=True)} == {"5.000"}
        use_public()


def test_expired_code_is_refused_at_checkout(api, admin: AdminClient, shop_a: ShopContext) -> None:
    zone, variant = _shop_that_sells(admin)
    discount = _discount(admin, code="LATE", kind="fixed", value="5")
    cart_id = cart_with(api, shop_a, variant, 1)
    storefront(api, shop_a, "post", f"carts/{cart_id}/discount-codes", {"code": "LATE"})
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    admin.patch(f"discounts/{discount['id']}", {"ends_at": past})
    placed = checkout(
        api, shop_a, cart_id, shipping_address=DE_ADDRESS, shipping_method=zone["methods"][0]["id"]
    )
    assert assert_problem(placed, 422)["code"] == "discount_expired"
    assert _count(shop_a, Order) == 0 and admin.get(f"discounts/{discount['id']}").json()["times_used"] == 0


def test_prices_including_tax(api, admin: AdminClient, shop_a: ShopContext) -> None:
    zone, variant = _shop_that_sells(admin, price="119.00")
    assert admin.put("taxes", {**TAXES, "prices_include_tax": True}).status_code == 200
    cart_id = cart_with(api, shop_a, variant, 1)
    placed = checkout(
        api, shop_a, cart_id, shipping_address=DE_ADDRESS, shipping_method=zone["methods"][0]["id"]
    )
    order = placed.json()
    # Free over 100: the total is the price; 19 % of it is already in it.
    assert order["prices_include_tax"] is True
    assert (order["totals"]["tax"]["amount"], order["total"]["amount"]) == ("19.00", "119.00")


# --- A country's regions --------------------------------------------------------------------


def test_a_countrys_regions_are_the_ones_addresses_and_rates_take(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    response = storefront(api, shop_a, "get", "countries/US/regions")
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "public, max-age=86400"
    regions = response.json()
    assert {"code": "CA", "name": "California", "type": "State"} in regions
    assert [r["name"].casefold() for r in regions] == sorted(r["name"].casefold() for r in regions)
    assert all(region_valid("US", r["code"]) for r in regions) and len(regions) == 57
    assert storefront(api, shop_a, "get", "countries/AQ/regions").json() == []  # no subdivisions

    # A region from the list is taken by the cart and picks the regional rate.
    _shop_that_sells(admin)
    zone_us = {"name": "US", "countries": ["US"], "methods": [{"name": "Ground", "price": "0"}]}
    _zone(admin, zone_us)
    rates = [{"country": "US", "region": "CA", "rate": "7.25", "name": "CA sales tax"}]
    assert admin.put("taxes", {**TAXES, "rates": rates}).status_code == 200
    variant = sellable_product(admin, price="100.00")["variants"][0]["id"]
    cart_id = cart_with(api, shop_a, variant, 1)
    address = {**DE_ADDRESS, "country": "US", "postal_code": "94103", "region": "CA"}
    priced = storefront(api, shop_a, "put", f"carts/{cart_id}/shipping-address", address).json()
    assert priced["shipping_address"]["region"] == "CA"
    assert priced["totals"]["tax"]["amount"] == "7.25"
    address["region"] = "NY"
    elsewhere = storefront(api, shop_a, "put", f"carts/{cart_id}/shipping-address", address)
    assert elsewhere.json()["totals"]["tax"]["amount"] == "0.00"


@pytest.mark.parametrize("country", ["XX", "us", "USA", "U\u0000", "%ED%A0%80", "1", "%00", "DE%FF"])
def test_regions_of_what_is_not_a_country_are_404(api, shop_a: ShopContext, country: str) -> None:
    assert_problem(storefront(api, shop_a, "get", f"countries/{country}/regions"), 404)


def test_regions_take_only_get(api, shop_a: ShopContext) -> None:
    assert api.options("/api/storefront/v1/countries/US/regions", HTTP_HOST=shop_a.host).status_code == 200
    assert_problem(storefront(api, shop_a, "post", "countries/US/regions", {"code": "ZZ"}), 405)
