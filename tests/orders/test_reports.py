"""
The sales report: daily aggregates computed from the orders (paid day, refund
day), kept current by order events and a beat task that fans out per shop, and
`GET /api/admin/v1/reports/sales`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache

from orders import reports, tasks
from orders.models import ORDER_NUMBER_OFFSET, DailyProductSales, DailySales, Order, Payment
from tenants import services as tenant_services
from tenants.models import ApiKey
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import PLATFORM, ShopContext, assert_problem, bearer
from tests.orders.helpers import MANUAL, PAYS, checkout, manual_payment_on, sellable_product, storefront

pytestmark = pytest.mark.django_db

D1, D2, D3 = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# Orders of shops without shipping, taxes or discounts (those are in tests/orders/test_selling.py).
NO_BREAKDOWN = {name: {"amount": "0.00", "currency": "EUR"} for name in ("discounts", "tax", "shipping")}


@pytest.fixture
def admin(api, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


@pytest.fixture
def catalog(admin: AdminClient) -> dict[str, dict[str, int]]:
    """Three products to sell: a mug at 25.00, a pen at 10.00, a cap at 5.00."""
    made = {}
    for title, price in (("Mug", "25.00"), ("Pen", "10.00"), ("Cap", "5.00")):
        product = sellable_product(admin, stock=100, price=price, title=title)
        made[title] = {"product": product["id"], "variant": product["variants"][0]["id"]}
    manual_payment_on(admin)
    return made


def place(api, ctx: ShopContext, items: dict[int, int], payment: dict[str, Any] = PAYS) -> int:
    """Check out a cart of {variant: quantity} through the Storefront API; return the order number."""
    cart_id = storefront(api, ctx, "post", "carts").json()["id"]
    for variant, quantity in items.items():
        added = storefront(
            api, ctx, "post", f"carts/{cart_id}/items", {"variant": variant, "quantity": quantity}
        )
        assert added.status_code == 201, added.content
    response = checkout(api, ctx, cart_id, payment=payment)
    assert response.status_code == 201, response.content
    return int(response.json()["number"])


def backdate(ctx: ShopContext, number: int, *, placed: dt.date, paid: dt.date | None = None) -> None:
    """Move an order (placed through the API just now) to other days."""
    use_shop(ctx.shop)
    order = Order.objects.filter(pk=number - ORDER_NUMBER_OFFSET)
    order.update(placed_at=at(placed, 9), paid_at=at(paid) if paid else None)
    Payment.objects.filter(order__in=order, kind=Payment.Kind.CHARGE).update(created_at=at(paid or placed))
    use_public()


def backdate_refunds(ctx: ShopContext, number: int, *, day: dt.date) -> None:
    use_shop(ctx.shop)
    Payment.objects.filter(order_id=number - ORDER_NUMBER_OFFSET, kind=Payment.Kind.REFUND).update(
        created_at=at(day, 15)
    )
    use_public()


def refresh(ctx: ShopContext, first: dt.date, last: dt.date) -> int:
    use_shop(ctx.shop)
    days = reports.sales_days_refresh(first=first, last=last)
    use_public()
    return days


def money(amount: str, currency: str = "EUR") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def stored_rows(ctx: ShopContext) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    use_shop(ctx.shop)
    days = list(
        DailySales.objects.order_by("date").values_list(
            "id", "date", "orders", "revenue", "refunds", "items_sold"
        )
    )
    products = list(
        DailyProductSales.objects.order_by("date", "product_id").values_list(
            "id", "date", "product_id", "title", "quantity", "revenue"
        )
    )
    use_public()
    return days, products


@pytest.fixture
def three_days(api, admin: AdminClient, shop_a: ShopContext, catalog) -> dict[str, int]:
    """
    D1: two paid orders (2 mugs = 50.00; a pen and a cap = 15.00).
    D2: one paid order (a mug, 25.00); a manual order left pending (3 pens); a manual order cancelled unpaid.
    D3: one paid order (4 mugs, 100.00); one paid and cancelled the same day (a pen, refunded 10.00);
        and 20.00 refunded of D1's first order.
    """
    mug, pen, cap = (catalog[title]["variant"] for title in ("Mug", "Pen", "Cap"))
    orders = {
        "d1_mugs": place(api, shop_a, {mug: 2}),
        "d1_pen_cap": place(api, shop_a, {pen: 1, cap: 1}),
        "d2_mug": place(api, shop_a, {mug: 1}),
        "d2_pending": place(api, shop_a, {pen: 3}, payment=MANUAL),
        "d2_cancelled_unpaid": place(api, shop_a, {cap: 2}, payment=MANUAL),
        "d3_mugs": place(api, shop_a, {mug: 4}),
        "d3_cancelled_paid": place(api, shop_a, {pen: 1}),
    }
    assert admin.post(f"orders/{orders['d2_cancelled_unpaid']}/cancel").status_code == 200
    assert admin.post(f"orders/{orders['d3_cancelled_paid']}/cancel").status_code == 200
    assert admin.post(f"orders/{orders['d1_mugs']}/refund", {"amount": "20.00"}).status_code == 200
    backdate(shop_a, orders["d1_mugs"], placed=D1, paid=D1)
    backdate(shop_a, orders["d1_pen_cap"], placed=D1, paid=D1)
    backdate(shop_a, orders["d2_mug"], placed=D2, paid=D2)
    backdate(shop_a, orders["d2_pending"], placed=D2)
    backdate(shop_a, orders["d2_cancelled_unpaid"], placed=D2)
    backdate(shop_a, orders["d3_mugs"], placed=D3, paid=D3)
    backdate(shop_a, orders["d3_cancelled_paid"], placed=D3, paid=D3)
    backdate_refunds(shop_a, orders["d3_cancelled_paid"], day=D3)
    backdate_refunds(shop_a, orders["d1_mugs"], day=D3)
    return orders


# --- What counts, and on which day -------------------------------------------------------


def test_report_counts_orders_on_their_paid_day_and_refunds_on_theirs(
    admin: AdminClient, shop_a: ShopContext, catalog, three_days
) -> None:
    assert refresh(shop_a, D1 - dt.timedelta(days=7), D3 + dt.timedelta(days=7)) == 3
    response = admin.get("reports/sales", data={"from": (D1 - dt.timedelta(days=1)).isoformat(), "to": D3})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["from"] == "2026-03-01" and body["to"] == "2026-03-04" and body["currency"] == "EUR"
    assert body["days"] == [
        {
            "date": "2026-03-01",
            "orders": 0,
            "gross_sales": money("0.00"),
            "revenue": money("0.00"),
            "refunds": money("0.00"),
            "average_order_value": money("0.00"),
            "items_sold": 0,
            **NO_BREAKDOWN,
        },
        {
            # Both paid orders; D1's refund is made on D3, so D1 stays as it was.
            "date": "2026-03-02",
            "orders": 2,
            "gross_sales": money("65.00"),
            "revenue": money("65.00"),
            "refunds": money("0.00"),
            "average_order_value": money("32.50"),
            "items_sold": 4,
            **NO_BREAKDOWN,
        },
        {
            # The pending order and the one cancelled before payment do not count.
            "date": "2026-03-03",
            "orders": 1,
            "gross_sales": money("25.00"),
            "revenue": money("25.00"),
            "refunds": money("0.00"),
            "average_order_value": money("25.00"),
            "items_sold": 1,
            **NO_BREAKDOWN,
        },
        {
            # 4 mugs and the pen (paid, then cancelled: refunded in full) less 20.00 of D1's order.
            "date": "2026-03-04",
            "orders": 2,
            "gross_sales": money("110.00"),
            "revenue": money("80.00"),
            "refunds": money("30.00"),
            "average_order_value": money("55.00"),
            "items_sold": 5,
            **NO_BREAKDOWN,
        },
    ]
    assert body["totals"] == {
        "orders": 5,
        "gross_sales": money("200.00"),
        "revenue": money("170.00"),
        "refunds": money("30.00"),
        "average_order_value": money("40.00"),
        "items_sold": 10,
        **NO_BREAKDOWN,
    }
    mug, pen, cap = (catalog[title]["product"] for title in ("Mug", "Pen", "Cap"))
    assert body["top_products"] == [
        {"product": mug, "title": "Mug", "quantity": 7, "revenue": money("175.00")},
        {"product": pen, "title": "Pen", "quantity": 2, "revenue": money("20.00")},
        {"product": cap, "title": "Cap", "quantity": 1, "revenue": money("5.00")},
    ]
    # A narrower period sums only its own days.
    narrow = admin.get("reports/sales", data={"from": D2, "to": D2}).json()
    assert narrow["totals"]["orders"] == 1 and narrow["totals"]["revenue"] == money("25.00")
    assert [p["title"] for p in narrow["top_products"]] == ["Mug"]


def test_a_manual_order_counts_on_the_day_it_is_marked_paid(
    api, admin: AdminClient, shop_a: ShopContext, catalog
) -> None:
    number = place(api, shop_a, {catalog["Pen"]["variant"]: 2}, payment=MANUAL)
    backdate(shop_a, number, placed=D1)
    refresh(shop_a, D1, D2)
    assert admin.get("reports/sales", data={"from": D1, "to": D2}).json()["totals"]["orders"] == 0
    assert admin.post(f"orders/{number}/mark-paid").status_code == 200
    backdate(shop_a, number, placed=D1, paid=D2)
    refresh(shop_a, D1, D2)
    days = admin.get("reports/sales", data={"from": D1, "to": D2}).json()["days"]
    assert [(day["date"], day["orders"], day["revenue"]["amount"]) for day in days] == [
        ("2026-03-02", 0, "0.00"),
        ("2026-03-03", 1, "20.00"),
    ]


def test_top_products_are_the_ten_best_by_revenue_under_their_latest_title(
    admin: AdminClient, shop_a: ShopContext
) -> None:
    use_shop(shop_a.shop)
    for product_id in range(1, 13):  # product 12 sells best, product 1 least
        DailyProductSales.objects.create(
            date=D1,
            currency="EUR",
            product_id=product_id,
            title=f"Old {product_id}",
            quantity=1,
            revenue=product_id,
        )
    DailyProductSales.objects.create(
        date=D2, currency="EUR", product_id=3, title="New 3", quantity=5, revenue=Decimal(20)
    )
    use_public()
    top = admin.get("reports/sales", data={"from": D1, "to": D2}).json()["top_products"]
    assert [p["product"] for p in top] == [3, 12, 11, 10, 9, 8, 7, 6, 5, 4]
    assert top[0] == {"product": 3, "title": "New 3", "quantity": 6, "revenue": money("23.00")}
    assert top[1]["title"] == "Old 12"


# --- Keeping the aggregates current ------------------------------------------------------


def test_refreshing_is_idempotent_and_follows_changes(
    admin: AdminClient, shop_a: ShopContext, three_days
) -> None:
    refresh(shop_a, D1, D3)
    first = stored_rows(shop_a)
    refresh(shop_a, D1, D3)
    assert stored_rows(shop_a) == first  # same rows (ids included), same figures
    days, products = first
    assert [(row[1], row[2], row[3], row[4], row[5]) for row in days] == [
        (D1, 2, Decimal("65.000"), Decimal("0.000"), 4),
        (D2, 1, Decimal("25.000"), Decimal("0.000"), 1),
        (D3, 2, Decimal("80.000"), Decimal("30.000"), 5),
    ]
    assert len(products) == 6  # D1 mug, pen, cap; D2 mug; D3 mug, pen
    # Another refund on D3 updates D3's rows in place.
    assert admin.post(f"orders/{three_days['d3_mugs']}/refund", {"amount": "5.00"}).status_code == 200
    backdate_refunds(shop_a, three_days["d3_mugs"], day=D3)
    refresh(shop_a, D1, D3)
    days, _ = stored_rows(shop_a)
    assert days[2][0] == first[0][2][0] and days[2][3:5] == (Decimal("75.000"), Decimal("35.000"))
    # An order that no longer belongs to a day leaves it: the day's stale rows go.
    backdate(shop_a, three_days["d2_mug"], placed=D2, paid=D1)
    refresh(shop_a, D1, D3)
    days, products = stored_rows(shop_a)
    assert [row[1] for row in days] == [D1, D3]
    assert D2 not in {row[1] for row in products}


def test_a_refresh_outside_the_range_leaves_other_days_alone(shop_a: ShopContext, three_days) -> None:
    refresh(shop_a, D1, D3)
    before = stored_rows(shop_a)
    backdate(shop_a, three_days["d1_pen_cap"], placed=D1, paid=D2)
    refresh(shop_a, D3, D3)
    assert stored_rows(shop_a) == before


def test_order_events_refresh_the_shops_recent_days(
    api, admin: AdminClient, shop_a: ShopContext, catalog, django_capture_on_commit_callbacks
) -> None:
    use_shop(shop_a.shop)
    cache.delete(reports.REFRESH_PENDING_KEY)
    use_public()
    # Checkout commits, its events dispatch (eager Celery) and order.paid queues the refresh.
    with django_capture_on_commit_callbacks(execute=True):
        number = place(api, shop_a, {catalog["Mug"]["variant"]: 3})
    today_row = admin.get("reports/sales").json()["days"][-1]
    assert today_row["date"] == today().isoformat()
    assert (today_row["orders"], today_row["revenue"], today_row["items_sold"]) == (1, money("75.00"), 3)
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(f"orders/{number}/refund", {"amount": "15.00"}).status_code == 200
    totals = admin.get("reports/sales").json()["totals"]
    assert totals["revenue"] == money("60.00") and totals["refunds"] == money("15.00")


def test_order_event_refreshes_are_debounced_per_shop(
    shop_a: ShopContext, shop_b: ShopContext, monkeypatch
) -> None:
    queued: list[dict[str, Any]] = []
    monkeypatch.setattr(
        tasks.sales_aggregates_refresh_shop, "apply_async", lambda **options: queued.append(options)
    )
    for ctx in (shop_a, shop_b):
        use_shop(ctx.shop)
        cache.delete(reports.REFRESH_PENDING_KEY)
    use_shop(shop_a.shop)
    assert reports.sales_refresh_soon() is True
    assert reports.sales_refresh_soon() is False  # one is already waiting
    use_shop(shop_b.shop)
    assert reports.sales_refresh_soon() is True  # another shop's is its own
    assert [options["headers"] for options in queued] == [
        {"_schema_name": shop_a.shop.schema_name},
        {"_schema_name": shop_b.shop.schema_name},
    ]
    assert queued[0]["countdown"] == reports.REFRESH_DELAY
    # Once the refresh starts, the next event asks again (it may have missed that change).
    use_shop(shop_a.shop)
    reports.sales_recent_days_refresh()
    assert reports.sales_refresh_soon() is True
    assert len(queued) == 3
    for ctx in (shop_a, shop_b):
        use_shop(ctx.shop)
        cache.delete(reports.REFRESH_PENDING_KEY)


def test_beat_fans_out_to_shops_with_recent_sales_only(
    api, shop_a: ShopContext, shop_b: ShopContext, catalog, monkeypatch
) -> None:
    place(api, shop_a, {catalog["Pen"]["variant"]: 1})  # shop B sells nothing
    use_public()
    queued: list[dict[str, Any]] = []
    original = tasks.sales_aggregates_refresh_shop.apply_async
    monkeypatch.setattr(
        tasks.sales_aggregates_refresh_shop, "apply_async", lambda **options: queued.append(options)
    )
    assert tasks.sales_aggregates_refresh() == 1
    yesterday = today() - dt.timedelta(days=1)
    assert queued == [
        {
            "kwargs": {"days": [yesterday.isoformat(), today().isoformat()]},
            "headers": {"_schema_name": shop_a.shop.schema_name},
        }
    ]
    # To backfill, every shop and as many days as asked.
    queued.clear()
    assert tasks.sales_aggregates_refresh(days=90, all_shops=True) >= 2
    assert {shop_a.shop.schema_name, shop_b.shop.schema_name} <= {
        o["headers"]["_schema_name"] for o in queued
    }
    assert all(len(o["kwargs"]["days"]) == 90 for o in queued)
    # For real (eager Celery): each shop's task runs in its own schema.
    monkeypatch.setattr(tasks.sales_aggregates_refresh_shop, "apply_async", original)
    assert tasks.sales_aggregates_refresh() == 1
    use_shop(shop_a.shop)
    assert list(DailySales.objects.values_list("date", "orders")) == [(today(), 1)]
    use_shop(shop_b.shop)
    assert not DailySales.objects.exists()


def test_an_old_events_shop_is_not_refreshed(api, shop_a: ShopContext, catalog, monkeypatch) -> None:
    from tenants.outbox.models import OutboxEvent

    place(api, shop_a, {catalog["Pen"]["variant"]: 1})
    use_shop(shop_a.shop)
    OutboxEvent.objects.filter(schema_name=shop_a.shop.schema_name).update(created_at=at(D1))
    use_public()
    queued: list[dict[str, Any]] = []
    monkeypatch.setattr(
        tasks.sales_aggregates_refresh_shop, "apply_async", lambda **options: queued.append(options)
    )
    assert tasks.sales_aggregates_refresh() == 0 and queued == []


# --- The endpoint --------------------------------------------------------------------------


def test_defaults_are_the_last_30_days_up_to_today(admin: AdminClient) -> None:
    # Empty values are not dates (the document says `format: date`): leave them out for the defaults.
    for empty in ({"from": ""}, {"to": ""}):
        assert_problem(admin.get("reports/sales", data=empty), 400)
    no_dates: list[dict[str, str]] = [{}]
    for query in no_dates:
        body = admin.get("reports/sales", data=query).json()
        assert body["to"] == today().isoformat()
        assert body["from"] == (today() - dt.timedelta(days=29)).isoformat()
        assert len(body["days"]) == 30 and body["top_products"] == []
        assert body["totals"] == {
            "orders": 0,
            "gross_sales": money("0.00"),
            "revenue": money("0.00"),
            "refunds": money("0.00"),
            "average_order_value": money("0.00"),
            "items_sold": 0,
            **NO_BREAKDOWN,
        }
    only_to = admin.get("reports/sales", data={"to": "2026-03-31"}).json()
    assert (only_to["from"], len(only_to["days"])) == ("2026-03-02", 30)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"to": "20260301"}, "to"),
        ({"from": "2026-03-01T00:00:00Z"}, "from"),
        ({"from": "2026-03-05", "to": "2026-03-04"}, "from"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),  # 367 days
        ({"from": "1969-12-31", "to": "1970-01-02"}, "from"),
        ({"from": "0001-01-01"}, "from"),
    ],
)
def test_bad_periods_are_400_problems(admin: AdminClient, query: dict[str, str], field: str) -> None:
    body = assert_problem(admin.get("reports/sales", data=query), 400)
    assert field in body["errors"], body


def test_longest_period_and_edges_of_the_calendar(admin: AdminClient) -> None:
    year = admin.get("reports/sales", data={"from": "2024-01-01", "to": "2024-12-31"})
    assert year.status_code == 200 and len(year.json()["days"]) == 366
    end = admin.get("reports/sales", data={"from": "9999-12-01", "to": "9999-12-31"})
    assert end.status_code == 200 and len(end.json()["days"]) == 31
    start = admin.get("reports/sales", data={"to": "1970-01-05"})
    assert start.status_code == 200 and start.json()["from"] == "1970-01-01"


def test_report_needs_orders_read(api, shop_a: ShopContext) -> None:
    path = "/api/admin/v1/reports/sales"
    assert_problem(api.get(path, HTTP_HOST=shop_a.host), 401)
    _key, catalog_only = tenant_services.api_key_create(
        shop=shop_a.shop, name="catalog", scopes=[ApiKey.Scope.CATALOG_READ], created_by=shop_a.owner
    )
    _key, orders_read = tenant_services.api_key_create(
        shop=shop_a.shop, name="orders", scopes=[ApiKey.Scope.ORDERS_READ], created_by=shop_a.owner
    )
    body = assert_problem(
        api.get(path, HTTP_HOST=shop_a.host, HTTP_AUTHORIZATION=f"Api-Key {catalog_only}"), 403
    )
    assert "orders:read" in body["detail"]
    assert (
        api.get(path, HTTP_HOST=shop_a.host, HTTP_AUTHORIZATION=f"Api-Key {orders_read}").status_code == 200
    )


def test_shops_see_only_their_own_sales(
    api, admin: AdminClient, shop_a: ShopContext, shop_b: ShopContext, catalog
) -> None:
    place(api, shop_a, {catalog["Mug"]["variant"]: 1})
    for ctx in (shop_a, shop_b):
        refresh(ctx, today() - dt.timedelta(days=1), today())
    # Shop B's owner cannot read shop A's report, with a token or through B's host.
    assert_problem(
        api.get("/api/admin/v1/reports/sales", HTTP_HOST=shop_a.host, **bearer(shop_b.token())), 403
    )
    _key, b_key = tenant_services.api_key_create(
        shop=shop_b.shop, name="b", scopes=[ApiKey.Scope.ORDERS_READ], created_by=shop_b.owner
    )
    assert_problem(
        api.get("/api/admin/v1/reports/sales", HTTP_HOST=shop_a.host, HTTP_AUTHORIZATION=f"Api-Key {b_key}"),
        401,
    )
    b_report = AdminClient(api, shop_b).get("reports/sales").json()
    assert (
        b_report["currency"] == "USD" and b_report["totals"]["orders"] == 0 and b_report["top_products"] == []
    )
    assert b_report["totals"]["revenue"] == money("0.00", "USD")
    assert admin.get("reports/sales").json()["totals"]["orders"] == 1


def test_report_reads_are_few_queries(
    admin: AdminClient, shop_a: ShopContext, three_days, django_assert_max_num_queries
) -> None:
    refresh(shop_a, D1, D3)
    admin.get("reports/sales")  # warm the host lookup
    # Authentication and membership (3), then the days, the top products and their titles (3).
    with django_assert_max_num_queries(6):
        response = admin.get("reports/sales", data={"from": "2025-03-05", "to": "2026-03-04"})
    assert response.status_code == 200 and len(response.json()["days"]) == 365


def test_a_shop_that_changed_currency_reports_each_currency_apart(
    api, admin: AdminClient, shop_a: ShopContext, catalog, django_capture_on_commit_callbacks
) -> None:
    """
    A EUR shop sells, switches to USD, sells again: the same day's report used to add
    the two orders up under the shop's new currency.
    """
    mug = catalog["Mug"]["variant"]
    in_eur = place(api, shop_a, {mug: 2})  # 50.00 EUR
    with django_capture_on_commit_callbacks(execute=True):
        changed = api.patch(
            "/api/platform/v1/shops/alpha",
            {"currency": "USD"},
            format="json",
            **PLATFORM,
            **bearer(shop_a.token()),
        )
    assert changed.status_code == 200
    in_usd = place(api, shop_a, {mug: 1})  # 25.00 USD
    for number in (in_eur, in_usd):
        backdate(shop_a, number, placed=D1, paid=D1)
    refresh(shop_a, D1, D1)

    usd = admin.get("reports/sales", data={"from": D1, "to": D1}).json()  # the shop's currency now
    assert usd["currency"] == "USD"
    assert usd["totals"]["orders"] == 1 and usd["totals"]["revenue"] == money("25.00", "USD")
    assert usd["top_products"][0]["revenue"] == money("25.00", "USD")
    eur = admin.get("reports/sales", data={"from": D1, "to": D1, "currency": "EUR"}).json()
    assert eur["currency"] == "EUR"
    assert eur["totals"]["orders"] == 1 and eur["totals"]["revenue"] == money("50.00")
    assert eur["days"][0]["items_sold"] == 2
    assert_problem(admin.get("reports/sales", data={"currency": "XXX"}), 400)
