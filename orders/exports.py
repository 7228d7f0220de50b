"""
The order CSV export: one row per order line, the order's own columns on each
row (as Shopify's order export has them), for orders placed between two dates
(UTC, both included). Written by a worker through catalog.bulk.csv_export_write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet

from catalog.bulk import csv_export_write
from catalog.models import CsvExport
from orders.models import Order, OrderLine
from tenants.conventions.money import Money

COLUMNS = (
    "Name",
    "Email",
    "Status",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Shipping Method",
    "Refunded Amount",
    "Created at",
    "Paid at",
    "Fulfilled at",
    "Cancelled at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem variant",
    "Lineitem sku",
    "Lineitem price",
    "Shipping Name",
    "Shipping Street",
    "Shipping City",
    "Shipping Zip",
    "Shipping Province",
    "Shipping Country",
)


def orders_placed_between(filters: dict[str, Any]) -> QuerySet[Order]:
    orders = Order.objects.order_by("id")
    if filters.get("from"):
        orders = orders.filter(placed_at__date__gte=dt.date.fromisoformat(filters["from"]))
    if filters.get("to"):
        orders = orders.filter(placed_at__date__lte=dt.date.fromisoformat(filters["to"]))
    return orders


def _amount(value: Decimal, currency: str) -> Decimal:
    """In the currency's minor unit, as the API shows it ("4.90", not the stored "4.900")."""
    return Money(value, currency).amount


def _when(moment: dt.datetime | None) -> str:
    return moment.isoformat() if moment else ""


def order_rows(orders: QuerySet[Order]) -> Iterable[list[object]]:
    """The rows of the orders, read a thousand at a time with their lines."""
    last = 0
    while True:
        batch = list(
            orders.filter(id__gt=last).prefetch_related(
                Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
            )[:1000]
        )
        if not batch:
            return
        for order in batch:
            address = order.shipping_address if isinstance(order.shipping_address, dict) else {}
            # Automatic promotions have no code; the amount is every discount's together, as on the order.
            codes = ", ".join(applied["code"] for applied in order.discounts or () if applied.get("code"))
            method = (order.shipping_method or {}).get("name", "")
            currency = order.currency
            for line in order.lines.all():
                yield [
                    f"#{order.number}",
                    order.email,
                    order.status,
                    order.currency,
                    _amount(order.subtotal, currency),
                    _amount(order.shipping, currency),
                    _amount(order.tax, currency),
                    _amount(order.total, currency),
                    codes,
                    _amount(order.discount, currency),
                    method,
                    _amount(order.refunded_amount, currency),
                    _when(order.placed_at),
                    _when(order.paid_at),
                    _when(order.fulfilled_at),
                    _when(order.cancelled_at),
                    line.quantity,
                    line.title,
                    line.variant_title,
                    line.sku,
                    _amount(line.unit_price, currency),
                    address.get("name", ""),
                    " ".join(filter(None, [address.get("line1", ""), address.get("line2", "")])),
                    address.get("city", ""),
                    address.get("postal_code", ""),
                    address.get("region", ""),
                    address.get("country", ""),
                ]
        last = batch[-1].pk


def order_export_run(*, export_id: str) -> CsvExport:
    export = CsvExport.objects.get(pk=export_id)
    orders = orders_placed_between(export.filters)
    total = OrderLine.objects.filter(order__in=orders).count()
    return csv_export_write(export_id=export_id, header=COLUMNS, total=total, rows=order_rows(orders))
