"""
Category management in the Admin API beyond create and move: reordering a
parent's subcategories, deleting a category with its products reassigned; and
the audit log's filters (actor, action, days).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from catalog.models import Category, Product
from tenants.audit.models import AuditEntry
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient, product_body
from tests.conftest import ShopContext, assert_problem

pytestmark = pytest.mark.django_db

SCHEMA = {
    "type": "object",
    "properties": {"material": {"type": "string"}},
    "required": ["material"],
}


@pytest.fixture
def admin(api: Any, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


def category(admin: AdminClient, name: str, **fields: Any) -> int:
    response = admin.post("categories", {"name": name, **fields})
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def positions(admin: AdminClient, parent: int | None) -> list[int]:
    listed = admin.get("categories").json()["results"]
    children = [c for c in listed if c["parent"] == parent]
    return [c["id"] for c in sorted(children, key=lambda c: (c["position"], c["id"]))]


def test_subcategories_are_reordered(admin: AdminClient) -> None:
    clothing = category(admin, "Clothing")
    shirts, trousers, hats = (
        category(admin, name, parent=clothing) for name in ("Shirts", "Trousers", "Hats")
    )
    response = admin.post("categories/reorder", {"parent": clothing, "order": [hats, shirts, trousers]})
    assert response.status_code == 200, response.content
    assert [(c["id"], c["position"]) for c in response.json()] == [(hats, 0), (shirts, 1), (trousers, 2)]
    assert positions(admin, clothing) == [hats, shirts, trousers]
    toys = category(admin, "Toys")
    assert admin.post("categories/reorder", {"parent": None, "order": [toys, clothing]}).status_code == 200
    assert positions(admin, None) == [toys, clothing]


@pytest.mark.parametrize(
    "order",
    [
        lambda ids: ids[:2],  # one left out
        lambda ids: [*ids, ids[0]],  # one twice
        lambda ids: [*ids[:2], 10**9],  # a stranger
        lambda ids: [*ids[:2], 2**70],  # beyond any id
    ],
)
def test_a_reorder_must_name_every_sibling_once(admin: AdminClient, shop_a: ShopContext, order: Any) -> None:
    clothing = category(admin, "Clothing")
    ids = [category(admin, name, parent=clothing) for name in ("A", "B", "C")]
    assert_problem(admin.post("categories/reorder", {"parent": clothing, "order": order(ids)}), 400)
    assert positions(admin, clothing) == ids


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"parent": None},
        {"parent": "x", "order": []},
        {"parent": None, "order": "1,2"},
        {"parent": 10**30, "order": []},
    ],
)
def test_bad_reorders_are_refused(admin: AdminClient, body: object) -> None:
    assert_problem(admin.post("categories/reorder", body), 400)


def test_an_unknown_parent_is_refused(admin: AdminClient) -> None:
    body = assert_problem(admin.post("categories/reorder", {"parent": 424242, "order": []}), 400)
    assert "parent" in body["errors"]


def test_deleting_a_category_moves_its_products(admin: AdminClient, shop_a: ShopContext) -> None:
    old = category(admin, "Old shirts", attribute_schema=SCHEMA)
    new = category(admin, "Shirts", attribute_schema=SCHEMA)
    product = admin.post("products", product_body(category=old, attributes={"material": "linen"})).json()
    assert admin.delete(f"categories/{old}?reassign_to={new}").status_code == 204
    assert admin.get(f"products/{product['id']}").json()["category"]["id"] == new
    assert_problem(admin.get(f"categories/{old}"), 404)
    entry = admin.get("audit-log", data={"action": "category.deleted"}).json()["results"][0]
    assert entry["before"]["products_moved_to"] == new


def test_deleting_without_a_target_leaves_products_uncategorised(admin: AdminClient) -> None:
    old = category(admin, "Old")
    product = admin.post("products", product_body(category=old)).json()
    assert admin.delete(f"categories/{old}").status_code == 204
    assert admin.get(f"products/{product['id']}").json()["category"] is None


def test_a_reassignment_whose_schema_the_products_fail_changes_nothing(
    admin: AdminClient, shop_a: ShopContext
) -> None:
    old = category(admin, "Old")
    strict = category(admin, "Strict", attribute_schema=SCHEMA)
    product = admin.post("products", product_body(category=old)).json()
    assert assert_problem(admin.delete(f"categories/{old}?reassign_to={strict}"), 400)["code"] == (
        "attributes_invalid"
    )
    use_shop(shop_a.shop)
    assert Product.objects.get(pk=product["id"]).category_id == old
    use_public()


@pytest.mark.parametrize("target", ["self", "424242", "abc", "-1", "99999999999999999999999", ""])
def test_bad_reassignment_targets_are_refused(admin: AdminClient, shop_a: ShopContext, target: str) -> None:
    old = category(admin, "Old")
    reassign_to = str(old) if target == "self" else target
    assert_problem(admin.delete(f"categories/{old}?reassign_to={reassign_to}"), 400)
    use_shop(shop_a.shop)
    assert Category.objects.filter(pk=old).exists()
    use_public()


def test_another_shops_categories_are_out_of_reach(
    api: Any, admin: AdminClient, shop_a: ShopContext, shop_b: ShopContext
) -> None:
    # Ids are per shop: shop A's second category has an id shop B does not have.
    first = category(admin, "First")
    mine = category(admin, "Mine")
    other = AdminClient(api, shop_b)
    theirs = category(other, "Theirs")
    assert theirs == first != mine
    # Shop B cannot reassign into, reorder or delete shop A's categories by id.
    assert_problem(other.delete(f"categories/{theirs}?reassign_to={mine}"), 400)
    assert_problem(other.post("categories/reorder", {"parent": None, "order": [mine]}), 400)
    assert_problem(other.delete(f"categories/{mine}"), 404)
    foreign = AdminClient(api, shop_a, authorization=f"Bearer {shop_b.token()}")
    assert_problem(foreign.post("categories/reorder", {"parent": None, "order": [mine]}), 403)
    assert positions(admin, None) == [first, mine]


def test_the_audit_log_filters_by_actor_action_and_days(admin: AdminClient, shop_a: ShopContext) -> None:
    category(admin, "Clothing")
    admin.post("products", product_body())
    use_shop(shop_a.shop)
    AuditEntry.objects.filter(action="category.created").update(created_at=timezone.now() - timedelta(days=2))
    AuditEntry.objects.create(
        actor_type="system", actor_label="system", action="product.updated", object_type="product"
    )
    use_public()

    def actions(**query: str) -> list[str]:
        response = admin.get("audit-log", data=query)
        assert response.status_code == 200, response.content
        return [entry["action"] for entry in response.json()["results"]]

    assert actions(actor=shop_a.owner.email.upper()) == ["product.created", "category.created"]
    assert actions(actor="system") == ["product.updated"]
    assert actions(action="category.created") == ["category.created"]
    assert actions(action="product.") == ["product.updated", "product.created"]
    today = timezone.now().date()
    assert actions(**{"from": today.isoformat()}) == ["product.updated", "product.created"]
    assert actions(to=(today - timedelta(days=1)).isoformat()) == ["category.created"]


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-02-30"},
        {"to": "x"},
        {"actor": "a\x00"},
        {"action": "x" * 65},
        {"object_id": "99999999999999999999"},
    ],
)
def test_bad_audit_log_filters_are_refused(admin: AdminClient, query: dict[str, str]) -> None:
    assert_problem(admin.get("audit-log", data=query), 400)
