"""
Price history: each price change of a variant is a `PriceChange` row and a
`variant.price_changed` event of the outbox; the worker materialises the day of
each event (UTC) as a `VariantPriceDay` (lowest, highest, closing price), and
the Admin API reads the days of a product's variants over a range. Writes record
their changes with catalog.changes.price_changes_record.

Only days with a change have a row. A day without one keeps the previous day's
close, so the read answers each variant's `opening` price (its close before the
range) beside its days, and a chart draws steps. No beat task fills the days in
between: rows grow with changes, not with days times variants (a catalog whose
prices sit still for two years would otherwise hold 730 rows per variant).

A day is recomputed from its changes each time (never incremented), so an event
handled twice or out of order writes the same row; two workers recomputing one
day at once keep the result that saw the newer change (`last_change_id`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import QuerySet

from catalog.models import Variant, VariantPriceDay

# The pairs to recompute: (variant_id, day), given as two arrays or, for the backfill of
# the migration that made the table, every day a change was made.
PAIRS_GIVEN = "SELECT DISTINCT * FROM unnest(%s::bigint[], %s::date[]) AS given(variant_id, day)"
PAIRS_ALL = (
    "SELECT DISTINCT variant_id, (changed_at AT TIME ZONE 'UTC')::date AS day FROM catalog_pricechange"
)

# One statement for any number of days. A day's range is the price it opened with (the
# last change before it) and every price set during it; it closes with the last.
REFRESH_SQL = """
WITH pairs AS ({pairs}),
shop AS (SELECT currency FROM tenants_shop WHERE schema_name = current_schema()),
day_changes AS (
    SELECT p.variant_id, p.day, c.id, c.new_price, c.changed_at
    FROM pairs p
    JOIN catalog_pricechange c ON c.variant_id = p.variant_id
     AND c.changed_at >= (p.day::timestamp AT TIME ZONE 'UTC')
     AND c.changed_at < ((p.day + 1)::timestamp AT TIME ZONE 'UTC')
),
openings AS (
    SELECT p.variant_id, p.day, (
        SELECT c.new_price FROM catalog_pricechange c
        WHERE c.variant_id = p.variant_id AND c.changed_at < (p.day::timestamp AT TIME ZONE 'UTC')
        ORDER BY c.changed_at DESC, c.id DESC LIMIT 1
    ) AS price
    FROM pairs p
)
INSERT INTO catalog_variantpriceday (variant_id, day, low, high, close, currency, changes, last_change_id)
SELECT d.variant_id, d.day,
       LEAST(MIN(d.new_price), o.price), GREATEST(MAX(d.new_price), o.price),
       (array_agg(d.new_price ORDER BY d.changed_at DESC, d.id DESC))[1],
       shop.currency, COUNT(*), MAX(d.id)
FROM day_changes d JOIN openings o USING (variant_id, day) CROSS JOIN shop
GROUP BY d.variant_id, d.day, o.price, shop.currency
ON CONFLICT (variant_id, day) DO UPDATE SET
    low = EXCLUDED.low, high = EXCLUDED.high, close = EXCLUDED.close, currency = EXCLUDED.currency,
    changes = EXCLUDED.changes, last_change_id = EXCLUDED.last_change_id
WHERE catalog_variantpriceday.last_change_id <= EXCLUDED.last_change_id
"""

# The longest range one read answers: the two years price history is kept for.
MAX_DAYS = 731


def price_days_refresh(*, days: set[tuple[int, date]]) -> int:
    """Recompute these (variant id, day) rows of the current shop from its price changes; return how many."""
    if not days:
        return 0
    variant_ids, dates = zip(*sorted(days), strict=True)
    with connection.cursor() as cursor:
        cursor.execute(REFRESH_SQL.format(pairs=PAIRS_GIVEN), [list(variant_ids), list(dates)])
        return int(cursor.rowcount)


@dataclass(frozen=True)
class VariantPriceHistory:
    variant: Variant
    opening: VariantPriceDay | None  # the last day with a change before the range
    days: list[VariantPriceDay]


def price_history_read(
    *, variants: QuerySet[Variant], day_from: date, day_to: date
) -> list[VariantPriceHistory]:
    """The days of these variants from `day_from` to `day_to` (both included), with each one's opening day."""
    chosen = list(variants.order_by("position", "id"))
    ids = [variant.pk for variant in chosen]
    days: dict[int, list[VariantPriceDay]] = {pk: [] for pk in ids}
    in_range = VariantPriceDay.objects.filter(variant_id__in=ids, day__gte=day_from, day__lte=day_to)
    for row in in_range.order_by("variant_id", "day"):
        days[row.variant_id].append(row)
    openings = {
        row.variant_id: row
        for row in VariantPriceDay.objects.filter(variant_id__in=ids, day__lt=day_from)
        .order_by("variant_id", "-day")
        .distinct("variant_id")
    }
    return [VariantPriceHistory(variant=v, opening=openings.get(v.pk), days=days[v.pk]) for v in chosen]
