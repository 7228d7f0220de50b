"""
Redis killed, and Redis frozen, under running workers: the workers live through
it (kombu 5.x could die for good restoring its unacknowledged messages after a
reconnect), and what was committed meanwhile is delivered within seconds of
Redis' return, each e-mail and webhook once.
"""

from __future__ import annotations

import time

import pytest

from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext
from tests.faults.conftest import Beat, RedisServer, SmtpSink, Workers, report, scaled, wait_for
from tests.faults.support import SHOPPER, Shopper, all_delivered, delivery_state, endpoint_add, outcome
from tests.webhooks.helpers import Receiver


@pytest.mark.django_db
def test_the_suite_has_a_test_database() -> None:
    """pytest-django creates the test database only for a session with a django_db test."""


def _fulfil(api, shop: ShopContext, number: int) -> int:
    return AdminClient(api, shop).post(f"orders/{number}/fulfill", {}).status_code


def test_workers_live_through_a_redis_restart_and_catch_up(
    workers: Workers,
    beat: Beat,
    private_redis: RedisServer,
    smtp_sink: SmtpSink,
    committed_shop: ShopContext,
    django_db_blocker,
    api,
) -> None:
    shop = committed_shop
    down_for = scaled(5, 20)
    with django_db_blocker.unblock(), Receiver(delay=3).running() as receiver:
        endpoint_add(shop, receiver, events=("order.created", "order.fulfilled"))
        shopper = Shopper(api, shop)
        shopper.stock()
        workers.start_both()
        before = [shopper.order() for _ in range(3)]
        # Webhook attempts are in flight (the receiver takes 3 s) when Redis goes.
        wait_for(lambda: receiver.in_flight > 0, "a webhook attempt in flight", logs=workers.logs)
        private_redis.kill()
        # While Redis is away the Admin API still works: these events wait in the outbox.
        assert [_fulfil(api, shop, number) for number in before] == [200, 200, 200]
        time.sleep(down_for)
        private_redis.start()
        back = time.monotonic()
        receiver.release.set()
        after = [shopper.order() for _ in range(2)]
        took = wait_for(
            lambda: all_delivered(shop),
            "everything delivered after Redis came back",
            90,
            lambda: delivery_state(shop) + workers.logs(),
        )
        time.sleep(2)
        assert workers.alive("mail") and workers.alive("hooks"), workers.logs()
        assert "restore_unacked" not in workers.log("mail") + workers.log("hooks")

        result = outcome(shop, smtp_sink, receiver)
        assert result.confirmations == result.notices == {n: 1 for n in before + after}
        shipped = [mail for mail in smtp_sink.to(SHOPPER) if "has shipped" in mail.subject]
        assert len(shipped) == len(before)
        fulfilled_posts = [r for r in receiver.received if b'"order.fulfilled"' in r.body]
        assert len({r.headers["Storefleet-Delivery"] for r in fulfilled_posts}) == len(before)
        created = {
            r.headers["Storefleet-Delivery"] for r in receiver.received if b'"order.created"' in r.body
        }
        assert len(created) == len(before + after)
        report(
            "Redis killed and restarted",
            down_seconds=down_for,
            caught_up_after_s=time.monotonic() - back,
            waited_s=took,
            posts=len(receiver.received),
            distinct_deliveries=len(created) + len(fulfilled_posts),
        )


def test_workers_live_through_a_frozen_redis(
    workers: Workers,
    beat: Beat,
    private_redis: RedisServer,
    smtp_sink: SmtpSink,
    committed_shop: ShopContext,
    django_db_blocker,
    api,
) -> None:
    shop = committed_shop
    frozen_for = scaled(4, 15)
    with django_db_blocker.unblock(), Receiver().running() as receiver:
        endpoint_add(shop, receiver)
        shopper = Shopper(api, shop)
        shopper.stock()
        workers.start_both()
        numbers = [shopper.order() for _ in range(2)]
        private_redis.freeze()
        time.sleep(frozen_for)
        private_redis.thaw()
        thawed = time.monotonic()
        numbers += [shopper.order() for _ in range(2)]
        wait_for(
            lambda: all_delivered(shop),
            "everything delivered after Redis thawed",
            60,
            lambda: delivery_state(shop) + workers.logs(),
        )
        caught_up = time.monotonic() - thawed
        time.sleep(2)
        assert workers.alive("mail") and workers.alive("hooks"), workers.logs()
        result = outcome(shop, smtp_sink, receiver)
        result.assert_exactly_once()
        report(
            "Redis frozen (SIGSTOP)",
            frozen_seconds=frozen_for,
            caught_up_after_s=caught_up,
            **result.figures(),
        )


def test_restoring_unacked_messages_after_the_connection_let_go_does_not_kill_the_worker(
    private_redis: RedisServer,
) -> None:
    """The crash seen when Redis was killed for 20 s, reproduced where it happens (kombu's QoS)."""
    from kombu import Connection

    for transport, survives in (("redis", False), ("config.broker:RedisTransport", True)):
        connection = Connection(private_redis.url, transport=transport)
        channel = connection.channel()
        channel.qos.append(_Delivered(), "tag-1")  # a message taken and not acknowledged
        # What the consumer's reconnect leaves behind: pools dropped, the connection settings released.
        channel._disconnect_pools()
        channel.connection.client = None
        if survives:
            channel.qos.restore_unacked_once()
        else:
            with pytest.raises(AttributeError, match="hostname"):
                channel.qos.restore_unacked_once()
        channel.qos._delivered.restored = True  # nothing more for kombu's finaliser to do


class _Delivered:
    delivery_info = {"exchange": "", "routing_key": "faults-probe"}
    properties = {"delivery_tag": "tag-1"}
    _raw = {"body": "", "properties": {"delivery_tag": "tag-1"}}

    def serializable(self) -> dict:
        return {}
