"""
The admin dashboard's read: today's figures, counted live from the orders (not
from the sales aggregates, which a worker refreshes a few seconds after each
change), and the to-dos (orders to fulfil, low stock, failing webhooks), each
one COUNT, with the moment they were read so the screen can say how fresh they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone

from catalog.models import Variant
from orders.models import DailySales, Order
from tenants.webhooks.models import WebhookDelivery

# Webhook deliveries that failed within this long are a to-do; older dead ones are history.
FAILED_WEBHOOKS_WINDOW = dt.timedelta(days=7)


@dataclass(frozen=True)
class Dashboard:
    as_of: dt.datetime
    day: dt.date
    orders_placed: int
    orders_paid: int
    revenue: Decimal
    unfulfilled_orders: int
    low_stock_variants: int
    failed_webhooks: int
    sales_report_as_of: dt.datetime | None


def dashboard_read(*, currency: str, now: dt.datetime | None = None) -> Dashboard:
    """Today's (UTC) figures in `currency` (orders in another currency are not added in) and the to-dos."""
    now = now or timezone.now()
    day = now.astimezone(dt.UTC).date()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    today = Order.objects.aggregate(
        placed=Count("id", filter=Q(placed_at__gte=start)),
        paid=Count("id", filter=Q(paid_at__gte=start, currency=currency)),
        revenue=Sum(F("total") - F("refunded_amount"), filter=Q(paid_at__gte=start, currency=currency)),
        unfulfilled=Count("id", filter=Q(status=Order.Status.PAID)),
    )
    return Dashboard(
        as_of=now,
        day=day,
        orders_placed=today["placed"],
        orders_paid=today["paid"],
        revenue=today["revenue"] or Decimal(0),
        unfulfilled_orders=today["unfulfilled"],
        low_stock_variants=Variant.objects.filter(stock__lte=F("low_stock_threshold")).count(),
        failed_webhooks=WebhookDelivery.objects.filter(
            status__in=[WebhookDelivery.Status.FAILED, WebhookDelivery.Status.DEAD],
            updated_at__gte=now - FAILED_WEBHOOKS_WINDOW,
        ).count(),
        sales_report_as_of=DailySales.objects.aggregate(last=Max("updated_at"))["last"],
    )
