"""
The sales report: daily aggregates kept current from the orders, and the reads
behind `GET /api/admin/v1/reports/sales`.

A day is a UTC calendar day, and money counts on the day it moved, as the
merchant's payouts see it (and as Shopify's sales reports count returns):

- orders:       the orders paid that day (a manual order counts when it is marked
                paid; pending orders, and orders cancelled before payment, never count);
- revenue:      what those orders came to, less the refunds made that day, whichever
                day their order was paid (cancelling a paid order refunds it in full,
                so it counts as a refund on the day it is cancelled);
- discounts, tax, shipping: what the discounts of those orders took off, and the tax
                and shipping they collected (revenue is already net of discounts);
- items_sold and each product's quantity and revenue: the lines of the orders paid
                that day (refunds are amounts, not lines, so they do not reduce them);
- gross sales:  what the day's orders came to, before refunds (revenue + refunds);
- average order value: gross sales divided by the orders, so both sit on the same
                side of refunds (and a refund of an old order does not distort today's).

Every figure is kept per currency, the one each order was placed in: a shop that
changed its currency reports its old orders in theirs, never summed with the new.

So a day's figures settle once the day is over: only today and yesterday (for
events dispatched late across midnight) ever need recomputing. They are
recomputed whole from the order tables, so every refresh is idempotent:

- an order event that moves money (paid, refunded, cancelled) asks for a refresh
  of its shop's recent days (orders/handlers.py), at most one per shop every
  REFRESH_DELAY seconds;
- beat runs `orders.tasks.sales_aggregates_refresh` in the public schema, which
  fans out one task per shop that has such events since yesterday.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F, Max, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from orders.models import DailyProductSales, DailySales, Order, OrderLine, Payment
from tenants.models import Shop
from tenants.outbox.events import EventType
from tenants.outbox.services import outbox_shops_matching
from tenants.schemas import current_schema

UTC = dt.UTC
# The events after which a shop's recent days are recomputed: the ones that move money.
MONEY_EVENTS = (EventType.ORDER_PAID, EventType.ORDER_REFUNDED, EventType.ORDER_CANCELLED)
# An order event's refresh waits this long, so a busy shop's events share one refresh.
REFRESH_DELAY = 5
# The pending-refresh marker outlives a lost task message by no more than this.
REFRESH_PENDING_SECONDS = 60
REFRESH_PENDING_KEY = "sales-refresh-pending"
RECENT_DAYS = 2  # today and yesterday
TOP_PRODUCTS = 10
ZERO = Decimal(0)


# --- Keeping the aggregates current ----------------------------------------------------


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=UTC)


def recent_days(*, now: dt.datetime | None = None, days: int = RECENT_DAYS) -> list[dt.date]:
    """The last `days` UTC days up to today, oldest first."""
    today = (now or timezone.now()).astimezone(UTC).date()
    return [today - dt.timedelta(days=back) for back in range(days - 1, -1, -1)]


@dataclass
class _Day:
    orders: int = 0
    gross: Decimal = ZERO
    refunds: Decimal = ZERO
    discounts: Decimal = ZERO
    tax: Decimal = ZERO
    shipping: Decimal = ZERO
    items_sold: int = 0
    products: dict[int, dict[str, Any]] = field(default_factory=dict)


def sales_days_refresh(*, first: dt.date, last: dt.date) -> int:
    """
    Recompute the current shop's DailySales and DailyProductSales rows of the days
    `first`..`last` (inclusive) from its orders; return how many (day, currency)
    rows had sales.
    """
    start, end = day_start(first), day_start(last) + dt.timedelta(days=1)
    by_day: dict[tuple[dt.date, str], _Day] = defaultdict(_Day)
    with transaction.atomic():
        # One refresh of a shop at a time, so an older computation never overwrites a newer one.
        with connection.cursor() as cursor:
            lock = f"sales-refresh:{current_schema()}"
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [lock])
        paid = Order.objects.filter(paid_at__gte=start, paid_at__lt=end)
        for row in (
            paid.annotate(day=TruncDate("paid_at", tzinfo=UTC))
            .values("day", "currency")
            .annotate(
                orders=Count("id"),
                gross=Sum("total"),
                discounts=Sum("discount"),
                tax=Sum("tax"),
                shipping=Sum("shipping"),
            )
            .order_by()
        ):
            day = by_day[row["day"], row["currency"]]
            day.orders, day.gross = row["orders"], row["gross"]
            day.discounts, day.tax, day.shipping = row["discounts"], row["tax"], row["shipping"]
        for row in (
            Payment.objects.filter(kind=Payment.Kind.REFUND, created_at__gte=start, created_at__lt=end)
            .annotate(day=TruncDate("created_at", tzinfo=UTC), currency=F("order__currency"))
            .values("day", "currency")
            .annotate(amount=Sum("amount"))
            .order_by()
        ):
            by_day[row["day"], row["currency"]].refunds = row["amount"]
        for row in (
            OrderLine.objects.filter(order__paid_at__gte=start, order__paid_at__lt=end)
            .annotate(day=TruncDate("order__paid_at", tzinfo=UTC), currency=F("order__currency"))
            .values("day", "currency", "product_id")
            .annotate(quantity=Sum("quantity"), revenue=Sum("line_total"), title=Max("title"))
            .order_by()
        ):
            day = by_day[row["day"], row["currency"]]
            day.items_sold += row["quantity"]
            if row["product_id"] is not None:  # lines from before products were recorded
                day.products[row["product_id"]] = row

        in_range = {"date__gte": first, "date__lte": last}
        stale_days = DailySales.objects.filter(**in_range)
        for date, currency in by_day:
            stale_days = stale_days.exclude(date=date, currency=currency)
        stale_days.delete()
        DailySales.objects.bulk_create(
            [
                DailySales(
                    date=date,
                    currency=currency,
                    orders=day.orders,
                    revenue=day.gross - day.refunds,
                    refunds=day.refunds,
                    discounts=day.discounts,
                    tax=day.tax,
                    shipping=day.shipping,
                    items_sold=day.items_sold,
                )
                for (date, currency), day in sorted(by_day.items())
            ],
            update_conflicts=True,
            unique_fields=["date", "currency"],
            update_fields=[
                "orders",
                "revenue",
                "refunds",
                "discounts",
                "tax",
                "shipping",
                "items_sold",
                "updated_at",
            ],
        )
        sold = [
            DailyProductSales(
                date=date,
                currency=currency,
                product_id=product_id,
                title=row["title"],
                quantity=row["quantity"],
                revenue=row["revenue"],
            )
            for (date, currency), day in sorted(by_day.items())
            for product_id, row in sorted(day.products.items())
        ]
        stale = DailyProductSales.objects.filter(**in_range)
        for (date, currency), day in by_day.items():
            stale = stale.exclude(date=date, currency=currency, product_id__in=list(day.products))
        stale.delete()
        DailyProductSales.objects.bulk_create(
            sold,
            update_conflicts=True,
            unique_fields=["date", "currency", "product_id"],
            update_fields=["title", "quantity", "revenue"],
        )
    return len(by_day)


def sales_recent_days_refresh(*, days: Iterable[dt.date] | None = None) -> int:
    """Recompute the current shop's aggregates of `days` (default: today and yesterday)."""
    days = sorted(days or recent_days())
    # A refresh that starts now sees every change committed so far: later events ask again.
    cache.delete(REFRESH_PENDING_KEY)
    return sales_days_refresh(first=days[0], last=days[-1])


def sales_refresh_soon() -> bool:
    """
    Ask for a refresh of the current shop's recent days in REFRESH_DELAY seconds,
    unless one is already waiting; return whether this call queued it.
    """
    from orders.tasks import sales_aggregates_refresh_shop

    if not cache.add(REFRESH_PENDING_KEY, 1, timeout=REFRESH_PENDING_SECONDS):
        return False
    sales_aggregates_refresh_shop.apply_async(
        countdown=REFRESH_DELAY, headers={"_schema_name": current_schema()}
    )
    return True


def shops_with_recent_sales(*, since: dt.datetime) -> list[str]:
    """
    The schemas of the shops with money-moving order events since `since`: one
    index probe of each shop's outbox (schema_name, created_at).
    """
    return outbox_shops_matching(
        where="created_at >= %s AND type = ANY(%s)",
        params=[since, list(MONEY_EVENTS)],
    )


def sales_refresh_fan_out(*, days: int = RECENT_DAYS, all_shops: bool = False) -> int:
    """
    From the public schema (beat): queue one refresh of the last `days` days per
    shop with recent sales (or per shop, to backfill); return how many were queued.
    """
    from orders.tasks import sales_aggregates_refresh_shop

    window = recent_days(days=days)
    schemas = (
        list(Shop.objects.order_by("schema_name").values_list("schema_name", flat=True))
        if all_shops
        else shops_with_recent_sales(since=day_start(window[0]))
    )
    for schema_name in schemas:
        sales_aggregates_refresh_shop.apply_async(
            kwargs={"days": [day.isoformat() for day in window]}, headers={"_schema_name": schema_name}
        )
    return len(schemas)


# --- Reading the report --------------------------------------------------------------------


@dataclass(frozen=True)
class SalesFigures:
    """A day's (or a period's) figures; amounts in the report's currency."""

    orders: int = 0
    revenue: Decimal = ZERO
    refunds: Decimal = ZERO
    items_sold: int = 0
    discounts: Decimal = ZERO
    tax: Decimal = ZERO
    shipping: Decimal = ZERO

    @property
    def gross_sales(self) -> Decimal:
        """What the orders paid came to, before refunds: the sum the average order is taken of."""
        return self.revenue + self.refunds

    @property
    def average_order_value(self) -> Decimal:
        """What an order came to on average, before refunds (gross sales over orders)."""
        return self.gross_sales / self.orders if self.orders else ZERO

    def __add__(self, other: SalesFigures) -> SalesFigures:
        return SalesFigures(
            orders=self.orders + other.orders,
            revenue=self.revenue + other.revenue,
            refunds=self.refunds + other.refunds,
            items_sold=self.items_sold + other.items_sold,
            discounts=self.discounts + other.discounts,
            tax=self.tax + other.tax,
            shipping=self.shipping + other.shipping,
        )


@dataclass(frozen=True, kw_only=True)
class SalesDay(SalesFigures):
    date: dt.date


@dataclass(frozen=True)
class ProductSales:
    product_id: int
    title: str
    quantity: int
    revenue: Decimal


@dataclass(frozen=True)
class SalesReport:
    date_from: dt.date
    date_to: dt.date
    days: list[SalesDay]
    top_products: list[ProductSales]

    @property
    def totals(self) -> SalesFigures:
        return sum(self.days, SalesFigures())


def sales_report(
    *, date_from: dt.date, date_to: dt.date, currency: str, top: int = TOP_PRODUCTS
) -> SalesReport:
    """
    The current shop's sales in `currency` (of the orders placed in it) of
    `date_from`..`date_to` (inclusive), day by day, and its top products.
    """
    in_range = {"date__gte": date_from, "date__lte": date_to, "currency": currency}
    stored = {row.date: row for row in DailySales.objects.filter(**in_range)}
    days = []
    for offset in range((date_to - date_from).days + 1):
        date = date_from + dt.timedelta(days=offset)
        row = stored.get(date)
        days.append(
            SalesDay(date=date)
            if row is None
            else SalesDay(
                date=date,
                orders=row.orders,
                revenue=row.revenue,
                refunds=row.refunds,
                items_sold=row.items_sold,
                discounts=row.discounts,
                tax=row.tax,
                shipping=row.shipping,
            )
        )
    best = list(
        DailyProductSales.objects.filter(**in_range)
        .values("product_id")
        .annotate(quantity=Sum("quantity"), revenue=Sum("revenue"))
        .order_by("-revenue", "-quantity", "product_id")[:top]
    )
    # Each product under the title it last sold under in the period.
    titles = dict(
        DailyProductSales.objects.filter(**in_range, product_id__in=[row["product_id"] for row in best])
        .order_by("product_id", "-date")
        .distinct("product_id")
        .values_list("product_id", "title")
    )
    top_products = [
        ProductSales(
            product_id=row["product_id"],
            title=titles.get(row["product_id"], ""),
            quantity=row["quantity"],
            revenue=row["revenue"],
        )
        for row in best
    ]
    return SalesReport(date_from=date_from, date_to=date_to, days=days, top_products=top_products)
