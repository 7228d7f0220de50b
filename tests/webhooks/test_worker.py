"""
Webhooks through a real Celery worker (in a thread, on the test Redis) with
committed data: the event's commit queues its dispatch, the worker makes the
delivery, POSTs it, and retries it after a 500 with a countdown, in the shop's
schema throughout.
"""

from __future__ import annotations

import json
import threading

import pytest
from django.db import transaction

from tenants.audit.services import Actor
from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import event_record
from tenants.schemas import use_public, use_shop
from tenants.webhooks import services
from tenants.webhooks.models import WebhookDelivery
from tenants.webhooks.tasks import webhook_deliveries_due
from tests.conftest import ShopContext
from tests.webhooks.helpers import Receiver, independent_verify


@pytest.mark.django_db
def test_beat_sweeps_due_webhooks_every_minute(settings) -> None:
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "webhooks.deliveries_due")
    assert entry["schedule"] == 60.0
    assert webhook_deliveries_due.delay().get() == 0  # nothing due (eager here, from the public schema)


def test_a_real_worker_delivers_and_retries_in_the_shops_schema(
    test_database, committed_shop: ShopContext, django_db_blocker, settings, worker
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_RETRY_DELAYS = [1, 1]  # the retry comes back as a countdown task a couple of seconds on
    with django_db_blocker.unblock(), Receiver(statuses=[500]).running() as receiver:
        try:
            use_shop(committed_shop.shop)
            endpoint = services.endpoint_create(
                actor=Actor.system(), url=receiver.url, events=["inventory.low"]
            )
            with transaction.atomic():
                event = event_record(type="inventory.low", payload={"variant_id": 42, "stock": 1})

            waited = threading.Event()
            for _ in range(150):
                delivery = WebhookDelivery.objects.filter(event_id=event.pk).first()
                if delivery is not None and delivery.status == WebhookDelivery.Status.SUCCEEDED:
                    break
                waited.wait(0.1)
            assert delivery is not None and delivery.status == WebhookDelivery.Status.SUCCEEDED, delivery
            assert [a.response_status for a in delivery.attempt_log.all()] == [500, 200]
            first, second = receiver.received
            assert first.headers["Storefleet-Delivery"] == second.headers["Storefleet-Delivery"]
            assert second.headers["Storefleet-Delivery"] == str(delivery.pk)
            for request in (first, second):
                assert request.headers["Storefleet-Event"] == "inventory.low"
                assert json.loads(request.body)["data"] == {"variant_id": 42, "stock": 1}
                signature = request.headers["Storefleet-Signature"]
                assert independent_verify(endpoint.secret, signature, request.body)
            assert OutboxEvent.objects.get(pk=event.pk).dispatched_at is not None  # the shop's outbox
        finally:
            use_public()
