"""Order background work. Tasks carry their shop's schema (config/celery.py) and call a service."""

import datetime as dt

from celery import shared_task
from django.db import DatabaseError

from orders import carts, expiry, exports, reports, services
from tenants.models import Shop


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


@shared_task(name="orders.tasks.carts_expired_delete", ignore_result=True)
def carts_expired_delete() -> int:
    """From the public schema (beat, daily): queue each shop's sweep of expired carts; return how many."""
    schemas = list(Shop.objects.order_by("schema_name").values_list("schema_name", flat=True))
    for schema_name in schemas:
        carts_expired_delete_shop.apply_async(headers={"_schema_name": schema_name})
    return len(schemas)


@shared_task(name="orders.tasks.carts_expired_delete_shop", ignore_result=True, acks_late=True)
def carts_expired_delete_shop() -> int:
    """Delete one shop's carts unused for 7 days (a read of its small cart table and a DELETE)."""
    return carts.carts_expired_delete()


@shared_task(name="orders.tasks.unpaid_orders_expire", ignore_result=True)
def unpaid_orders_expire(now: str | None = None) -> int:
    """
    From the public schema (beat, every minute): queue an expiry sweep for each
    shop with unpaid orders due by `now` (ISO; default the current time).
    """
    return expiry.unpaid_orders_expire_fan_out(now=dt.datetime.fromisoformat(now) if now else None)


@shared_task(
    name="orders.tasks.unpaid_orders_expire_shop",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=30,
    max_retries=10,
)
def unpaid_orders_expire_shop(now: str | None = None) -> int:
    """
    Finish or release the shop's card payments left open by a stopped checkout,
    have the providers pay back the refunds they did not answer, then cancel the
    unpaid orders due by `now` (ISO) and give their stock back; return how many
    orders changed.
    """
    moment = dt.datetime.fromisoformat(now) if now else None
    recovered = services.payments_recover_due(now=moment)
    services.refunds_send()
    return recovered + services.orders_expire_due(now=moment)


@shared_task(name="orders.order_export_run", ignore_result=True, acks_late=True)
def order_export_run(export_id: str) -> None:
    """Write the orders an export asked for as a CSV file to object storage (idempotent once done)."""
    exports.order_export_run(export_id=export_id)
