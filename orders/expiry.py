"""
Unpaid orders give their stock back when their time is up, across every shop;
card payments left open by a checkout that stopped between its steps are looked
up at their provider and finished or released on the way.

An order placed unpaid carries `expires_at` (services._unpaid_lifetime: the shop's
manual expiry, or the card authorisation's), and so does its `order.created`
event in the shop's outbox, as fixed-width UTC text that an index covers
(`outbox_order_expiry_idx`). Beat runs `orders.tasks.unpaid_orders_expire` every
minute in the public schema: one range probe of that index in each shop's
outbox (many shops to a statement) names the shops with orders falling due
since the last run, and a second one the shops whose card orders reach
PAYMENT_RECOVERY_AFTER_SECONDS;
each gets one sweep in its own schema (`services.payments_recover_due`, then
`services.orders_expire_due`).

The run remembers in Redis up to which moment it has looked, and the next run
starts from there (less a margin for clocks that differ between servers), so a
pause of beat or a lost Redis key delays an expiry, never skips it. A sweep that
finds nothing due (a repeat, or an order paid meanwhile) changes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from orders.models import PaymentSettings
from orders.services import expiry_text
from tenants.models import Shop
from tenants.outbox.events import EventType
from tenants.outbox.services import outbox_shops_matching

SWEPT_UNTIL_KEY = "orders-expiry-swept-until"
CLOCK_MARGIN = dt.timedelta(minutes=10)
# With nothing remembered, look back over the longest time an order can stay unpaid.
FIRST_LOOKBACK = dt.timedelta(hours=PaymentSettings.MANUAL_EXPIRY_HOURS_MAX + 24)


def shops_with_orders_due(*, since: dt.datetime, until: dt.datetime) -> list[str]:
    """The schemas of the shops with unpaid orders that fell due in (since, until]."""
    due = outbox_shops_matching(
        where="type = %s AND (payload ->> 'expires_at') > %s AND (payload ->> 'expires_at') <= %s",
        params=[EventType.ORDER_CREATED.value, expiry_text(since), expiry_text(until)],
    )
    shops = Shop.objects.filter(schema_name__in=set(due)).exclude(status=Shop.Status.DELETING)
    return list(shops.order_by("schema_name").values_list("schema_name", flat=True))


def unpaid_orders_expire_fan_out(*, now: dt.datetime | None = None) -> int:
    """From the public schema (beat): queue a sweep of each shop with orders due; return how many."""
    from orders.tasks import unpaid_orders_expire_shop

    now = now or timezone.now()
    remembered = cache.get(SWEPT_UNTIL_KEY)
    since = dt.datetime.fromisoformat(remembered) if remembered else now - FIRST_LOOKBACK
    since = min(since, now) - CLOCK_MARGIN
    schemas = shops_with_orders_due(since=since, until=now)
    # A card order is looked up at its provider well before it expires, if its payment is still
    # open PAYMENT_RECOVERY_AFTER_SECONDS after checkout: its `expires_at` is then still ahead by
    # the difference, so the same index finds those shops in a window shifted by it.
    ahead = dt.timedelta(minutes=settings.ORDER_AUTHORIZATION_EXPIRY_MINUTES) - dt.timedelta(
        seconds=settings.PAYMENT_RECOVERY_AFTER_SECONDS
    )
    if ahead > dt.timedelta(0):
        recovering = shops_with_orders_due(since=since + ahead, until=now + ahead)
        schemas = sorted(set(schemas) | set(recovering))
    for schema_name in schemas:
        unpaid_orders_expire_shop.apply_async(
            kwargs={"now": now.isoformat()}, headers={"_schema_name": schema_name}
        )
    cache.set(SWEPT_UNTIL_KEY, now.isoformat(), timeout=None)
    return len(schemas)
