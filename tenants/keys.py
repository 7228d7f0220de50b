"""
The one place that names per-shop things outside PostgreSQL.

Every Redis key (cache, carts, rate-limit counters, idempotency) starts with the
current shop's schema, and every object-storage key lives under
`tenants/{schema}/`, so one shop's data can never be read under another's name.
"""

import functools
import hashlib
import time
from collections.abc import Sequence
from typing import Any

import redis
from django.conf import settings
from redis.exceptions import NoScriptError

from tenants.schemas import current_schema

_redis: redis.Redis | None = None
# After Redis failed to answer in time, this process's calls fail at once for this long
# instead of each waiting out the 1 s timeout: with Redis frozen, a checkout paid that second
# for the rate limiter and again for the outbox wake-up; every caller already does without.
UNREACHABLE_BACKOFF_SECONDS = 2.0
_unreachable_until = 0.0


class _FailFast:
    """Mixed into the URL's connection class: give up at once while Redis was just found unreachable."""

    def connect(self) -> None:
        if time.monotonic() < _unreachable_until:
            raise redis.ConnectionError("Redis did not answer moments ago; not waiting for it again yet.")
        try:
            super().connect()  # type: ignore[misc]
        except (redis.ConnectionError, redis.TimeoutError):
            _unreachable_note()
            raise

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().read_response(*args, **kwargs)  # type: ignore[misc]
        except (redis.ConnectionError, redis.TimeoutError):
            _unreachable_note()
            raise


def _unreachable_note() -> None:
    global _unreachable_until
    _unreachable_until = time.monotonic() + UNREACHABLE_BACKOFF_SECONDS


def redis_client() -> redis.Redis:
    """
    The process's one Redis client (cache, rate limits, outbox flags, health
    checks): lazy connection, 1 s timeouts, and no waiting again for a Redis
    that just failed to answer (UNREACHABLE_BACKOFF_SECONDS).
    """
    global _redis
    if _redis is None:
        pool = redis.ConnectionPool.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        # Whatever class the URL asks for (TCP, TLS, Unix socket), failing fast.
        pool.connection_class = type(
            "FailFast" + pool.connection_class.__name__, (_FailFast, pool.connection_class), {}
        )
        _redis = redis.Redis(connection_pool=pool)
    return _redis


def redis_client_reset() -> None:
    """Forget the client (a new one is made from REDIS_URL on next use) and any note of an outage."""
    global _redis, _unreachable_until
    _redis, _unreachable_until = None, 0.0


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

# Runs several scripts as one: each part's own text becomes a function of its own KEYS
# and ARGV, cut from the combined ones by the counts at the head of ARGV (keys, args
# per part). A part that returns nothing answers nil, as it would alone.
_COMBINED = """
local parts = {%s}
local results, key_at, arg_at = {}, 0, 2 * #parts
for i, part in ipairs(parts) do
  local part_keys, part_args = {}, {}
  for j = 1, tonumber(ARGV[2 * i - 1]) do part_keys[j] = KEYS[key_at + j] end
  for j = 1, tonumber(ARGV[2 * i]) do part_args[j] = ARGV[arg_at + j] end
  key_at, arg_at = key_at + #part_keys, arg_at + #part_args
  local result = part(part_keys, part_args)
  if result == nil then result = false end
  results[i] = result
end
return results
"""


@functools.lru_cache(maxsize=64)
def _combined(scripts: tuple[RedisScript, ...]) -> RedisScript:
    parts = ",\n".join(f"function(KEYS, ARGV)\n{script.text}\nend" for script in scripts)
    return RedisScript(_COMBINED % parts)


def redis_scripts_run(calls: Sequence[ScriptCall]) -> list[Any]:
    """
    Run Lua scripts (script, keys, args) in one round trip and return their
    results in order. Several scripts run as one combined script, one EVALSHA,
    atomically and in order: on the storefront's hottest path (the limiter's
    count and the cache lookup) that took less CPU, in this process and in
    Redis, than a pipeline of two EVALSHAs (README, benchmark section). A script the server
    does not know yet (new, or after a restart) did not run: it is loaded and
    sent once more, so no effect happens twice. (redis-py's own Script objects
    ask SCRIPT EXISTS first: a second round trip on every call.)
    """
    if len(calls) == 1:
        script, keys, args = calls[0]
    else:
        script = _combined(tuple(call[0] for call in calls))
        keys = [key for call in calls for key in call[1]]
        counts = [count for call in calls for count in (len(call[1]), len(call[2]))]
        args = [*counts, *(arg for call in calls for arg in call[2])]
    client = redis_client()
    try:
        result = client.evalsha(script.sha, len(keys), *keys, *args)
    except NoScriptError:
        client.script_load(script.text)
        result = client.evalsha(script.sha, len(keys), *keys, *args)
    return [result] if len(calls) == 1 else list(result)


def host_cache_channel() -> str:
    """The Redis channel on which processes tell each other to forget cached host → shop lookups."""
    return str(settings.HOST_CACHE_CHANNEL)
