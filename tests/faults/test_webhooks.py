"""
One shop's webhook endpoint hangs: its attempts wait on their own queue, at most
WEBHOOK_ENDPOINT_CONCURRENCY at once, and the circuit breaker pauses it; other
shops' webhooks and every shop's e-mails go on as before. And the sweep that
catches up after lost messages drains every shop's due deliveries at once,
oldest first, interleaved across shops.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from config.celery import app as celery_app
from tenants.schemas import use_public, use_shop
from tenants.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tenants.webhooks.services import deliveries_due_queue
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext
from tests.faults.conftest import Beat, RedisServer, SmtpSink, Workers, percentile, report, scaled, wait_for
from tests.faults.support import Shopper, endpoint_add, outcome
from tests.webhooks.helpers import Receiver


@pytest.mark.django_db
def test_the_suite_has_a_test_database() -> None:
    """pytest-django creates the test database only for a session with a django_db test."""


def test_a_hanging_endpoint_holds_up_no_other_shop_and_no_email(
    workers: Workers,
    beat: Beat,
    smtp_sink: SmtpSink,
    committed_shop: ShopContext,
    other_shop: ShopContext,
    django_db_blocker,
    api,
) -> None:
    troubled, bystander = committed_shop, other_shop
    orders = scaled(10, 60)
    with (
        django_db_blocker.unblock(),
        Receiver(delay=600).running() as hanging,
        Receiver().running() as healthy,
    ):
        hanging_endpoint = endpoint_add(troubled, hanging)
        endpoint_add(bystander, healthy)
        shoppers = [Shopper(api, troubled), Shopper(api, bystander)]
        for shopper in shoppers:
            shopper.stock()
        # As deployed: one e-mail worker, webhook workers with twice the per-endpoint cap.
        workers.start("mail", queues=[settings.CELERY_TASK_DEFAULT_QUEUE])
        workers.start(
            "hooks", queues=[settings.WEBHOOK_QUEUE], concurrency=2 * settings.WEBHOOK_ENDPOINT_CONCURRENCY
        )
        workers.wait_ready("mail", "hooks")
        started = time.monotonic()
        for _ in range(orders):
            for shopper in shoppers:
                shopper.order()
            time.sleep(0.3)
        wait_for(
            lambda: len(healthy.received) >= orders and len(smtp_sink.received) >= 4 * orders,
            "the bystander's webhooks and both shops' e-mails",
            60,
            workers.logs,
        )
        elapsed = time.monotonic() - started
        time.sleep(1)

        calm = outcome(bystander, smtp_sink, healthy)
        calm.assert_exactly_once()
        troubled_mail = outcome(troubled, smtp_sink, hanging)
        assert troubled_mail.confirmations == troubled_mail.notices == {n: 1 for n in troubled_mail.orders}
        figures = {
            "bystander_webhook_p95_s": percentile(calm.webhook_seconds, 0.95),
            "bystander_email_p95_s": percentile(calm.email_seconds, 0.95),
            "troubled_shop_email_p95_s": percentile(troubled_mail.email_seconds, 0.95),
        }
        assert figures["bystander_webhook_p95_s"] < 2.0, figures
        assert figures["bystander_email_p95_s"] < 2.0, figures
        assert figures["troubled_shop_email_p95_s"] < 2.0, figures

        # The hanging endpoint never had more than its cap of attempts in flight (the receiver
        # itself holds on to connections the workers gave up on), and the breaker paused it.
        use_shop(troubled.shop)
        spans = [  # an attempt still in flight ends now
            (
                a.started_at,
                a.started_at + timedelta(milliseconds=a.duration_ms) if a.duration_ms else timezone.now(),
            )
            for a in WebhookAttempt.objects.filter(delivery__endpoint_id=hanging_endpoint.pk)
        ]
        use_public()
        most_at_once = max(sum(1 for s, e in spans if s <= start <= e) for start, _ in spans)
        assert most_at_once <= settings.WEBHOOK_ENDPOINT_CONCURRENCY, spans
        # Five timeouts in a row, at most two at a time, five seconds each: paused within ~15 s.
        wait_for(
            lambda: _paused(troubled, hanging_endpoint.pk), "the breaker to pause the hanging endpoint", 60
        )
        paused_after = time.monotonic() - started
        shown = AdminClient(api, troubled).get(f"webhooks/{hanging_endpoint.pk}")
        assert shown.status_code == 200, shown.content
        assert shown.json()["paused_until"] is not None, shown.json()
        assert shown.json()["consecutive_failures"] >= settings.WEBHOOK_BREAKER_FAILURES
        use_shop(troubled.shop)
        notes = list(
            WebhookAttempt.objects.filter(error__contains="paused until").values_list("error", flat=True)
        )
        assert len(notes) == 1 and "Timed out after" in notes[0], notes
        posts_while_paused = len(hanging.received)
        use_public()
        report(
            "one shop's endpoint hangs",
            orders_per_shop=orders,
            load_seconds=elapsed,
            posts_to_hanging_endpoint=posts_while_paused,
            most_attempts_at_once_there=most_at_once,
            paused_after_s=paused_after,
            **figures,
        )


def test_the_sweep_drains_every_due_delivery_oldest_first_and_fairly(
    private_redis: RedisServer, shop_a: ShopContext, shop_b: ShopContext, settings
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    celery_app.conf.task_always_eager = False  # the queue itself is what is checked
    try:
        _sweep_drains(private_redis, shop_a, shop_b)
    finally:
        celery_app.conf.task_always_eager = True


def _sweep_drains(private_redis: RedisServer, shop_a: ShopContext, shop_b: ShopContext) -> None:
    backlog, few = scaled(250, 2500), 5
    now = timezone.now()
    for ctx, count in ((shop_a, backlog), (shop_b, few)):
        use_shop(ctx.shop)
        endpoint = endpoint_add(ctx, Receiver())
        use_shop(ctx.shop)
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                endpoint=endpoint,
                event_id=f"00000000-0000-4000-8000-{index:012d}",
                event_type="order.created",
                payload={"n": index},
                next_attempt_at=now - timedelta(seconds=count - index),  # index 0 is the oldest
            )
            for index in range(count)
        )
    use_public()

    started = time.monotonic()
    queued = deliveries_due_queue()
    took = time.monotonic() - started
    assert queued == backlog + few

    client = redis.Redis.from_url(private_redis.url)
    # Celery's Redis transport pushes on the left and workers pop on the right: reversed, the order served.
    messages = [json.loads(raw) for raw in reversed(client.lrange(settings.WEBHOOK_QUEUE, 0, -1))]
    served = [(m["headers"]["_schema_name"], json.loads(_body(m))[0][0]) for m in messages]
    assert len(served) == backlog + few
    # Shop B's few are served among the first of the round, not after A's backlog.
    b_positions = [i for i, (schema, _) in enumerate(served) if schema == shop_b.shop.schema_name]
    assert max(b_positions) < 2 * few, b_positions
    # Each shop's deliveries oldest first.
    for ctx in (shop_a, shop_b):
        use_shop(ctx.shop)
        oldest_first = [
            str(pk)
            for pk in WebhookDelivery.objects.order_by("created_at", "payload__n").values_list(
                "pk", flat=True
            )
        ]
        ids = [delivery for schema, delivery in served if schema == ctx.shop.schema_name]
        by_age = {str(pk): n for pk, n in WebhookDelivery.objects.values_list("pk", "payload__n")}
        assert [by_age[i] for i in ids] == sorted(by_age[i] for i in ids), ctx.shop.schema_name
        assert set(ids) == set(oldest_first)
    use_public()
    # A second sweep finds nothing left to queue: what was queued is marked as such.
    assert deliveries_due_queue() == 0
    report("sweep of a backlog", deliveries=queued, seconds=took)


def _paused(ctx: ShopContext, endpoint_id: int) -> bool:
    use_shop(ctx.shop)
    try:
        return WebhookEndpoint.objects.filter(pk=endpoint_id, paused_until__isnull=False).exists()
    finally:
        use_public()


def _body(message: dict) -> str:
    import base64

    return base64.b64decode(message["body"]).decode()
