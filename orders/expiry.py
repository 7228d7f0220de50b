"""
Unpaid orders give their stock back when their time is up, across every shop.

An order placed unpaid carries `expires_at` (services._unpaid_lifetime: the shop's
manual expiry, or the card authorisation's), and so does its `order.created`
event in the public outbox, as fixed-width UTC text that an index covers
(`outbox_order_expiry_idx`). Beat runs `orders.tasks.unpaid_orders_expire` every
minute in the public schema: one range scan of that index names the shops with
orders falling due since the last run, whatever the number of shops, and each
gets one sweep (`services.orders_expire_due`) in its own schema.

The run remembers in Redis up to which moment it has looked, and the next run
starts from there (less a margin for clocks that differ between servers), so a
pause of beat or a lost Redis key delays an expiry, never skips it. A sweep that
finds nothing due (a repeat, or an order paid meanwhile) changes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from orders.models import PaymentSettings
from orders.services import expiry_text
from tenants.models import Shop
from tenants.outbox.models import OutboxEvent

SWEPT_UNTIL_KEY = "orders-expiry-swept-until"
CLOCK_MARGIN = dt.timedelta(minutes=10)
# With nothing remembered, look back over the longest time an order can stay unpaid.
FIRST_LOOKBACK = dt.timedelta(hours=PaymentSettings.MANUAL_EXPIRY_HOURS_MAX + 24)


def shops_with_orders_due(*, since: dt.datetime, until: dt.datetime) -> list[str]:
    """The schemas of the shops with unpaid orders that fell due in (since, until]."""
    due = (
        OutboxEvent.objects.alias(expiry=KeyTextTransform("expires_at", "payload"))
        .filter(type="order.created", expiry__gt=expiry_text(since), expiry__lte=expiry_text(until))
        .order_by()
        .values_list("schema_name", flat=True)
        .distinct()
    )
    shops = Shop.objects.filter(schema_name__in=set(due)).exclude(status=Shop.Status.DELETING)
    return list(shops.order_by("schema_name").values_list("schema_name", flat=True))


def unpaid_orders_expire_fan_out(*, now: dt.datetime | None = None) -> int:
    """From the public schema (beat): queue a sweep of each shop with orders due; return how many."""
    from orders.tasks import unpaid_orders_expire_shop

    now = now or timezone.now()
    remembered = cache.get(SWEPT_UNTIL_KEY)
    since = dt.datetime.fromisoformat(remembered) if remembered else now - FIRST_LOOKBACK
    schemas = shops_with_orders_due(since=min(since, now) - CLOCK_MARGIN, until=now)
    for schema_name in schemas:
        unpaid_orders_expire_shop.apply_async(
            kwargs={"now": now.isoformat()}, headers={"_schema_name": schema_name}
        )
    cache.set(SWEPT_UNTIL_KEY, now.isoformat(), timeout=None)
    return len(schemas)
