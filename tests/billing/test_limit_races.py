"""
Limits under concurrency, at the edge: committed data and real threads, each on
its own connection. Racing creates beyond the limit never overshoot it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from django.db import connections, transaction

from billing import selectors
from billing.errors import LimitReached
from billing.limits import Metric
from billing.models import Plan, PlanChange, ShopUsage, Subscription, UsagePeriod
from billing.periods import period_of
from billing.services import usage_take
from billing.usage.models import OrderCount
from catalog.models import Product
from catalog.services import VariantSpec, product_create
from tenants.audit.services import Actor
from tenants.schemas import use_public, use_shop
from tests.conftest import ShopContext

LIMIT = 3
RACERS = 8


@pytest.fixture
def tiny_shop(committed_shop: ShopContext, django_db_blocker) -> Iterator[ShopContext]:
    """The committed shop on a plan allowing LIMIT products and orders (removed afterwards)."""
    with django_db_blocker.unblock():
        free = Plan.objects.get(code="free")
        tiny = Plan.objects.create(
            **{
                **{f.name: getattr(free, f.name) for f in Plan._meta.concrete_fields if f.name != "id"},
                "code": "race-tiny",
                "name": "Tiny",
                "position": 900,
                "max_products": LIMIT,
                "max_orders_per_month": LIMIT,
            }
        )
        Subscription.objects.filter(shop=committed_shop.shop).update(plan=tiny)
        try:
            yield committed_shop
        finally:
            use_public()
            Subscription.objects.filter(shop=committed_shop.shop).update(plan=free)
            PlanChange.objects.filter(plan=tiny).delete()
            tiny.delete()
            selectors.shop_plan_limits_forget()


def race(shop: ShopContext, create: Callable[[int], None]) -> tuple[int, int, list[BaseException]]:
    """Run RACERS creates at once; return (succeeded, refused with 402, other errors)."""
    barrier = threading.Barrier(RACERS)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def racer(index: int) -> None:
        try:
            use_shop(shop.shop)
            barrier.wait(10)
            create(index)
            outcomes.append("ok")
        except LimitReached:
            outcomes.append("refused")
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes.count("ok"), outcomes.count("refused"), errors


def test_racing_product_creates_stop_exactly_at_the_limit(tiny_shop, django_db_blocker) -> None:
    def create(index: int) -> None:
        product_create(
            actor=Actor.system("race"),
            title=f"Racer {index}",
            variants=[VariantSpec(sku=f"RACE-{index}", price=Decimal("5.00"), stock=1)],
        )

    with django_db_blocker.unblock():
        created, refused, errors = race(tiny_shop, create)
        assert not errors, errors
        assert (created, refused) == (LIMIT, RACERS - LIMIT)
        use_shop(tiny_shop.shop)
        assert Product.objects.count() == LIMIT
        use_public()
        assert ShopUsage.objects.get(shop=tiny_shop.shop).products == LIMIT


def test_racing_orders_stop_exactly_at_the_monthly_limit(tiny_shop, django_db_blocker) -> None:
    def place(index: int) -> None:
        with transaction.atomic():
            usage_take(metric=Metric.ORDERS)

    with django_db_blocker.unblock():
        placed, refused, errors = race(tiny_shop, place)
        assert not errors, errors
        assert (placed, refused) == (LIMIT, RACERS - LIMIT)
        use_shop(tiny_shop.shop)
        assert OrderCount.objects.get(period=period_of()).orders == LIMIT
        use_public()
        assert not UsagePeriod.objects.filter(shop=tiny_shop.shop).exists()  # no public write
