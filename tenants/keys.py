"""
The one place that names per-shop things outside PostgreSQL.

Every Redis key (cache, carts, rate-limit counters, idempotency) starts with the
current shop's schema, and every object-storage key lives under
`tenants/{schema}/`, so one shop's data can never be read under another's name.
"""

import redis
from django.conf import settings

from tenants.schemas import current_schema

_redis: redis.Redis | None = None


def redis_client() -> redis.Redis:
    """The process's one Redis client (cache, carts, health checks); short timeouts, lazy connection."""
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    return _redis


def redis_key(*parts: object, schema: str | None = None) -> str:
    """Return a Redis key for the current (or given) shop: `{schema}:part:part`."""
    return ":".join([schema or current_schema(), *(str(part) for part in parts)])


def storage_key(*parts: object, schema: str | None = None) -> str:
    """Return an object-storage key for the current (or given) shop: `tenants/{schema}/...`."""
    return "/".join(["tenants", schema or current_schema(), *(str(part).strip("/") for part in parts)])


def cache_key(key: str, key_prefix: str, version: int) -> str:
    """Build Django cache keys as `{schema}:{prefix}:{version}:{key}` (CACHES KEY_FUNCTION)."""
    return redis_key(key_prefix, version, key)
