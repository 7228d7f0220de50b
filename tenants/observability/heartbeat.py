"""
Workers' heartbeats: every consuming worker writes, every WORKER_HEARTBEAT_SECONDS,
the time and the queues it consumes into one Redis sorted set
(`WORKER_HEARTBEAT_KEY`, scored by time). The beat comes from the consumer, which
Celery stops when it loses the broker and starts again when it reconnects, so a
worker that is alive but no longer consuming stops beating. /readyz and the
`storefleet_worker_heartbeat_age_seconds` gauge read it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from celery import bootsteps
from django.conf import settings
from redis.exceptions import RedisError

from tenants.keys import redis_client

logger = logging.getLogger(__name__)

# Beats older than this are dropped from the set (a worker gone for good).
FORGET_AFTER_SECONDS = 3600


def heartbeat_write(*, hostname: str, queues: list[str], now: float | None = None) -> None:
    """Record that `hostname` is consuming `queues` now."""
    now = time.time() if now is None else now
    member = json.dumps({"hostname": hostname, "queues": sorted(queues)}, sort_keys=True)
    key = settings.WORKER_HEARTBEAT_KEY
    with redis_client().pipeline() as pipe:
        pipe.zadd(key, {member: now})
        pipe.zremrangebyscore(key, "-inf", now - FORGET_AFTER_SECONDS)
        pipe.execute()


@dataclass(frozen=True)
class QueueHeartbeat:
    queue: str
    workers: int  # workers that beat within three intervals
    age_seconds: float  # since the newest beat of any worker on the queue


def heartbeats_read(*, now: float | None = None) -> list[QueueHeartbeat]:
    """The freshest beat per queue (the default and webhook queues always listed); raises RedisError."""
    now = time.time() if now is None else now
    fresh_within = 3 * settings.WORKER_HEARTBEAT_SECONDS
    newest: dict[str, float] = {
        settings.CELERY_TASK_DEFAULT_QUEUE: float("-inf"),
        settings.WEBHOOK_QUEUE: float("-inf"),
    }
    alive: dict[str, int] = dict.fromkeys(newest, 0)
    entries: Any = redis_client().zrange(settings.WORKER_HEARTBEAT_KEY, 0, -1, withscores=True)
    for raw, score in entries:
        try:
            queues = json.loads(raw)["queues"]
        except (ValueError, KeyError, TypeError):
            continue
        for queue in queues:
            newest[queue] = max(newest.get(queue, float("-inf")), score)
            alive[queue] = alive.get(queue, 0) + (now - score <= fresh_within)
    return [QueueHeartbeat(queue, alive[queue], max(now - at, 0.0)) for queue, at in sorted(newest.items())]


def heartbeats_summary() -> dict[str, Any]:
    """For /readyz: per queue, live workers and seconds since the last beat ("stale" past three intervals)."""
    try:
        beats = heartbeats_read()
    except RedisError as error:
        return {"status": f"error: {error.__class__.__name__}"}
    queues = {
        beat.queue: {
            "workers": beat.workers,
            "last_beat_seconds_ago": None if beat.age_seconds == float("inf") else round(beat.age_seconds, 1),
        }
        for beat in beats
    }
    stale = [beat.queue for beat in beats if beat.workers == 0]
    return {"status": "stale: " + ", ".join(stale) if stale else "ok", "queues": queues}


class ConsumerHeartbeat(bootsteps.StartStopStep):
    """A consumer bootstep: beats while the worker consumes, stops when the broker connection is lost."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.timer_ref: Any = None

    def start(self, parent: Any) -> None:
        self._beat(parent)
        self.timer_ref = parent.timer.call_repeatedly(
            settings.WORKER_HEARTBEAT_SECONDS, self._beat, (parent,)
        )

    def stop(self, parent: Any) -> None:
        if self.timer_ref is not None:
            self.timer_ref.cancel()
            self.timer_ref = None

    shutdown = stop

    def _beat(self, parent: Any) -> None:
        try:
            queues = [queue.name for queue in parent.task_consumer.queues] if parent.task_consumer else []
            heartbeat_write(hostname=parent.hostname, queues=queues)
        except (RedisError, OSError):
            logger.warning("Could not write the worker heartbeat", exc_info=True)
