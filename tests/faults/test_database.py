"""
PostgreSQL sessions terminated under the workers: a mail server or a webhook
receiver that has the message while the worker's session dies before it has
written that down must not get it a second time, and orders placed while the
workers' sessions keep dying still get every e-mail and webhook exactly once.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from orders.models import SentEmail
from tenants.mail import email_message_id
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tenants.webhooks.models import WebhookDelivery
from tests.conftest import ShopContext
from tests.faults.conftest import (
    APP_NAME_PREFIX,
    Beat,
    SmtpSink,
    Workers,
    backends_terminate,
    report,
    scaled,
    wait_for,
)
from tests.faults.support import (
    SHOPPER,
    Shopper,
    all_delivered,
    delivery_state,
    endpoint_add,
    leases_lapse,
    outcome,
)
from tests.webhooks.helpers import Receiver


@pytest.mark.django_db
def test_the_suite_has_a_test_database() -> None:
    """pytest-django creates the test database only for a session with a django_db test."""


def test_a_session_killed_between_the_send_and_its_record_sends_nothing_twice(
    workers: Workers, beat: Beat, smtp_sink: SmtpSink, committed_shop: ShopContext, django_db_blocker, api
) -> None:
    shop = committed_shop
    with django_db_blocker.unblock(), Receiver(delay=60).running() as receiver:
        endpoint_add(shop, receiver)
        shopper = Shopper(api, shop)
        shopper.stock()
        smtp_sink.stall_for = SHOPPER
        workers.start_both()
        number = shopper.order()

        # The mail server has the confirmation and holds its 250; the worker's session dies meanwhile.
        wait_for(smtp_sink.stalled.is_set, "the confirmation to reach the mail server", logs=workers.logs)
        assert backends_terminate(f"{APP_NAME_PREFIX}-mail") >= 1
        smtp_sink.release.set()
        # The receiver has the POST and holds its 200; the webhook worker's session dies meanwhile.
        wait_for(lambda: receiver.received, "the webhook to reach the receiver", logs=workers.logs)
        assert backends_terminate(f"{APP_NAME_PREFIX}-hooks") >= 1
        receiver.release.set()

        wait_for(lambda: all_delivered(shop), "every event dispatched and delivery made", logs=workers.logs)
        # Whatever was left unrecorded would now go again: leases lapse, beat's relay and sweep run.
        leases_lapse(shop, timezone.now())
        time.sleep(4)

        assert [mail.to for mail in smtp_sink.received].count(SHOPPER) == 1, smtp_sink.received
        assert len(receiver.received) == 1, workers.logs()
        use_shop(shop.shop)  # its outbox is in its schema
        created = OutboxEvent.objects.get(schema_name=shop.shop.schema_name, type="order.created")
        (confirmation,) = smtp_sink.to(SHOPPER)
        assert confirmation.message_id == email_message_id(
            event_id=created.pk, kind=SentEmail.Kind.ORDER_CONFIRMATION, recipient=SHOPPER
        )
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.attempts == 1
        assert receiver.received[0].headers["Storefleet-Delivery"] == str(delivery.pk)
        assert SentEmail.objects.filter(recipient=SHOPPER).count() == 1
        assert f"#{number}" in confirmation.subject
        use_public()


def test_orders_placed_while_worker_sessions_keep_dying_get_everything_exactly_once(
    workers: Workers, beat: Beat, smtp_sink: SmtpSink, committed_shop: ShopContext, django_db_blocker, api
) -> None:
    shop = committed_shop
    orders = scaled(8, 60)
    with django_db_blocker.unblock(), Receiver().running() as receiver:
        endpoint_add(shop, receiver)
        shopper = Shopper(api, shop)
        shopper.stock()
        workers.start_both()
        killing = threading.Event()
        killed = [0]

        def kill_sessions() -> None:
            try:
                while not killing.wait(0.3):
                    killed[0] += backends_terminate()
            finally:
                connection.close()

        killer = threading.Thread(target=kill_sessions, daemon=True)
        killer.start()
        try:
            for _ in range(orders):
                shopper.order()
                time.sleep(0.1)
        finally:
            killing.set()
            killer.join(5)
        recovered = wait_for(
            lambda: all_delivered(shop),
            "every order's e-mails and webhooks",
            60,
            lambda: delivery_state(shop),
        )
        time.sleep(2)  # anything sent twice would arrive now
        result = outcome(shop, smtp_sink, receiver)
        result.assert_exactly_once()
        report(
            "worker sessions terminated every 0.3 s",
            sessions_killed=killed[0],
            recovered_after_s=recovered,
            beat_errors=beat.errors,
            **result.figures(),
        )
