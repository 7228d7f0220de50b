"""
Price history: every price change becomes an outbox event, the worker's handler
recomputes the change's day (lowest, highest, closing price, the opening price
included), and the Admin API reads a product's days per variant over a range,
refusing bad ranges and other shops' products with problems.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from catalog import services
from catalog.models import PriceChange, Product, VariantPriceDay
from catalog.price_history import MAX_DAYS, price_days_refresh
from tenants.audit.services import Actor
from tenants.outbox.events import EventType
from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import events_dispatch
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem

ACTOR = Actor.system("test")


class Clock:
    """timezone.now() at a chosen instant, as the models' auto_now_add read it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def at(self, day: int, hour: int, minute: int = 0) -> None:
        self.now = datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _product(price: str = "10.00") -> Product:
    return services.product_create(
        actor=ACTOR,
        title="Enamel Mug",
        status=Product.Status.ACTIVE,
        variants=[services.VariantSpec(sku="MUG-1", price=Decimal(price), stock=3)],
    )


def _price(product: Product, price: str) -> None:
    services.variant_update(actor=ACTOR, variant=product.variants.get(), price=Decimal(price))


def _days(product: Product) -> dict[date, tuple[str, str, str, int, str]]:
    return {
        row.day: (str(row.low), str(row.high), str(row.close), row.changes, row.currency)
        for row in VariantPriceDay.objects.filter(variant__product=product).order_by("day")
    }


@pytest.fixture
def in_shop(shop_a: ShopContext) -> Any:
    use_shop(shop_a.shop)
    yield shop_a
    use_public()


def test_each_day_keeps_its_lowest_highest_and_closing_price_with_the_opening_one(
    in_shop: ShopContext, monkeypatch
) -> None:
    clock = Clock(monkeypatch)
    product = _product("10.00")  # day 2, 09:00
    for hour, price in ((10, "12.00"), (11, "8.00"), (23, "11.00")):
        clock.at(2, hour)
        _price(product, price)
    clock.at(3, 0)
    _price(product, "15.00")  # midnight belongs to the new day
    clock.at(3, 12)
    _price(product, "9.50")
    clock.at(5, 8)
    _price(product, "20.00")
    clock.at(5, 9)
    _price(product, "20.00")  # the same price: no change recorded

    assert VariantPriceDay.objects.count() == 0  # nothing until the worker handles the events
    events = OutboxEvent.objects.filter(
        schema_name=in_shop.shop.schema_name, type=EventType.VARIANT_PRICE_CHANGED
    )
    assert events.count() == PriceChange.objects.count() == 7
    assert events_dispatch() >= 7

    currency = in_shop.shop.currency
    assert _days(product) == {
        date(2026, 11, 2): ("8.000", "12.000", "11.000", 4, currency),
        # Opened at 11.00 (the day before's close), then 15.00 and 9.50.
        date(2026, 11, 3): ("9.500", "15.000", "9.500", 2, currency),
        # Day 4 had no change: no row (it kept 9.50). Day 5 opened at 9.50.
        date(2026, 11, 5): ("9.500", "20.000", "20.000", 1, currency),
    }

    # Handling the events again (at least once delivery) or all days at once writes the same rows.
    before = _days(product)
    OutboxEvent.objects.filter(type=EventType.VARIANT_PRICE_CHANGED).update(
        dispatched_at=None, claimed_at=None
    )
    events_dispatch()
    variant_id = product.variants.get().pk
    price_days_refresh(days={(variant_id, day) for day in before})
    assert _days(product) == before


def test_a_late_recomputation_never_replaces_a_newer_one(in_shop: ShopContext, monkeypatch) -> None:
    clock = Clock(monkeypatch)
    product = _product("10.00")
    clock.at(2, 10)
    _price(product, "30.00")
    events_dispatch()
    day = date(2026, 11, 2)
    assert _days(product)[day][:3] == ("10.000", "30.000", "30.000")
    # The row as a worker wrote it having seen a newer change than this recomputation sees.
    row = VariantPriceDay.objects.get(day=day)
    VariantPriceDay.objects.filter(pk=row.pk).update(
        close=Decimal("99"), last_change_id=row.last_change_id + 1
    )
    assert price_days_refresh(days={(row.variant_id, day)}) == 0
    assert _days(product)[day][2] == "99.000"
    # One that saw the same change (the event handled again) writes its result.
    VariantPriceDay.objects.filter(pk=row.pk).update(last_change_id=row.last_change_id)
    assert price_days_refresh(days={(row.variant_id, day)}) == 1
    assert _days(product)[day][2] == "30.000"


# --- The Admin API ---------------------------------------------------------------


@pytest.fixture
def history(api, shop_a: ShopContext, monkeypatch) -> tuple[AdminClient, Product]:
    """A product whose one variant changed price over a few days of November 2026."""
    use_shop(shop_a.shop)
    with monkeypatch.context() as patched:
        clock = Clock(patched)
        product = _product("10.00")
        clock.at(3, 12)
        _price(product, "14.00")
        clock.at(3, 13)
        _price(product, "12.00")
        clock.at(20, 8)
        _price(product, "9.00")
        events_dispatch()
    use_public()
    return AdminClient(api, shop_a), product


def test_the_days_of_a_range_with_the_price_it_opens_with(history) -> None:
    admin, product = history
    response = admin.get(f"products/{product.pk}/price-history?from=2026-11-03&to=2026-11-19")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["product"], body["date_from"], body["date_to"]) == (product.pk, "2026-11-03", "2026-11-19")
    (variant,) = body["variants"]
    assert variant["sku"] == "MUG-1"
    assert variant["opening"]["date"] == "2026-11-02"
    assert variant["opening"]["close"]["amount"] == "10.00"
    rows = [
        (d["date"], d["min"]["amount"], d["max"]["amount"], d["close"]["amount"]) for d in variant["days"]
    ]
    assert rows == [("2026-11-03", "10.00", "14.00", "12.00")]
    currency = variant["days"][0]["close"]["currency"]
    assert currency == admin.ctx.shop.currency

    only = admin.get(
        f"products/{product.pk}/price-history?from=2026-11-01&to=2026-11-30&variant={product.variants.get().pk}"
    ).json()
    assert only["variants"][0]["opening"] is None
    assert [d["date"] for d in only["variants"][0]["days"]] == ["2026-11-02", "2026-11-03", "2026-11-20"]


def test_the_default_range_is_the_last_90_days(history) -> None:
    admin, product = history
    body = admin.get(f"products/{product.pk}/price-history").json()
    today = timezone.now().date()
    assert body["date_to"] == today.isoformat()
    assert body["date_from"] == (today - timedelta(days=89)).isoformat()


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2026-11-05&to=2026-11-01", "from"),  # from after to
        ("from=2020-01-01&to=2026-11-01", "to"),  # more than two years
        (f"from=2026-01-01&to={(date(2026, 1, 1) + timedelta(days=MAX_DAYS)).isoformat()}", "to"),
        ("from=2026-13-01", "from"),
        ("to=2026-02-30", "to"),
        ("from=2026-11-01%00", "from"),
        ("from=%ED%A0%80", "from"),  # a lone surrogate, UTF-8 encoded
        ("to=", "to"),
        ("from=99999-01-01", "from"),
        ("variant=0", "variant"),
        ("variant=abc", "variant"),
        (f"variant={2**70}", "variant"),
        ("variant=1%00", "variant"),
    ],
)
def test_bad_queries_are_refused_with_a_problem(history, query: str, field: str) -> None:
    admin, product = history
    body = assert_problem(admin.get(f"products/{product.pk}/price-history?{query}"), 400)
    assert field in body["errors"], body


def test_the_longest_range_is_two_years(history) -> None:
    admin, product = history
    last = date(2026, 1, 1) + timedelta(days=MAX_DAYS - 1)
    assert admin.get(f"products/{product.pk}/price-history?from=2026-01-01&to={last}").status_code == 200


def test_unknown_products_variants_and_other_shops_products_are_not_found(
    history, api, shop_b: ShopContext
) -> None:
    admin, product = history
    assert_problem(admin.get("products/999999/price-history"), 404)
    assert_problem(admin.get(f"products/{product.pk}/price-history?variant=999999"), 404)
    # The same id asked by another shop's owner: that shop has no such product.
    assert_problem(AdminClient(api, shop_b).get(f"products/{product.pk}/price-history"), 404)
    assert_problem(
        AdminClient(api, admin.ctx, authorization="Bearer nope").get(f"products/{product.pk}/price-history"),
        401,
    )


def test_the_migration_fills_the_days_of_changes_made_before_the_table(
    in_shop: ShopContext, monkeypatch
) -> None:
    from catalog.price_history import PAIRS_ALL, REFRESH_SQL

    clock = Clock(monkeypatch)
    product = _product("10.00")
    clock.at(4, 10)
    _price(product, "7.00")
    events_dispatch()
    handled = _days(product)
    VariantPriceDay.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(REFRESH_SQL.format(pairs=PAIRS_ALL))
    assert _days(product) == handled
