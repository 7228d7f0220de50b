"""
Admin API calls per shop and billing period, counted in Redis.

The rate limiter (billing.ratelimits) counts each Admin API request within its
budget into this key in its own Lua script, in the request's one Redis round
trip; `api_call_record()` counts from elsewhere; usage and invoices read
`api_calls_in_period()`. The counter key is
built with the one per-shop key function, `tenants.keys.redis_key`:

    {schema}:{BILLING_REDIS_NAMESPACE}:api-calls:{YYYY-MM}

(`BILLING_REDIS_NAMESPACE` is `billing`, with the test run's id under tests), an
integer that lives until `API_CALLS_KEY_DAYS` after it was last counted, long
enough for the period's invoice to copy it into `UsagePeriod.api_calls`.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings

from billing.periods import period_label, period_of
from tenants.keys import redis_client, redis_key

logger = logging.getLogger(__name__)

API_CALLS_KEY_DAYS = 70


def api_calls_key(*, schema: str, period: dt.date) -> str:
    """The Redis key counting a shop's Admin API calls in `period`."""
    return redis_key(settings.BILLING_REDIS_NAMESPACE, "api-calls", period_label(period), schema=schema)


def api_call_record(*, schema: str, count: int = 1, moment: dt.datetime | None = None) -> None:
    """Count `count` Admin API calls of a shop now; a Redis outage loses the count, never the request."""
    key = api_calls_key(schema=schema, period=period_of(moment))
    try:
        pipeline = redis_client().pipeline(transaction=False)
        pipeline.incrby(key, count)
        pipeline.expire(key, API_CALLS_KEY_DAYS * 86400)
        pipeline.execute()
    except Exception:
        logger.warning("Could not count an API call for %s", schema, exc_info=True)


def api_calls_in_period(*, schema: str, period: dt.date) -> int:
    """The Admin API calls a shop made in `period`; raises redis errors (callers decide)."""
    value = redis_client().get(api_calls_key(schema=schema, period=period))
    return int(value) if value is not None else 0
