"""
Reads of billing: plans, a shop's plan limits (the rate limiter's hot path),
subscriptions, usage and invoices.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from billing import metering
from billing.errors import LimitReached, SubscriptionMissing
from billing.limits import Metric, limit_message
from billing.models import Invoice, Plan, ShopUsage, Subscription
from billing.periods import period_bounds, period_of
from billing.usage.models import OrderCount
from tenants.models import Membership, Shop
from tenants.process_cache import ProcessCache
from tenants.schemas import current_schema

logger = logging.getLogger(__name__)

DEFAULT_PLAN = "free"


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """What a shop's plan allows. Every figure is a hard limit."""

    plan: str
    max_products: int
    max_orders_per_month: int
    max_staff_seats: int
    max_storage_bytes: int
    api_requests_per_minute: int
    storefront_requests_per_minute: int

    @classmethod
    def of(cls, plan: Plan) -> PlanLimits:
        return cls(
            plan=plan.code,
            max_products=plan.max_products,
            max_orders_per_month=plan.max_orders_per_month,
            max_staff_seats=plan.max_staff_seats,
            max_storage_bytes=plan.max_storage_bytes,
            api_requests_per_minute=plan.api_requests_per_minute,
            storefront_requests_per_minute=plan.storefront_requests_per_minute,
        )


LIMIT_NAMES = (
    "max_products",
    "max_orders_per_month",
    "max_staff_seats",
    "max_storage_bytes",
    "api_requests_per_minute",
    "storefront_requests_per_minute",
)

# Limits are read on every Admin and Storefront API request (rate limits), so each
# process keeps them; a plan change, or an edit of a plan, makes every process forget.
_limits_cache: ProcessCache[int, PlanLimits] = ProcessCache(
    "plan-limits",
    seconds=settings.BILLING_LIMITS_CACHE_SECONDS,
    size=settings.BILLING_LIMITS_CACHE_SIZE,
    key_type=int,
)


def plans_list() -> QuerySet[Plan]:
    return Plan.objects.order_by("position", "id")


def plan_by_code(code: str) -> Plan | None:
    return Plan.objects.filter(code=code).first()


def shop_plan(shop: Shop | int) -> Plan:
    """The plan a shop is subscribed to (the default plan if, against the rules, it has none)."""
    shop_id = shop if isinstance(shop, int) else shop.pk
    plan = Plan.objects.filter(subscriptions__shop_id=shop_id).first()
    if plan is None:
        logger.error("Shop %s has no subscription; applying the %r plan", shop_id, DEFAULT_PLAN)
        plan = Plan.objects.get(code=DEFAULT_PLAN)
    return plan


def shop_plan_limits(shop: Shop | int) -> PlanLimits:
    """
    The limits of a shop's plan, kept in this process: what the rate limiter
    reads on every request (`api_requests_per_minute` on the Admin API,
    `storefront_requests_per_minute` per client on the Storefront API).
    """
    shop_id = shop if isinstance(shop, int) else shop.pk
    found, limits = _limits_cache.get(shop_id)
    if found and limits is not None:
        return limits
    limits = PlanLimits.of(shop_plan(shop_id))
    _limits_cache.put(shop_id, limits)
    return limits


def shop_plan_limits_forget(shop_id: int | None = None) -> None:
    """Forget one shop's limits (its plan changed) or every shop's (a plan changed), in every process."""
    if shop_id is None:
        _limits_cache.clear()
    else:
        _limits_cache.forget([shop_id])


def subscription_for_shop(*, shop: Shop) -> Subscription | None:
    return Subscription.objects.select_related("plan").filter(shop=shop).first()


def invoices_for_shop(*, shop: Shop) -> QuerySet[Invoice]:
    return Invoice.objects.filter(shop=shop).select_related("plan").prefetch_related("lines")


def current_shop_id() -> int:
    """The id of the shop the database connection is on (billing's callers run in the shop's schema)."""
    tenant = getattr(connection, "tenant", None)
    shop_id = getattr(tenant, "pk", None)
    if isinstance(shop_id, int):
        return shop_id
    found = Shop.objects.filter(schema_name=current_schema()).values_list("pk", flat=True).first()
    if found is None:
        raise SubscriptionMissing(f"No shop uses the schema {current_schema()!r}.")
    return found


def order_count_table(shop: Shop | int) -> str:
    """The shop's order-count table, named with its schema (the connection may be on another)."""
    shop_id = shop if isinstance(shop, int) else shop.pk
    tenant = getattr(connection, "tenant", None)
    schema = current_schema() if getattr(tenant, "pk", None) == shop_id else None
    if isinstance(shop, Shop):
        schema = shop.schema_name
    if schema is None:
        schema = Shop.objects.filter(pk=shop_id).values_list("schema_name", flat=True).first()
        if schema is None:
            raise SubscriptionMissing(f"There is no shop {shop_id}.")
    quote = connection.ops.quote_name
    return f"{quote(schema)}.{quote(OrderCount._meta.db_table)}"


def shop_orders_in_period(shop: Shop | int, period: dt.date | None = None) -> int:
    """The orders counted against the shop's plan in `period` (default: this one), from its schema."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT orders FROM {order_count_table(shop)} WHERE period = %s", [period or period_of()]
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def shop_usage_counts(shop: Shop | int) -> dict[Metric, int]:
    """What the shop uses now of each counted limit (orders: this period's)."""
    shop_id = shop if isinstance(shop, int) else shop.pk
    usage = ShopUsage.objects.filter(shop_id=shop_id).first()
    return {
        Metric.PRODUCTS: usage.products if usage else 0,
        Metric.ORDERS: shop_orders_in_period(shop),
        Metric.STAFF_SEATS: Membership.objects.filter(shop_id=shop_id).count(),
        Metric.STORAGE_BYTES: usage.storage_bytes if usage else 0,
    }


def usage_allows(*, metric: Metric, amount: int = 1, shop_id: int | None = None) -> None:
    """
    Raise LimitReached if `amount` more of `metric` would cross the plan's limit
    now. An early, unlocked answer for a friendlier refusal; `services.usage_take`
    is the binding check.
    """
    shop_id = shop_id if shop_id is not None else current_shop_id()
    plan = shop_plan(shop_id)
    allowed = int(getattr(plan, metric.value))
    if shop_usage_counts(shop_id)[metric] + amount > allowed:
        raise LimitReached(
            f"{limit_message(plan, metric)}; upgrade the plan to add more.",
            limit=metric.value,
            plan=plan.code,
            allowed=allowed,
        )


def usage_summary(*, shop: Shop) -> dict[str, Any]:
    """Each metered quantity of the running period beside the plan's limit for it."""
    plan = shop_plan(shop.pk)
    period = period_of()
    start, end = period_bounds(period)
    used = shop_usage_counts(shop)
    try:
        api_calls: int | None = metering.api_calls_in_period(schema=shop.schema_name, period=period)
    except Exception:
        logger.warning("API call counter of %s unreachable", shop.slug, exc_info=True)
        api_calls = None
    return {
        "plan": plan.code,
        "period": {"start": start, "end": end},
        "products": {"used": used[Metric.PRODUCTS], "limit": plan.max_products},
        "orders": {
            "used": used[Metric.ORDERS],
            "limit": plan.max_orders_per_month,
            "included": plan.included_orders_per_month,
        },
        "staff_seats": {"used": used[Metric.STAFF_SEATS], "limit": plan.max_staff_seats},
        "storage_bytes": {"used": used[Metric.STORAGE_BYTES], "limit": plan.max_storage_bytes},
        "api_calls": {
            "used": api_calls,
            "included": plan.included_api_calls_per_month,
            "limit_per_minute": plan.api_requests_per_minute,
        },
    }
