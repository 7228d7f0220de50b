"""The counted quantities that plan limits cap, and how a refusal names them."""

from __future__ import annotations

import enum

from billing.models import Plan


class Metric(enum.StrEnum):
    """A counted quantity and the plan limit that caps it."""

    PRODUCTS = "max_products"
    ORDERS = "max_orders_per_month"
    STAFF_SEATS = "max_staff_seats"
    STORAGE_BYTES = "max_storage_bytes"


_NOUNS = {
    Metric.PRODUCTS: "products",
    Metric.ORDERS: "orders a month",
    Metric.STAFF_SEATS: "staff seats",
    Metric.STORAGE_BYTES: "bytes of image storage",
}
# ShopUsage columns behind the running totals (orders are counted per period).
COLUMNS = {Metric.PRODUCTS: "products", Metric.STORAGE_BYTES: "storage_bytes"}


def limit_message(plan: Plan, metric: Metric) -> str:
    """`"free allows 100 products"`."""
    allowed = getattr(plan, metric.value)
    text = f"{plan.code} allows {allowed:,} {_NOUNS[metric]}".replace(",", "\u2009")
    return text if metric != Metric.STORAGE_BYTES else f"{text} ({_human_bytes(allowed)})"


def _human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if size == int(size) else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"  # pragma: no cover
