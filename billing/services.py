"""
Billing writes: subscriptions and plan changes, the usage counters that limits
bite on, and (in billing.invoicing) invoices.

Limits are race-safe. Every check first locks the shop's subscription row
(FOR SHARE for counted creates, which then run concurrently with each other;
FOR NO KEY UPDATE for seat changes and plan changes, which queue), then moves
its counter with one conditional UPDATE (`... SET n = n + k WHERE n + k <= limit`)
that PostgreSQL re-checks against the row's newest version after any wait. So
concurrent creates at the edge cannot overshoot, and a downgrade cannot slip
between a check and a create. Counters change inside the caller's transaction:
a create that rolls back gives its slot back with it. The month's order count
is a row in the shop's own schema (`billing.usage`), so a checkout writes no
public row; `order_counts_collect` copies the counts into `UsagePeriod`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from billing import selectors
from billing.errors import DowngradeRefused, LimitReached, PlanNotFound, SubscriptionMissing
from billing.limits import COLUMNS, Metric, limit_message
from billing.models import Plan, PlanChange, ShopUsage, Subscription, UsagePeriod
from billing.periods import period_of
from billing.usage.models import OrderCount
from tenants.models import Membership, Shop, User
from tenants.schemas import shop_schemas_with_table

# --- Subscriptions ----------------------------------------------------------------


def subscription_start(*, shop: Shop, owner: User, options: Mapping[str, Any]) -> Subscription:
    """
    Put a new shop on a plan (`options["plan"]`, default free) with empty usage.
    Registered as a `tenants.hooks.on_shop_provisioned` hook: runs inside
    `shop_create`'s transaction, and an unknown plan rolls the whole shop back.
    """
    code = options.get("plan") or selectors.DEFAULT_PLAN
    plan = selectors.plan_by_code(code) if isinstance(code, str) else None
    if plan is None:
        raise PlanNotFound(
            f"There is no plan {code!r}.",
            errors={"plan": [f"Choose from: {', '.join(p.code for p in selectors.plans_list())}."]},
        )
    now = timezone.now()
    subscription = Subscription.objects.create(shop=shop, plan=plan, started_at=now, plan_changed_at=now)
    PlanChange.objects.create(shop=shop, plan=plan, changed_at=now, changed_by=owner)
    ShopUsage.objects.create(shop=shop)
    return subscription


def shop_plan_facts(shop_ids: list[int]) -> dict[int, dict[str, Any]]:
    """`{shop id: {"plan": code}}` for the Platform API's shop representations (a `shop_facts` hook)."""
    rows = Subscription.objects.filter(shop_id__in=shop_ids).values_list("shop_id", "plan__code")
    return {shop_id: {"plan": code} for shop_id, code in rows}


def _lock(shop_id: int, *, exclusive: bool) -> Plan:
    """
    Lock the shop's subscription row (shared or exclusive) and return its plan,
    in one statement: the row lock is taken before the join's plan is returned,
    so the plan is the one the lock protects. (Checkout pays for this on every
    order, so it is one round trip, not two.)
    """
    strength = "NO KEY UPDATE" if exclusive else "SHARE"
    plans = list(
        Plan.objects.raw(
            f"SELECT p.* FROM public.{Plan._meta.db_table} p "
            f"JOIN public.{Subscription._meta.db_table} s ON s.plan_id = p.id "
            f"WHERE s.shop_id = %s FOR {strength} OF s",
            [shop_id],
        )
    )
    if not plans:
        raise SubscriptionMissing("This shop has no subscription; platform staff must put it on a plan.")
    return plans[0]


def usage_exceeding(shop_id: int, plan: Plan) -> list[tuple[Metric, int]]:
    """The counted limits of `plan` that the shop's current usage exceeds, with the usage."""
    used = selectors.shop_usage_counts(shop_id)
    return [(metric, count) for metric, count in used.items() if count > getattr(plan, metric.value)]


def subscription_change(*, shop: Shop, plan_code: str, by: User | None) -> Subscription:
    """
    Move a shop to another plan at once. A plan whose limits the shop's current
    usage exceeds (products, staff seats, storage, orders this month) is refused
    with a 409 naming the limit; the shop must first come under it.
    """
    plan = selectors.plan_by_code(plan_code)
    if plan is None:
        raise PlanNotFound(
            f"There is no plan {plan_code!r}.",
            errors={"plan": [f"Choose from: {', '.join(p.code for p in selectors.plans_list())}."]},
        )
    with transaction.atomic():
        current = _lock(shop.pk, exclusive=True)
        subscription = Subscription.objects.select_related("plan").get(shop_id=shop.pk)
        if current.pk == plan.pk:
            return subscription
        exceeded = usage_exceeding(shop.pk, plan)
        if exceeded:
            metric, used = exceeded[0]
            allowed = getattr(plan, metric.value)
            messages = [f"{limit_message(plan, m)}; the shop has {count:,}." for m, count in exceeded]
            raise DowngradeRefused(
                f"Cannot move to {plan.code}: {messages[0]}",
                limit=metric.value,
                plan=plan.code,
                allowed=allowed,
                used=used,
                errors={"plan": messages},
            )
        now = timezone.now()
        subscription.plan = plan
        subscription.plan_changed_at = now
        subscription.save(update_fields=["plan", "plan_changed_at"])
        PlanChange.objects.create(shop=shop, plan=plan, previous_plan=current, changed_at=now, changed_by=by)
        transaction.on_commit(lambda: selectors.shop_plan_limits_forget(shop.pk))
    return subscription


def plan_at(*, shop_id: int, moment: dt.datetime) -> Plan | None:
    """The plan a shop was on just before `moment` (None if it had no subscription yet)."""
    change = (
        PlanChange.objects.filter(shop_id=shop_id, changed_at__lt=moment)
        .select_related("plan")
        .order_by("-changed_at", "-id")
        .first()
    )
    return change.plan if change is not None else None


# --- Limits that bite ------------------------------------------------------------


def usage_take(*, metric: Metric, amount: int = 1, shop_id: int | None = None) -> None:
    """
    Count `amount` more of `metric` for the shop (default: the connection's
    shop), or raise LimitReached (402) if its plan does not allow that many.
    Call it inside the transaction that creates the thing, so a rollback frees it.
    """
    if amount < 0:
        raise ValueError("amount must not be negative")
    shop_id = shop_id if shop_id is not None else selectors.current_shop_id()
    # No savepoint: a refusal propagates and rolls the caller's transaction back
    # with it (every caller creates the thing being counted in that transaction).
    with transaction.atomic(savepoint=False):
        plan = _lock(shop_id, exclusive=metric == Metric.STAFF_SEATS)
        allowed = int(getattr(plan, metric.value))
        if metric == Metric.STAFF_SEATS:
            # Memberships are the count; the exclusive lock queues concurrent adds.
            fits = Membership.objects.filter(shop_id=shop_id).count() + amount <= allowed
        elif metric == Metric.ORDERS:
            fits = _period_orders_add(shop_id, amount, allowed)
        else:
            column = COLUMNS[metric]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE public.billing_shopusage SET {column} = {column} + %s, updated_at = now() "
                    f"WHERE shop_id = %s AND {column} + %s <= %s",
                    [amount, shop_id, amount, allowed],
                )
                fits = cursor.rowcount == 1
        if not fits:
            raise LimitReached(
                f"{limit_message(plan, metric)}; upgrade the plan to add more.",
                limit=metric.value,
                plan=plan.code,
                allowed=allowed,
            )


def _period_orders_add(shop_id: int, amount: int, allowed: int) -> bool:
    """
    Add orders to this period's count if they fit; True if they did. The count
    is in the shop's schema, so a checkout writes no public row (the plan row it
    share-locks in `_lock` is only read).
    """
    if amount > allowed:
        return False
    table = selectors.order_count_table(shop_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS c (period, orders) VALUES (%s, %s) "
            "ON CONFLICT (period) DO UPDATE SET orders = c.orders + EXCLUDED.orders "
            "WHERE c.orders + EXCLUDED.orders <= %s",
            [period_of(), amount, allowed],
        )
        return cursor.rowcount == 1


def usage_record(*, metric: Metric, amount: int = 1, shop_id: int | None = None) -> None:
    """
    Count `amount` more orders this month whatever the limit: for orders the shop
    accepted within it and that are paid later (a manual order marked paid; the
    money has arrived, so refusing to record it would help nobody).
    """
    if metric != Metric.ORDERS:
        raise ValueError(f"only orders are recorded past the limit, not {metric}")
    if amount < 0:
        raise ValueError("amount must not be negative")
    shop_id = shop_id if shop_id is not None else selectors.current_shop_id()
    _period_orders_add(shop_id, amount, UNLIMITED)


# Bigger than any count: a conditional add with this bound always fits.
UNLIMITED = 2**62


def usage_release(*, metric: Metric, amount: int = 1, shop_id: int | None = None) -> None:
    """
    Count `amount` fewer of `metric` (a product or image deleted; an order whose
    payment failed or expired gives its slot of this month back); never below zero.
    """
    if metric not in COLUMNS and metric != Metric.ORDERS:
        raise ValueError(f"{metric} is not a running total")
    if amount <= 0:
        return
    shop_id = shop_id if shop_id is not None else selectors.current_shop_id()
    if metric == Metric.ORDERS:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {selectors.order_count_table(shop_id)} SET orders = GREATEST(orders - %s, 0) "
                "WHERE period = %s",
                [amount, period_of()],
            )
        return
    column = COLUMNS[metric]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE public.billing_shopusage SET {column} = GREATEST({column} - %s, 0), updated_at = now() "
            f"WHERE shop_id = %s",
            [amount, shop_id],
        )


def usage_recount(*, shop_id: int, products: int, storage_bytes: int) -> ShopUsage:
    """Set the running totals to counts taken from the shop's own tables (repairs drift)."""
    usage, _ = ShopUsage.objects.update_or_create(
        shop_id=shop_id, defaults={"products": products, "storage_bytes": storage_bytes}
    )
    return usage


def staff_seat_take(*, shop: Shop, role: str) -> None:
    """Refuse a new membership beyond the plan's staff seats (a `tenants.hooks.on_membership_adding` hook)."""
    usage_take(metric=Metric.STAFF_SEATS, shop_id=shop.pk)


# Shops whose counts one statement reads.
COLLECT_CHUNK = 500


def order_counts_collect(*, period: dt.date | None = None) -> int:
    """
    Copy every shop's order count of `period` (default: this one) from its
    schema into `UsagePeriod`, for billing's views across shops; return how
    many shops had orders. One statement reads COLLECT_CHUNK shops' counts.
    """
    period = period or period_of()
    schemas = shop_schemas_with_table(OrderCount._meta.db_table)
    quote = connection.ops.quote_name
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(schemas), COLLECT_CHUNK):
            chunk = schemas[start : start + COLLECT_CHUNK]
            cursor.execute(
                " UNION ALL ".join(
                    f"SELECT %s::text, orders FROM {quote(name)}.{quote(OrderCount._meta.db_table)} "
                    "WHERE period = %s"
                    for name in chunk
                ),
                [value for name in chunk for value in (name, period)],
            )
            counts.update(cursor.fetchall())
    shops = dict(Shop.objects.filter(schema_name__in=list(counts)).values_list("schema_name", "pk"))
    for schema, orders in counts.items():
        if schema in shops:
            UsagePeriod.objects.update_or_create(
                shop_id=shops[schema], period=period, defaults={"orders": orders}
            )
    return len(counts)
