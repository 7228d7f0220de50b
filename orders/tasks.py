"""Order background work. Tasks carry their shop's schema (config/celery.py) and call a service."""

import datetime as dt

from celery import shared_task

from orders import reports


@shared_task(name="orders.tasks.sales_aggregates_refresh", ignore_result=True)
def sales_aggregates_refresh(days: int = reports.RECENT_DAYS, all_shops: bool = False) -> int:
    """
    From the public schema (beat): queue a refresh of the last `days` days of the
    sales report for each shop with sales since then (every shop with
    `all_shops`, e.g. to backfill); return how many shops.
    """
    return reports.sales_refresh_fan_out(days=days, all_shops=all_shops)


@shared_task(name="orders.tasks.sales_aggregates_refresh_shop", ignore_result=True, acks_late=True)
def sales_aggregates_refresh_shop(days: list[str] | None = None) -> int:
    """Recompute one shop's sales aggregates of `days` (ISO dates; default today and yesterday)."""
    return reports.sales_recent_days_refresh(days=[dt.date.fromisoformat(day) for day in days or []])
