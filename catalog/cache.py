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

from billing.ratelimits import RequestLimit
from tenants.keys import RedisScript, ScriptCall, redis_client, redis_key, redis_scripts_run


def _version_key(schema: str | None = None) -> str:
    return redis_key(settings.STOREFRONT_CACHE_NAMESPACE, "version", schema=schema)


def storefront_cache_bump(schema: str | None = None) -> None:
    """Invalidate every cached storefront response of the current (or given) shop."""
    # Cached entries expire by TTL anyway; a Redis outage must not fail the write.
    with contextlib.suppress(redis.RedisError):
        redis_client().incr(_version_key(schema))


# Read the shop's version, then the response stored under it, in one script.
_LOOKUP = RedisScript(
    """
local version = redis.call('GET', KEYS[1]) or '0'
return {version, redis.call('GET', KEYS[2] .. version)}
"""
)


def storefront_cache_get(request_key: str, *, limit: RequestLimit | None = None) -> tuple[str, bytes | None]:
    """
    Return (current version, cached body or None) for a request key. The
    request's rate limit, if given and not counted yet, is counted in the same
    round trip.
    """
    calls: list[ScriptCall] = [
        (_LOOKUP, [_version_key(), redis_key(settings.STOREFRONT_CACHE_NAMESPACE, request_key, "v")], [])
    ]
    counting = limit is not None and not limit.counted
    if limit is not None and counting:
        calls.insert(0, limit.call())
    try:
        results = redis_scripts_run(calls)
    except redis.RedisError as exc:
        if limit is not None and counting:
            limit.fail_open(exc)
        return "", None
    if limit is not None and counting:
        limit.receive(results[0])
    version, body = results[-1]
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
