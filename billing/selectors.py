"""
Reads of billing: plans, a shop's plan limits (the rate limiter's hot path),
subscriptions, usage and invoices.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from billing.models import Invoice, Plan, Subscription
from tenants.models import Shop

logger = logging.getLogger(__name__)

DEFAULT_PLAN = "free"
# Limits are read on every Admin and Storefront API request (rate limits), so each
# process keeps them a few seconds; a plan change clears this process's copy at
# once and reaches the others within this many seconds.
LIMITS_CACHE_SECONDS = float(getattr(settings, "BILLING_LIMITS_CACHE_SECONDS", 5.0))
LIMITS_CACHE_SIZE = 4096


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

_limits_cache: dict[int, tuple[float, PlanLimits]] = {}
_limits_lock = threading.Lock()


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
    The limits of a shop's plan, cached in this process for a few seconds: what
    the rate limiter reads on every request (`api_requests_per_minute` on the
    Admin API, `storefront_requests_per_minute` per client on the Storefront API).
    """
    shop_id = shop if isinstance(shop, int) else shop.pk
    now = time.monotonic()
    with _limits_lock:
        hit = _limits_cache.get(shop_id)
        if hit is not None and hit[0] > now:
            return hit[1]
    limits = PlanLimits.of(shop_plan(shop_id))
    with _limits_lock:
        if len(_limits_cache) >= LIMITS_CACHE_SIZE:
            _limits_cache.clear()
        _limits_cache[shop_id] = (now + LIMITS_CACHE_SECONDS, limits)
    return limits


def shop_plan_limits_forget(shop_id: int | None = None) -> None:
    """Drop cached limits of one shop (after its plan changed) or of all shops."""
    with _limits_lock:
        if shop_id is None:
            _limits_cache.clear()
        else:
            _limits_cache.pop(shop_id, None)


def subscription_for_shop(*, shop: Shop) -> Subscription | None:
    return Subscription.objects.select_related("plan").filter(shop=shop).first()


def invoices_for_shop(*, shop: Shop) -> QuerySet[Invoice]:
    return Invoice.objects.filter(shop=shop).select_related("plan").prefetch_related("lines")
