"""`GET, PUT shops/{slug}/subscription` (owners) and `GET shops/{slug}/usage`."""

from __future__ import annotations

import pytest

from billing import metering, selectors
from billing.models import PlanChange, Subscription
from billing.periods import period_of
from tenants.models import Membership
from tests.billing.helpers import PlatformClient, set_limits
from tests.catalog.helpers import AdminClient, product_body
from tests.conftest import PLATFORM, assert_problem, make_user

pytestmark = pytest.mark.django_db


def member(ctx, email: str, role: str):
    user = make_user(email)
    Membership.objects.create(user=user, shop=ctx.shop, role=role)
    return user


def test_owner_sees_the_plan_and_upgrades(api, shop_a) -> None:
    owner = PlatformClient(api, shop_a)
    body = owner.get("subscription").json()
    assert body["plan"]["code"] == "free" and body["plan"]["limits"]["max_products"] == 100
    assert body["current_period"]["start"].startswith(f"{period_of():%Y-%m}-01")
    assert selectors.shop_plan_limits(shop_a.shop).plan == "free"  # cached now

    changed = owner.put("subscription", {"plan": "pro"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["plan"]["code"] == "pro"
    assert Subscription.objects.get(shop=shop_a.shop).plan.code == "pro"
    change = PlanChange.objects.filter(shop=shop_a.shop).latest("changed_at")
    assert (change.previous_plan.code, change.plan.code, change.changed_by) == ("free", "pro", shop_a.owner)
    # Same plan again: nothing changes.
    assert owner.put("subscription", {"plan": "pro"}).status_code == 200
    assert PlanChange.objects.filter(shop=shop_a.shop).count() == 2


def test_upgrade_lifts_the_limit_that_bit(api, shop_a, django_capture_on_commit_callbacks) -> None:
    set_limits(max_products=1)
    admin = AdminClient(api, shop_a)
    assert admin.post("products", product_body("One Shirt")).status_code == 201
    assert_problem(admin.post("products", product_body("Two Shirt")), 402)
    with django_capture_on_commit_callbacks(execute=True):
        assert PlatformClient(api, shop_a).put("subscription", {"plan": "pro"}).status_code == 200
    assert selectors.shop_plan_limits(shop_a.shop).max_products == 10_000
    assert admin.post("products", product_body("Two Shirt")).status_code == 201


def test_a_downgrade_that_usage_exceeds_is_refused_naming_the_limit(api, shop_a) -> None:
    owner = PlatformClient(api, shop_a)
    assert owner.put("subscription", {"plan": "pro"}).status_code == 200
    admin = AdminClient(api, shop_a)
    for title in ("Shirt One", "Shirt Two", "Shirt Three"):
        assert admin.post("products", product_body(title)).status_code == 201
    set_limits(max_products=2)
    body = assert_problem(owner.put("subscription", {"plan": "free"}), 409)
    assert body["code"] == "downgrade_refused"
    assert (body["limit"], body["plan"], body["allowed"], body["used"]) == ("max_products", "free", 2, 3)
    assert "free allows 2 products" in body["detail"]
    assert Subscription.objects.get(shop=shop_a.shop).plan.code == "pro"
    # Staff seats count too.
    set_limits(max_products=100, max_staff_seats=1)
    member(shop_a, "helper@example.com", "staff")
    body = assert_problem(owner.put("subscription", {"plan": "free"}), 409)
    assert body["limit"] == "max_staff_seats"


def test_only_owners_see_or_change_the_subscription(api, shop_a, shop_b) -> None:
    for role in ("admin", "staff"):
        user = member(shop_a, f"{role}@example.com", role)
        client = PlatformClient(api, shop_a, user)
        assert_problem(client.get("subscription"), 403)
        assert_problem(client.put("subscription", {"plan": "pro"}), 403)
    outsider = PlatformClient(api, shop_a, shop_b.owner)
    assert_problem(outsider.get("subscription"), 404)
    assert_problem(outsider.put("subscription", {"plan": "pro"}), 404)
    assert_problem(api.get(f"/api/platform/v1/shops/{shop_a.shop.slug}/subscription", **PLATFORM), 401)
    assert Subscription.objects.get(shop=shop_a.shop).plan.code == "free"


@pytest.mark.parametrize("body", [{"plan": "gold"}, {"plan": 3}, {"plan": None}, {}, [], {"plan": "x" * 41}])
def test_bad_plan_changes_are_refused_and_change_nothing(api, shop_a, body) -> None:
    assert_problem(PlatformClient(api, shop_a).put("subscription", body), 400)
    assert Subscription.objects.get(shop=shop_a.shop).plan.code == "free"


def test_malformed_json_is_a_400(api, shop_a) -> None:
    assert_problem(PlatformClient(api, shop_a).raw("PUT", "subscription", b'{"plan": '), 400)
    assert_problem(PlatformClient(api, shop_a).raw("PUT", "subscription", b"plan=pro", "text/plain"), 415)


def test_usage_shows_each_figure_beside_its_limit(api, shop_a) -> None:
    AdminClient(api, shop_a).post("products", product_body("Counted Shirt"))
    member(shop_a, "admin@example.com", "admin")
    metering.api_call_record(schema=shop_a.shop.schema_name, count=41)
    metering.api_call_record(schema=shop_a.shop.schema_name)
    body = PlatformClient(api, shop_a).get("usage").json()
    assert body["plan"] == "free"
    assert body["products"] == {"used": 1, "limit": 100}
    assert body["orders"] == {"used": 0, "limit": 100, "included": 100}
    assert body["staff_seats"] == {"used": 2, "limit": 2}
    assert body["storage_bytes"] == {"used": 0, "limit": 100 * 1024 * 1024}
    # The product's POST above is an Admin API call too: the rate limiter meters it.
    assert body["api_calls"] == {"used": 43, "included": 100_000, "limit_per_minute": 120}
    assert body["period"]["start"].startswith(f"{period_of():%Y-%m}-01")


def test_usage_is_for_owners_and_admins(api, shop_a, shop_b) -> None:
    admin = member(shop_a, "admin@example.com", "admin")
    assert PlatformClient(api, shop_a, admin).get("usage").status_code == 200
    staff = member(shop_a, "staff@example.com", "staff")
    assert_problem(PlatformClient(api, shop_a, staff).get("usage"), 403)
    assert_problem(PlatformClient(api, shop_a, shop_b.owner).get("usage"), 404)
    assert_problem(api.get("/api/platform/v1/shops/nope-shop/usage", **PLATFORM), 401)


def test_usage_survives_an_unreachable_api_call_counter(api, shop_a, monkeypatch) -> None:
    def down(**kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(metering, "api_calls_in_period", down)
    body = PlatformClient(api, shop_a).get("usage").json()
    assert body["api_calls"]["used"] is None and body["products"]["used"] == 0


def test_usage_query_count_is_pinned(api, shop_a, django_assert_max_num_queries) -> None:
    owner = PlatformClient(api, shop_a)
    owner.get("usage")
    with django_assert_max_num_queries(7):  # member + shop, plan, usage, period, seats (+ search_path)
        assert owner.get("usage").status_code == 200
