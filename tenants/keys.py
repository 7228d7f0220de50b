"""
The one place that names per-shop things outside PostgreSQL.

Every Redis key (cache, carts, rate-limit counters, idempotency) starts with the
current shop's schema, and every object-storage key lives under
`tenants/{schema}/`, so one shop's data can never be read under another's name.
"""

import hashlib
from collections.abc import Sequence
from typing import Any

import redis
from django.conf import settings
from redis.exceptions import NoScriptError

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


ScriptArg = str | int | float | bytes


class RedisScript:
    """A Lua script, sent by its SHA1 (its text only the first time a Redis server sees it)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()


ScriptCall = tuple[RedisScript, Sequence[str], Sequence[ScriptArg]]


def redis_scripts_run(calls: Sequence[ScriptCall]) -> list[Any]:
    """
    Run Lua scripts (script, keys, args) in one round trip, a pipeline of
    EVALSHA, and return their results in order. Scripts the server does not know
    yet are loaded and the batch run again (once per server restart).
    (redis-py's own pipelined scripts ask SCRIPT EXISTS first: a second round trip.)
    """
    client = redis_client()
    for _attempt in range(2):
        with client.pipeline(transaction=False) as pipe:
            for script, keys, args in calls:
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            results = pipe.execute(raise_on_error=False)
        if not any(isinstance(result, NoScriptError) for result in results):
            break
        for script, _keys, _args in calls:
            client.script_load(script.text)
    for result in results:
        if isinstance(result, Exception):
            raise result
    return list(results)


def host_cache_channel() -> str:
    """The Redis channel on which processes tell each other to forget cached host → shop lookups."""
    return str(settings.HOST_CACHE_CHANNEL)


def api_calls_key(period: str, schema: str | None = None) -> str:
    """The counter of a shop's Admin API calls in a billing period (`YYYY-MM`), for usage metering."""
    return redis_key(settings.USAGE_NAMESPACE, "api-calls", period, schema=schema)
