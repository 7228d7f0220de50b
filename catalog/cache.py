"""
The storefront cache, per shop. Cached responses are keyed by a per-shop
version number that every catalog change bumps, so invalidation is one INCR
and a stale response is never served after the bump.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from typing import Any

import redis
from django.conf import settings

from tenants.keys import redis_client, redis_key


def _version_key(schema: str | None = None) -> str:
    return redis_key(settings.STOREFRONT_CACHE_NAMESPACE, "version", schema=schema)


def storefront_cache_bump(schema: str | None = None) -> None:
    """Invalidate every cached storefront response of the current (or given) shop."""
    # Cached entries expire by TTL anyway; a Redis outage must not fail the write.
    with contextlib.suppress(redis.RedisError):
        redis_client().incr(_version_key(schema))


# One round trip: read the shop's version, then the response stored under it.
# (register_script sends the script's SHA, not its text, on every call.)
_LOOKUP = """
local version = redis.call('GET', KEYS[1]) or '0'
return {version, redis.call('GET', KEYS[2] .. version)}
"""
_lookup_script: Any = None


def storefront_cache_get(request_key: str) -> tuple[str, bytes | None]:
    """Return (current version, cached body or None) for a request key."""
    global _lookup_script
    try:
        if _lookup_script is None:
            _lookup_script = redis_client().register_script(_LOOKUP)
        version, body = _lookup_script(
            keys=[_version_key(), redis_key(settings.STOREFRONT_CACHE_NAMESPACE, request_key, "v")]
        )
    except redis.RedisError:
        return "", None
    return version.decode() if isinstance(version, bytes) else str(version), body


def request_cache_key(path: str, query: Iterable[tuple[str, Any]]) -> str:
    """The cache key of a storefront GET: its path and its sorted query."""
    canonical = "&".join(f"{name}={value}" for name, value in sorted(query))
    return hashlib.sha1(f"{path}?{canonical}".encode()).hexdigest()


def storefront_cache_set(request_key: str, version: str, body: bytes) -> None:
    if not version:
        return
    with contextlib.suppress(redis.RedisError):
        redis_client().set(
            redis_key(settings.STOREFRONT_CACHE_NAMESPACE, request_key, "v") + version,
            body,
            ex=settings.STOREFRONT_CACHE_SECONDS,
        )
