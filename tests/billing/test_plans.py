"""Plans (seeded by a migration), the anonymous `plans` list, and every new shop's subscription."""

from __future__ import annotations

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from billing import selectors
from billing.models import PlanChange, ShopUsage, Subscription
from tenants.models import Shop
from tests.conftest import PLATFORM, assert_problem, bearer, make_user

pytestmark = pytest.mark.django_db


def test_plans_are_listed_anonymously_cheapest_first(api) -> None:
    response = api.get("/api/platform/v1/plans", **PLATFORM)
    assert response.status_code == 200
    body = response.json()
    assert [plan["code"] for plan in body["results"]] == ["free", "pro", "enterprise"]
    assert body["next"] is None and body["previous"] is None
    free, pro = body["results"][0], body["results"][1]
    assert free["price"] == {"amount": "0.00", "currency": "USD"}
    assert pro["price"] == {"amount": "29.00", "currency": "USD"}
    assert free["limits"] == {
        "max_products": 100,
        "max_orders_per_month": 100,
        "max_staff_seats": 2,
        "max_storage_bytes": 100 * 1024 * 1024,
        "api_requests_per_minute": 120,
        "storefront_requests_per_minute": 600,
    }
    assert pro["overage"]["per_order"] == {"amount": "0.10", "currency": "USD"}


def test_plans_list_refuses_bad_paging(api) -> None:
    assert_problem(api.get("/api/platform/v1/plans?limit=0", **PLATFORM), 400)
    assert_problem(api.get("/api/platform/v1/plans?cursor=%%%", **PLATFORM), 400)
    response = api.get("/api/platform/v1/plans?limit=1", **PLATFORM)
    assert [plan["code"] for plan in response.json()["results"]] == ["free"]
    second = api.get(response.json()["next"], **PLATFORM)
    assert [plan["code"] for plan in second.json()["results"]] == ["pro"]


def test_a_new_shop_starts_on_free_with_empty_usage(shop_a) -> None:
    subscription = Subscription.objects.get(shop=shop_a.shop)
    assert subscription.plan.code == "free"
    assert PlanChange.objects.filter(shop=shop_a.shop, plan__code="free").count() == 1
    usage = ShopUsage.objects.get(shop=shop_a.shop)
    assert (usage.products, usage.storage_bytes) == (0, 0)
    limits = selectors.shop_plan_limits(shop_a.shop)
    assert limits.plan == "free" and limits.api_requests_per_minute == 120


def test_post_shops_takes_a_plan_and_answers_with_it(api) -> None:
    user = make_user("planner@example.com")
    token = str(RefreshToken.for_user(user).access_token)
    response = api.post(
        "/api/platform/v1/shops",
        {"name": "Pro Shop", "slug": "pro-shop", "plan": "pro"},
        format="json",
        **PLATFORM,
        **bearer(token),
    )
    assert response.status_code == 201, response.content
    assert response.json()["plan"] == "pro"
    assert Subscription.objects.get(shop__slug="pro-shop").plan.code == "pro"
    listed = api.get("/api/platform/v1/shops", **PLATFORM, **bearer(token)).json()["results"]
    assert [(shop["slug"], shop["plan"]) for shop in listed] == [("pro-shop", "pro")]
    detail = api.get("/api/platform/v1/shops/pro-shop", **PLATFORM, **bearer(token)).json()
    assert detail["plan"] == "pro"
    plain = {"name": "Plain", "slug": "plain-shop"}
    default = api.post("/api/platform/v1/shops", plain, format="json", **PLATFORM, **bearer(token))
    assert default.json()["plan"] == "free"


@pytest.mark.parametrize("plan", ["gold", 7, None, ""])
def test_post_shops_refuses_an_unknown_plan_and_provisions_nothing(api, plan) -> None:
    user = make_user("planner@example.com")
    token = str(RefreshToken.for_user(user).access_token)
    response = api.post(
        "/api/platform/v1/shops",
        {"name": "Gold", "slug": "gold-shop", "plan": plan},
        format="json",
        **PLATFORM,
        **bearer(token),
    )
    body = assert_problem(response, 400)
    assert "plan" in body["errors"]
    assert not Shop.objects.filter(slug="gold-shop").exists()
