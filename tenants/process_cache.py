"""
Small caches kept in each process and forgotten in all of them together.

The request path asks the public schema the same few questions on every
request (which shop this host is, what its plan allows). Their answers change
rarely and each change has one service that makes it, so every process keeps
them for minutes and the service tells all processes to forget: a message on
one Redis channel, applied by a daemon thread per process (started after fork,
on first use). A long-tail shop visited a few times an hour is then answered
from memory, not with a round trip per request.

While that thread is not subscribed (Redis away, or not yet connected), a
message could be missed, so entries are trusted only for `unheard_seconds`
after they were stored; and every (re)subscription starts every cache clean.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

import redis
from django.conf import settings

from tenants.keys import host_cache_channel, redis_client

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Messages are "<cache name> <key>"; this key means every entry of the cache.
ALL = "*"
_SEPARATOR = " "

_caches: dict[str, ProcessCache[object, object]] = {}
_listener_pid: int | None = None
_listener_lock = threading.Lock()
listening = threading.Event()


class ProcessCache(Generic[K, V]):
    """An LRU of answers kept `seconds` (or less, per entry), forgotten in every process by `forget`."""

    def __init__(self, name: str, *, seconds: float, size: int, key_type: type = str) -> None:
        if _SEPARATOR in name:
            raise ValueError(f"A process cache name has no spaces: {name!r}")
        self.name = name
        self.seconds = seconds
        self.size = size
        self._key_type = key_type
        self._entries: OrderedDict[K, tuple[float, float, V]] = OrderedDict()
        self._lock = threading.Lock()
        _caches[name] = self  # type: ignore[assignment]

    def get(self, key: K) -> tuple[bool, V | None]:
        """(True, value) while an answer is kept and trusted, else (False, None)."""
        if _listener_pid != os.getpid():
            listener_start()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False, None
            stored_at, expires_at, value = entry
            trusted = listening.is_set() or now - stored_at < float(settings.PROCESS_CACHE_UNHEARD_SECONDS)
            if now >= expires_at or not trusted:
                del self._entries[key]
                return False, None
            self._entries.move_to_end(key)
            return True, value

    def put(self, key: K, value: V, *, seconds: float | None = None) -> None:
        now = time.monotonic()
        with self._lock:
            self._entries[key] = (now, now + (self.seconds if seconds is None else seconds), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget(self, keys: Iterable[K]) -> None:
        """Forget these keys here at once and in every other process; call on commit."""
        keys = list(keys)
        self.forget_here(keys)
        _broadcast(self.name, [str(key) for key in keys])

    def clear(self) -> None:
        """Forget every entry here at once and in every other process."""
        self.clear_here()
        _broadcast(self.name, [ALL])

    def forget_here(self, keys: Iterable[K]) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def clear_here(self) -> None:
        with self._lock:
            self._entries.clear()

    def _apply(self, key: str) -> None:
        if key == ALL:
            self.clear_here()
            return
        try:
            typed = self._key_type(key)
        except ValueError:
            logger.warning("Ignoring a malformed %s invalidation: %r", self.name, key)
            return
        self.forget_here([typed])


def _broadcast(name: str, keys: list[str]) -> None:
    if not keys:
        return
    try:
        client = redis_client()
        for key in keys:
            client.publish(host_cache_channel(), f"{name}{_SEPARATOR}{key}")
    except redis.RedisError:
        # The other processes stop trusting their entries soon after losing Redis.
        logger.warning("Could not broadcast %s invalidation of %s", name, keys, exc_info=True)


def message_apply(message: str) -> None:
    name, _, key = message.partition(_SEPARATOR)
    cache = _caches.get(name)
    if cache is not None and key:
        cache._apply(key)


def clear_here_all() -> None:
    for cache in _caches.values():
        cache.clear_here()


def listener_start() -> None:
    """Start this process's invalidation listener (once per process; a fork starts its own)."""
    global _listener_pid
    with _listener_lock:
        if _listener_pid == os.getpid():
            return
        _listener_pid = os.getpid()
        listening.clear()
        threading.Thread(target=_listen, name="process-cache-invalidations", daemon=True).start()


def _listen() -> None:
    """Apply invalidations published by any process; resubscribe (and start clean) after an outage."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, health_check_interval=30)
    while True:
        try:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(host_cache_channel())
            # Whatever was published while this process was not listening is lost.
            clear_here_all()
            listening.set()
            for message in pubsub.listen():
                data = message.get("data")
                if isinstance(data, bytes):
                    message_apply(data.decode(errors="replace"))
        except Exception:
            listening.clear()
            logger.warning("Process-cache invalidations unreachable; retrying", exc_info=True)
            time.sleep(1)
