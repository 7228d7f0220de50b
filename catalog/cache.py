"""
The storefront cache, per shop. A cached answer is stored under two version
numbers: the shop's, and its tag's (what the answer shows: the lists, one
product's page, the category tree). A change bumps the tags it touches (or the
shop's, for everything), so invalidation is an INCR or two, and no answer of an
older version is ever taken for the current one. While one request renders an
invalidated entry, the others get the last body stored, marked stale. Bodies
live in Redis, and each process keeps copies of those it served last, which
Redis vouches for on every lookup (see _Copies). One round trip a lookup.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import redis
from django.conf import settings
from django.db import transaction

from tenants.keys import RedisScript, ScriptCall, redis_client, redis_key, redis_scripts_run
from tenants.models import Shop
from tenants.request_trip import RequestTrip
from tenants.schemas import current_schema


def _version_key(schema: str | None = None) -> str:
    return redis_key(settings.STOREFRONT_CACHE_NAMESPACE, "version", schema=schema)


# A shop's version starts, when its key is missing (first use, eviction, a Redis
# restart), from Redis' clock in microseconds rather than from 1, so a version
# number is never handed out twice: a body held under an old number (in a
# process's copy, below) can never pass for a newer catalog's.
_VERSION_START = """
local now = redis.call('TIME')
return now[1] * 1000000 + now[2]
"""


def _tag_key(tag: str, schema: str | None = None) -> str:
    return redis_key(settings.STOREFRONT_CACHE_NAMESPACE, "tag", tag, schema=schema)


# Tags: the part of the catalog an answer shows (LISTS: every list and search page;
# product:<slug>: one product's page; CATEGORIES: the tree). An answer's version is the
# shop's version and its tag's, so a change invalidates the pages that show it and
# leaves the rest warm; the shop's version still invalidates everything at once.
LISTS = "lists"
CATEGORIES = "categories"


def product_tag(slug: str) -> str:
    return f"product:{slug}"


# Each key is bumped (INCR), or started from the clock when missing. ARGV[1] the
# milliseconds a tag's version lives ('' for none: the shop's lives for good); tags
# of pages nobody asks for (any slug can be asked for) must not pile up. A tag that
# expired restarts from the clock, far above any number it reached before.
_BUMP = RedisScript(
    f"""
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('INCR', key)
    if ARGV[1] ~= '' then redis.call('PEXPIRE', key, ARGV[1]) end
  else
    local start = string.format('%d', (function() {_VERSION_START} end)())
    if ARGV[1] ~= '' then redis.call('SET', key, start, 'PX', ARGV[1]) else redis.call('SET', key, start) end
  end
end
"""
)


def _tag_ttl_ms() -> int:
    # Outlives every body stored under it (a body lives STOREFRONT_CACHE_SECONDS).
    return 2 * settings.STOREFRONT_CACHE_SECONDS * 1000


def storefront_cache_bump(schema: str | None = None) -> None:
    """Invalidate every cached storefront response of the current (or given) shop."""
    # Cached entries expire by TTL anyway; a Redis outage must not fail the write.
    with contextlib.suppress(redis.RedisError):
        redis_scripts_run([(_BUMP, [_version_key(schema)], [""])])


def storefront_cache_bump_tags(tags: Iterable[str], schema: str | None = None) -> None:
    """Invalidate the cached storefront responses of these tags (see LISTS, product_tag)."""
    keys = [_tag_key(tag, schema) for tag in sorted(set(tags))]
    if not keys:
        return
    with contextlib.suppress(redis.RedisError):
        redis_scripts_run([(_BUMP, keys, [_tag_ttl_ms()])])


def storefront_pages_changed_on_commit(slugs: Iterable[str]) -> None:
    """
    Once the current transaction commits, invalidate every list and search page and
    the pages of the products with these slugs; other products' pages stay warm. The
    shop is taken now: when the commit's callbacks run, the connection may be on
    another schema.
    """
    tags = [LISTS, *(product_tag(slug) for slug in set(slugs))]
    schema = current_schema()
    transaction.on_commit(lambda: storefront_cache_bump_tags(tags, schema=schema))


def storefront_cache_shop_updated(*, shop: Shop, changed: Sequence[str]) -> None:
    """
    A `tenants.hooks.on_shop_updated` hook: a new currency changes every price in the
    shop's cached bodies, so they go once the change commits. (The currency is also
    part of each key, so a process still holding the shop's old settings never
    stores an old-currency body where a current one is looked for.)
    """
    if "currency" in changed:
        schema = shop.schema_name
        transaction.on_commit(lambda: storefront_cache_bump(schema))


# KEYS[1] the shop's version, KEYS[2] the answer's tag's version, KEYS[3] the answer's
# key less its suffix. ARGV[1] the version of the copy this process holds ('' for none),
# ARGV[2] a tag version's milliseconds to live, ARGV[3] a refresh's milliseconds.
# Returns {version} when that copy is current; {version, body, its ms to live} when
# Redis has the current body; {version, false, 0} when this request must render it
# ({version, false, 1}: and it holds the entry's refresh); {version, last body, or
# false when the caller holds that one, its ms to live, last version} while another
# request refreshes the entry: the last body stored is served meanwhile
# (stale-while-revalidate, one refresh per entry at a time).
_LOOKUP = RedisScript(
    f"""
local function current(key, ttl)
  local v = redis.call('GET', key)
  if not v then
    v = string.format('%d', (function() {_VERSION_START} end)())
    if ttl then redis.call('SET', key, v, 'PX', ttl) else redis.call('SET', key, v) end
  end
  return v
end
local version = current(KEYS[1], nil) .. '.' .. current(KEYS[2], ARGV[2])
if version == ARGV[1] then return {{version}} end
local key = KEYS[3] .. 'v' .. version
local body = redis.call('GET', key)
if body then return {{version, body, redis.call('PTTL', key)}} end
local last = redis.call('GET', KEYS[3] .. 'last')
if not last then return {{version, false, 0}} end
if redis.call('SET', KEYS[3] .. 'refresh', '1', 'NX', 'PX', ARGV[3]) then return {{version, false, 1}} end
if last == ARGV[1] then return {{version, false, 0, last}} end
local stale = KEYS[3] .. 'v' .. last
body = redis.call('GET', stale)
if not body then return {{version, false, 0}} end
return {{version, body, redis.call('PTTL', stale), last}}
"""
)

# How long one request may take to render an entry before another may try.
REFRESH_MS = 5000


class _Copies:
    """
    This process's copies of cached bodies, the most recently used first, up to
    STOREFRONT_LOCAL_CACHE_BYTES. A copy is served only when Redis says, in the
    request's one round trip, that it is still the shop's current version, and
    never after the Redis entry it was taken from expires. The round trip stays,
    but the body (a product list's is the largest) no longer crosses it, which
    saves CPU here and in Redis (README, benchmark section).
    """

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[str, bytes, float, str]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[str, bytes, str] | None:
        """(version, body, ETag) of the copy held for `key`, if any."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[2] <= time.monotonic():
                self._drop(key)
                return None
            self._entries.move_to_end(key, last=False)
            return entry[0], entry[1], entry[3]

    def put(self, key: str, version: str, body: bytes, ttl_ms: int, etag: str = "") -> None:
        budget = settings.STOREFRONT_LOCAL_CACHE_BYTES
        if ttl_ms <= 0 or len(body) > budget // 8:
            return
        etag = etag or body_etag(body)
        # A little short of Redis' own expiry, so this copy never outlives the entry.
        expires = time.monotonic() + ttl_ms / 1000 - 0.05
        with self._lock:
            self._drop(key)
            self._entries[key] = (version, body, expires, etag)
            self._entries.move_to_end(key, last=False)
            self._bytes += len(body)
            while self._bytes > budget:
                self._drop(next(reversed(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry[1])


copies = _Copies()


def body_etag(body: bytes) -> str:
    """A strong ETag: equal bodies, equal tags (the body's hash; a copy keeps its tag)."""
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def _response_key(request_key: str) -> str:
    return redis_key(settings.STOREFRONT_CACHE_NAMESPACE, request_key, "")


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """What the lookup found: the version to store under, and a body (current, or stale) if any."""

    version: str
    body: bytes | None = None
    etag: str = ""
    stale: bool = False
    refreshing: bool = False  # this request renders the entry, while others get the last body


def storefront_cache_get(request_key: str, *, tag: str, trip: RequestTrip | None = None) -> CachedAnswer:
    """
    Look a request key up (under its tag) in one round trip: the request's trip
    to Redis if given, with whatever has boarded it (its rate limit's count).
    """
    key = _response_key(request_key)
    held = copies.get(key)
    lookup: ScriptCall = (
        _LOOKUP,
        [_version_key(), _tag_key(tag), key],
        [held[0] if held else "", _tag_ttl_ms(), REFRESH_MS],
    )
    results = (trip or RequestTrip()).make([lookup])
    if results is None:
        return CachedAnswer("")
    answer = results[-1]
    version = answer[0].decode()
    if len(answer) == 1:  # the copy this process holds is current
        return CachedAnswer(version, held[1], held[2]) if held is not None else CachedAnswer(version)
    body, ttl_ms = answer[1], int(answer[2])
    stale = len(answer) == 4
    if body is None:
        if stale and held is not None:  # the last body is the copy this process holds
            return CachedAnswer(version, held[1], held[2], stale=True)
        return CachedAnswer(version, refreshing=not stale and ttl_ms == 1)
    etag = body_etag(body)
    copies.put(key, answer[3].decode() if stale else version, body, ttl_ms, etag)
    return CachedAnswer(version, body, etag, stale=stale)


def request_cache_key(path: str, query: str, *, currency: str) -> str:
    """
    The cache key of a storefront GET: its path, the canonical query string of the
    parameters its view uses (already escaped, see storefront_cacheable) and the
    shop's currency, which every price in the body is written in. The path is
    escaped too, so no path, query and currency can run into another's.
    """
    return hashlib.sha1(f"{quote(path)}?{query}#{currency}".encode()).hexdigest()


def storefront_cache_forget(request_key: str) -> None:
    """
    The entry's refresh found nothing to store (the product is gone, or hidden):
    drop its last body, so nobody is served it meanwhile, and end the refresh.
    """
    key = _response_key(request_key)
    with contextlib.suppress(redis.RedisError):
        redis_client().delete(f"{key}last", f"{key}refresh")


def storefront_cache_set(request_key: str, version: str, body: bytes, etag: str) -> None:
    """Store the body rendered for `version`, mark it the last one, and end the refresh."""
    if not version:
        return
    key = _response_key(request_key)
    seconds = settings.STOREFRONT_CACHE_SECONDS
    with contextlib.suppress(redis.RedisError):
        pipe = redis_client().pipeline(transaction=False)
        pipe.set(f"{key}v{version}", body, ex=seconds)
        pipe.set(f"{key}last", version, ex=seconds)
        pipe.delete(f"{key}refresh")
        pipe.execute()
        copies.put(key, version, body, seconds * 1000, etag)
