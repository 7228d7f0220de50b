"""Admin API: categories, products with variants, prices, inventory, audit log, scopes."""

from __future__ import annotations

import pytest

from catalog.models import Category, InventoryAdjustment, PriceChange, Product, Variant
from tenants.audit.models import AuditEntry
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_shop
from tests.catalog.helpers import AdminClient, product_body
from tests.conftest import ShopContext, assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(api, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


def _counts(ctx: ShopContext) -> tuple[int, int, int, int]:
    use_shop(ctx.shop)
    return (
        Product.objects.count(),
        Variant.objects.count(),
        Category.objects.count(),
        AuditEntry.objects.count(),
    )


def test_create_product_with_variants_prices_as_money(admin: AdminClient) -> None:
    response = admin.post("products", product_body())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "blue-oxford-shirt"
    assert body["status"] == "active"
    assert [v["price"] for v in body["variants"]] == [
        {"amount": "39.90", "currency": "EUR"},
        {"amount": "42.00", "currency": "EUR"},
    ]
    # The slug is derived from the title and kept unique.
    again = admin.post("products", product_body(variants=[{"sku": "OTHER-1", "price": "1.00"}]))
    assert again.json()["slug"] == "blue-oxford-shirt-2"


def test_product_audit_events_price_history_and_ledger(admin: AdminClient, shop_a: ShopContext) -> None:
    product = admin.post("products", product_body()).json()
    variant = product["variants"][0]
    response = admin.patch(
        f"products/{product['id']}/variants/{variant['id']}", {"price": "35.00", "stock": 7}
    )
    assert response.status_code == 200, response.content
    assert response.json()["price"]["amount"] == "35.00"
    assert response.json()["stock"] == 7

    use_shop(shop_a.shop)
    history = list(
        PriceChange.objects.filter(variant_id=variant["id"])
        .order_by("id")
        .values_list("old_price", "new_price")
    )
    assert [(str(o) if o is not None else None, str(n)) for o, n in history] == [
        (None, "39.900"),
        ("39.900", "35.000"),
    ]
    ledger = list(
        InventoryAdjustment.objects.filter(variant_id=variant["id"])
        .order_by("id")
        .values_list("reason", "delta")
    )
    assert ledger == [("initial", 10), ("correction", -3)]
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["product.created", "variant.updated"]
    entry = AuditEntry.objects.get(action="variant.updated")
    assert entry.actor_label == shop_a.owner.email
    assert entry.before["price"] == "39.90" and entry.after["price"] == "35.00"
    assert set(OutboxEvent.objects.values_list("type", flat=True)) == {
        "product.created",
        "product.updated",
        "variant.price_changed",  # each price of the history, for the worker's daily figures
    }


def test_audit_log_endpoint_lists_changes(admin: AdminClient) -> None:
    product = admin.post("products", product_body()).json()
    admin.patch(f"products/{product['id']}", {"title": "Renamed"})
    entries = admin.get(f"audit-log?object_type=product&object_id={product['id']}").json()["results"]
    assert [e["action"] for e in entries] == ["product.updated", "product.created"]
    assert entries[0]["before"]["title"] == "Blue Oxford Shirt" and entries[0]["after"]["title"] == "Renamed"
    assert entries[0]["actor"] == admin.ctx.owner.email


def test_categories_tree_and_attribute_schema(admin: AdminClient) -> None:
    clothing = admin.post("categories", {"name": "Clothing"}).json()
    schema = {
        "type": "object",
        "properties": {"material": {"type": "string"}, "weight_g": {"type": "integer", "minimum": 0}},
        "required": ["material"],
        "additionalProperties": False,
    }
    shirts = admin.post(
        "categories", {"name": "Shirts", "parent": clothing["id"], "attribute_schema": schema}
    )
    assert shirts.status_code == 201, shirts.content
    shirts_id = shirts.json()["id"]

    bad = admin.post(
        "products",
        product_body(category=shirts_id, attributes={"weight_g": -1, "colour": "red"}),
    )
    body = assert_problem(bad, 400)
    assert body["code"] == "attributes_invalid"
    assert set(body["errors"]) == {"attributes", "attributes.weight_g"}

    good = admin.post(
        "products", product_body(category=shirts_id, attributes={"material": "linen", "weight_g": 180})
    )
    assert good.status_code == 201
    # Changing the category re-validates the attributes it would carry.
    strict = admin.post(
        "categories", {"name": "Strict", "attribute_schema": {"type": "object", "required": ["isbn"]}}
    )
    moved = admin.patch(f"products/{good.json()['id']}", {"category": strict.json()["id"]})
    assert assert_problem(moved, 400)["code"] == "attributes_invalid"


def test_category_moves_carry_their_subtree_and_refuse_cycles(
    admin: AdminClient, shop_a: ShopContext
) -> None:
    a = admin.post("categories", {"name": "A"}).json()
    b = admin.post("categories", {"name": "B", "parent": a["id"]}).json()
    c = admin.post("categories", {"name": "C", "parent": b["id"]}).json()
    assert_problem(admin.patch(f"categories/{a['id']}", {"parent": c["id"]}), 400)
    other = admin.post("categories", {"name": "Other"}).json()
    assert admin.patch(f"categories/{b['id']}", {"parent": other["id"]}).status_code == 200
    use_shop(shop_a.shop)
    assert Category.objects.get(pk=c["id"]).path == f"/{other['id']}/{b['id']}/{c['id']}/"
    assert assert_problem(admin.delete(f"categories/{other['id']}"), 409)["code"] == "category_has_children"
    assert admin.delete(f"categories/{c['id']}").status_code == 204


def test_bad_schema_is_refused(admin: AdminClient) -> None:
    body = assert_problem(
        admin.post("categories", {"name": "X", "attribute_schema": {"type": "nonsense"}}), 400
    )
    assert body["code"] == "attribute_schema_invalid"


def test_variants_crud_and_the_last_variant_stays(admin: AdminClient) -> None:
    product = admin.post("products", product_body()).json()
    added = admin.post(
        f"products/{product['id']}/variants", {"sku": "NEW-1", "price": "5.00", "options": {"size": "XL"}}
    )
    assert added.status_code == 201 and added.json()["options"] == {"size": "XL"}
    listed = admin.get(f"products/{product['id']}/variants").json()
    assert len(listed) == 3
    for variant in listed[:2]:
        assert admin.delete(f"products/{product['id']}/variants/{variant['id']}").status_code == 204
    last = listed[2]["id"]
    assert (
        assert_problem(admin.delete(f"products/{product['id']}/variants/{last}"), 409)["code"]
        == "last_variant"
    )


def test_duplicate_sku_and_slug_are_409(admin: AdminClient) -> None:
    admin.post("products", product_body())
    body = assert_problem(
        admin.post("products", product_body(title="Other", variants=[{"sku": "BLUEOXF-M", "price": "1.00"}])),
        409,
    )
    assert body["code"] == "sku_taken"
    assert (
        assert_problem(
            admin.post(
                "products",
                product_body(title="X", slug="blue-oxford-shirt", variants=[{"sku": "Z", "price": "1"}]),
            ),
            409,
        )["code"]
        == "slug_taken"
    )


def test_inventory_adjustments_ledger_and_low_stock_event(admin: AdminClient, shop_a: ShopContext) -> None:
    product = admin.post("products", product_body()).json()
    variant_id = product["variants"][0]["id"]  # stock 10, threshold 5
    response = admin.post(
        "inventory/adjustments", {"variant": variant_id, "delta": -4, "reason": "damaged", "note": "wet"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["stock_after"] == 6
    use_shop(shop_a.shop)
    assert not OutboxEvent.objects.filter(type="inventory.low").exists()
    admin.post("inventory/adjustments", {"variant": variant_id, "delta": -2, "reason": "correction"})
    use_shop(shop_a.shop)
    low = OutboxEvent.objects.get(type="inventory.low")
    assert low.payload["stock"] == 4 and low.payload["sku"] == "BLUEOXF-M"
    # Only the crossing reports: going lower again does not repeat it.
    admin.post("inventory/adjustments", {"variant": variant_id, "delta": -1, "reason": "correction"})
    use_shop(shop_a.shop)
    assert OutboxEvent.objects.filter(type="inventory.low").count() == 1

    refused = admin.post("inventory/adjustments", {"variant": variant_id, "delta": -100, "reason": "damaged"})
    assert assert_problem(refused, 409)["code"] == "insufficient_stock"
    use_shop(shop_a.shop)
    assert Variant.objects.get(pk=variant_id).stock == 3

    items = admin.get("inventory?low_stock=true").json()["results"]
    assert {i["variant"] for i in items} == {variant_id, product["variants"][1]["id"]}
    ledger = admin.get(f"inventory/adjustments?variant={variant_id}").json()["results"]
    assert [entry["delta"] for entry in ledger] == [-1, -2, -4, 10]


BAD_PRODUCTS = [
    {},
    {"title": "x" * 10_000, "variants": [{"sku": "A", "price": "1.00"}]},
    {"title": "No variants", "variants": []},
    {"title": "Float price", "variants": [{"sku": "A", "price": 19.99}]},
    {"title": "Negative", "variants": [{"sku": "A", "price": "-1.00"}]},
    {"title": "Too precise", "variants": [{"sku": "A", "price": "1.001"}]},
    {"title": "Negative stock", "variants": [{"sku": "A", "price": "1.00", "stock": -1}]},
    {"title": "Bad status", "status": "live", "variants": [{"sku": "A", "price": "1.00"}]},
    {"title": "Unknown category", "category": 999999, "variants": [{"sku": "A", "price": "1.00"}]},
    {"title": "Wrong type", "variants": "many"},
    {"title": 5, "variants": [{"sku": "A", "price": "1.00"}]},
    {"title": "Attrs not object", "attributes": [1, 2], "variants": [{"sku": "A", "price": "1.00"}]},
    {"title": "Bad slug", "slug": "Not A Slug", "variants": [{"sku": "A", "price": "1.00"}]},
    {"title": "Dup SKUs", "variants": [{"sku": "A", "price": "1.00"}, {"sku": "A", "price": "2.00"}]},
]


@pytest.mark.parametrize("body", BAD_PRODUCTS)
def test_bad_product_input_changes_nothing(admin: AdminClient, shop_a: ShopContext, body) -> None:
    before = _counts(shop_a)
    response = admin.post("products", body)
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert _counts(shop_a) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("categories", {"name": ""}),
        ("categories", {"name": "x", "parent": 99999}),
        ("categories", {"name": "x", "position": -1}),
        ("inventory/adjustments", {"variant": 99999, "delta": 1, "reason": "received"}),
        ("inventory/adjustments", {"variant": "x", "delta": 1, "reason": "received"}),
        ("inventory/adjustments", {"variant": 1, "delta": 1, "reason": "initial"}),
        ("inventory/adjustments", {"variant": 1, "delta": 1.5, "reason": "received"}),
    ],
)
def test_bad_category_and_adjustment_input(admin: AdminClient, shop_a: ShopContext, path: str, body) -> None:
    before = _counts(shop_a)
    response = admin.post(path, body)
    assert 400 <= response.status_code < 500, response.content
    assert _counts(shop_a) == before


def test_unknown_ids_are_404(admin: AdminClient) -> None:
    for path in (
        "products/999999",
        "products/999999/variants",
        "products/999999/variants/1",
        "categories/999999",
    ):
        assert_problem(admin.get(path), 404)
    assert_problem(admin.patch("products/999999", {"title": "x"}), 404)
    assert_problem(admin.delete("categories/999999"), 404)


def test_shop_b_cannot_reach_shop_a_products(api, admin: AdminClient, shop_b: ShopContext) -> None:
    product = admin.post("products", product_body()).json()
    other = AdminClient(api, shop_b)
    assert_problem(other.get(f"products/{product['id']}"), 404)
    assert_problem(other.patch(f"products/{product['id']}", {"title": "Hijacked"}), 404)
    assert other.get("products").json()["results"] == []
    # Shop A's owner token on shop B's host is refused outright.
    cross = AdminClient(api, shop_b, authorization=f"Bearer {admin.ctx.token()}")
    assert_problem(cross.get("products"), 403)


def test_scopes_gate_reads_and_writes(api, admin: AdminClient) -> None:
    key = admin.post("api-keys", {"name": "reader", "scopes": ["catalog:read"]}).json()["key"]
    reader = AdminClient(api, admin.ctx, authorization=f"Api-Key {key}")
    assert reader.get("products").status_code == 200
    assert_problem(reader.post("products", product_body()), 403)
    writer_key = admin.post(
        "api-keys", {"name": "writer", "scopes": ["catalog:read", "catalog:write"]}
    ).json()["key"]
    writer = AdminClient(api, admin.ctx, authorization=f"Api-Key {writer_key}")
    created = writer.post("products", product_body())
    assert created.status_code == 201
    entries = admin.get("audit-log?object_type=product").json()["results"]
    assert entries[0]["actor"] == "API key writer" and entries[0]["actor_type"] == "api_key"


def test_product_post_honours_idempotency_key(admin: AdminClient, shop_a: ShopContext) -> None:
    first = admin.post("products", product_body(), HTTP_IDEMPOTENCY_KEY="import-1")
    second = admin.post("products", product_body(), HTTP_IDEMPOTENCY_KEY="import-1")
    assert second["Idempotent-Replayed"] == "true" and second.json() == first.json()
    use_shop(shop_a.shop)
    assert Product.objects.count() == 1


def test_admin_product_list_filters_and_query_count(
    admin: AdminClient, django_assert_max_num_queries
) -> None:
    for i in range(5):
        admin.post("products", product_body(title=f"Item {i}", status="draft" if i % 2 else "active"))
    with django_assert_max_num_queries(8):
        listed = admin.get("products?limit=50").json()["results"]
    assert len(listed) == 5
    assert len(admin.get("products?status=draft").json()["results"]) == 2
    assert [p["title"] for p in admin.get("products?q=item 3").json()["results"]] == ["Item 3"]
