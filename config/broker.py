"""
Celery's Redis transport (kombu), with one guard.

After a lost connection, kombu restores the messages a worker had taken but not
acknowledged (`QoS.restore_unacked`). When that runs after the transport has
already let go of its connection settings (`transport.client` is None: the
consumer's connection was closed during the reconnect), building a Redis client
for the restore raises `'NoneType' object has no attribute 'hostname'`, and the
worker stops for good (seen with kombu 5.x, a Redis killed for 20 s). Guarded,
the restore is left for later: the messages stay in Redis' unacked set, from
which kombu's own `restore_visible` puts them back once the visibility timeout
passes, and the outbox relay and the webhook sweep re-queue their work long
before that; the worker reconnects and goes on.
"""

from __future__ import annotations

import logging
from typing import Any

from kombu.transport import redis as kombu_redis

logger = logging.getLogger(__name__)


class GuardedQoS(kombu_redis.QoS):
    def restore_unacked(self, client: Any = None) -> Any:
        if client is None and getattr(self.channel.connection, "client", None) is None:
            delivered: Any = self._delivered
            logger.warning(
                "Broker connection released: leaving %s unacknowledged message(s) to be restored later",
                len(delivered),
            )
            delivered.clear()
            return None
        return super().restore_unacked(client)


class GuardedChannel(kombu_redis.Channel):
    QoS = GuardedQoS


class RedisTransport(kombu_redis.Transport):
    """kombu's Redis transport with GuardedQoS (CELERY_BROKER_TRANSPORT)."""

    Channel = GuardedChannel
