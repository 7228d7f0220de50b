"""
Deliveries end to end against a real HTTP receiver on 127.0.0.1: signatures
checked by an independent verifier, retries with backoff, dead letters,
redelivery, at-least-once dispatch without double deliveries, the sweep, the
delivery log, and shop isolation. Celery runs eagerly here; test_worker.py
runs a real worker.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tenants.audit.models import AuditEntry
from tenants.audit.services import Actor
from tenants.outbox import services as outbox
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tenants.webhooks import services, signing
from tenants.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.catalog.helpers import AdminClient, product_body
from tests.conftest import ShopContext, assert_problem
from tests.webhooks.helpers import Receiver, event_emit, independent_verify

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


@pytest.fixture(autouse=True)
def _local_receivers(settings) -> None:
    """The receiver is on 127.0.0.1; retries wait a minute, then four, then sixteen."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_RETRY_DELAYS = [60, 240, 960]
    settings.WEBHOOK_TIMEOUT_SECONDS = 5


@pytest.fixture
def receiver() -> Receiver:
    with Receiver().running() as running:
        yield running


@pytest.fixture
def admin(api, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


def subscribe(admin: AdminClient, url: str, events: list[str] | None = None) -> dict:
    response = admin.post("webhooks", {"url": url, "events": events or ["inventory.low", "product.created"]})
    assert response.status_code == 201, response.content
    return response.json()


def the_delivery(ctx: ShopContext) -> WebhookDelivery:
    use_shop(ctx.shop)
    return WebhookDelivery.objects.get()


def time_passes(ctx: ShopContext) -> None:
    """Make every open delivery of the shop due now (as if its wait were over)."""
    use_shop(ctx.shop)
    WebhookDelivery.objects.filter(next_attempt_at__isnull=False).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def sweep() -> int:
    """What beat does every minute, from the public schema."""
    use_public()
    return services.deliveries_due_queue()


# --- Signed deliveries ---------------------------------------------------------------------


def test_delivery_is_signed_as_spec_section_7_says(
    admin: AdminClient, shop_a: ShopContext, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint = subscribe(admin, receiver.url)
    use_shop(shop_a.shop)
    event = event_emit(django_capture_on_commit_callbacks, "inventory.low", variant_id=7, stock=2)

    (request,) = receiver.received
    assert request.path == "/hooks/storefleet?src=test"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Storefleet-Event"] == "inventory.low"
    delivery = the_delivery(shop_a)
    assert request.headers["Storefleet-Delivery"] == str(delivery.pk)
    uuid.UUID(request.headers["Storefleet-Delivery"])
    body = json.loads(request.body)
    assert body == {
        "id": str(event.pk),
        "type": "inventory.low",
        "created_at": event.created_at.isoformat(),
        "data": {"variant_id": 7, "stock": 2},
    }

    secret, header = endpoint["secret"], request.headers["Storefleet-Signature"]
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert abs(time.time() - timestamp) < 30
    assert independent_verify(secret, header, request.body)
    # Tampered body, tampered signature, another secret, and a replay after five minutes: refused.
    assert not independent_verify(secret, header, request.body.replace(b"7", b"8"))
    assert not independent_verify(secret, header[:-1] + ("0" if header[-1] != "0" else "1"), request.body)
    assert not independent_verify("whsec_other", header, request.body)
    assert not independent_verify(secret, header, request.body, now=timestamp + 301)
    assert independent_verify(secret, header, request.body, now=timestamp + 299)
    # The receivers' helper agrees with the independent verifier.
    assert signing.verify(secret, header, request.body)
    assert not signing.verify(secret, header, request.body + b" ")
    assert not signing.verify(secret, header, request.body, now=timestamp + 301)
    assert not signing.verify(secret, "t=abc,v1=00", request.body)

    assert delivery.status == Status.SUCCEEDED and delivery.attempts == 1 and delivery.next_attempt_at is None
    (attempt,) = delivery.attempt_log.all()
    assert attempt.response_status == 200 and attempt.duration_ms is not None and attempt.error == ""
    assert attempt.response_body == '{"received": true}'


def test_only_active_endpoints_subscribed_to_the_event_get_it(
    admin: AdminClient, shop_a: ShopContext, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    subscribe(admin, receiver.url, ["order.paid"])
    paused = subscribe(admin, receiver.url, ["inventory.low"])
    admin.patch(f"webhooks/{paused['id']}", {"is_active": False})
    use_shop(shop_a.shop)
    event_emit(django_capture_on_commit_callbacks, "inventory.low")
    event_emit(django_capture_on_commit_callbacks, "test.unrelated")
    assert receiver.received == []
    assert WebhookDelivery.objects.count() == 0


def test_a_batch_of_events_makes_one_delivery_per_event_and_subscribed_endpoint(
    admin: AdminClient, shop_a: ShopContext, receiver: Receiver
) -> None:
    both = subscribe(admin, receiver.url, ["inventory.low", "product.created"])
    low_only = subscribe(admin, receiver.url, ["inventory.low"])
    subscribe(admin, receiver.url, ["order.paid"])
    use_shop(shop_a.shop)
    low = outbox.event_record(type="inventory.low", payload={"variant_id": 1})
    created = outbox.event_record(type="product.created", payload={"product_id": 2})
    waiting = services.deliveries_create_for_events(events=[low, created])
    made = set(WebhookDelivery.objects.values_list("event_id", "endpoint_id"))
    assert made == {(low.pk, both["id"]), (low.pk, low_only["id"]), (created.pk, both["id"])}
    assert sorted(waiting) == sorted(str(pk) for pk in WebhookDelivery.objects.values_list("pk", flat=True))
    # The outbox dispatching the batch again makes nothing more.
    services.deliveries_create_for_events(events=[low, created])
    assert WebhookDelivery.objects.count() == 3


def test_catalog_changes_reach_webhooks(
    admin: AdminClient, shop_a: ShopContext, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint = subscribe(admin, receiver.url, ["product.created"])
    with django_capture_on_commit_callbacks(execute=True):
        product = admin.post("products", product_body()).json()
    (request,) = receiver.received
    assert request.headers["Storefleet-Event"] == "product.created"
    assert json.loads(request.body)["data"]["product_id"] == product["id"]
    assert independent_verify(endpoint["secret"], request.headers["Storefleet-Signature"], request.body)


# --- Retries, dead letters, redelivery -------------------------------------------------------


def test_failures_are_retried_with_exponential_backoff_then_succeed(
    admin: AdminClient, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    with Receiver(statuses=[500, 503]).running() as receiver:
        subscribe(admin, receiver.url)
        use_shop(shop_a.shop)
        event_emit(django_capture_on_commit_callbacks)
        waits = []
        for expected_attempts in (1, 2):
            delivery = the_delivery(shop_a)
            assert (delivery.status, delivery.attempts) == (Status.FAILED, expected_attempts)
            waits.append((delivery.next_attempt_at - delivery.attempt_log.last().started_at).total_seconds())
            assert sweep() == 0  # not due yet
            time_passes(shop_a)
            assert sweep() == 1

    delivery = the_delivery(shop_a)
    assert delivery.status == Status.SUCCEEDED and delivery.next_attempt_at is None
    assert [a.response_status for a in delivery.attempt_log.all()] == [500, 503, 200]
    # One minute, then four (each ±10%).
    assert 54 <= waits[0] <= 67 and 216 <= waits[1] <= 265, waits
    # Every attempt carried the same delivery id, each with a fresh valid signature.
    assert {r.headers["Storefleet-Delivery"] for r in receiver.received} == {str(delivery.pk)}
    secret = WebhookEndpoint.objects.get().secret
    for request in receiver.received:
        assert independent_verify(secret, request.headers["Storefleet-Signature"], request.body)


def test_dead_letter_after_the_last_attempt_then_redeliver(
    admin: AdminClient, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    with Receiver(statuses=[500] * 4).running() as receiver:
        endpoint = subscribe(admin, receiver.url)
        use_shop(shop_a.shop)
        event_emit(django_capture_on_commit_callbacks)
        for _retry in range(3):
            time_passes(shop_a)
            assert sweep() == 1
        delivery = the_delivery(shop_a)
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (Status.DEAD, 4, None)
        time_passes(shop_a)
        assert sweep() == 0  # dead letters wait for a person

        log = admin.get(f"webhooks/{endpoint['id']}/deliveries?status=dead").json()["results"]
        assert [d["id"] for d in log] == [str(delivery.pk)]
        assert [a["response_status"] for a in log[0]["attempts"]] == [500, 500, 500, 500]
        assert all(a["duration_ms"] is not None for a in log[0]["attempts"])

        # The receiver is fixed; the merchant redelivers the dead letter.
        path = f"webhooks/{endpoint['id']}/deliveries/{delivery.pk}/redeliver"
        with django_capture_on_commit_callbacks(execute=True):
            response = admin.post(path)
        assert response.status_code == 202, response.content
        delivery = the_delivery(shop_a)
        assert (delivery.status, delivery.attempts) == (Status.SUCCEEDED, 5)
        assert len(receiver.received) == 5
        assert {r.headers["Storefleet-Delivery"] for r in receiver.received} == {str(delivery.pk)}

        # A succeeded delivery can be sent again too (a receiver that lost it).
        with django_capture_on_commit_callbacks(execute=True):
            assert admin.post(path).status_code == 202
        assert len(receiver.received) == 6 and the_delivery(shop_a).status == Status.SUCCEEDED

    use_shop(shop_a.shop)
    redeliveries = AuditEntry.objects.filter(action="webhook.redelivered")
    assert redeliveries.count() == 2
    assert redeliveries.first().after["delivery_id"] == str(delivery.pk)


def test_a_failed_redelivery_of_a_dead_letter_leaves_it_dead(
    admin: AdminClient, shop_a: ShopContext, settings, django_capture_on_commit_callbacks
) -> None:
    settings.WEBHOOK_RETRY_DELAYS = []  # one attempt only
    with Receiver(statuses=[500, 500]).running() as receiver:
        endpoint = subscribe(admin, receiver.url)
        use_shop(shop_a.shop)
        event_emit(django_capture_on_commit_callbacks)
        delivery = the_delivery(shop_a)
        assert delivery.status == Status.DEAD
        with django_capture_on_commit_callbacks(execute=True):
            admin.post(f"webhooks/{endpoint['id']}/deliveries/{delivery.pk}/redeliver")
        assert len(receiver.received) == 2
    assert (the_delivery(shop_a).status, the_delivery(shop_a).attempts) == (Status.DEAD, 2)


def test_redeliver_refuses_while_an_attempt_is_in_flight(
    admin: AdminClient, shop_a: ShopContext, receiver: Receiver
) -> None:
    endpoint = subscribe(admin, receiver.url)
    use_shop(shop_a.shop)
    outbox_event = outbox.event_record(type="inventory.low", payload={})
    (delivery_id,) = services.deliveries_create_for_events(events=[outbox_event])
    WebhookAttempt.objects.create(delivery_id=delivery_id, number=1, started_at=timezone.now())
    before = AuditEntry.objects.count()
    body = assert_problem(admin.post(f"webhooks/{endpoint['id']}/deliveries/{delivery_id}/redeliver"), 409)
    assert body["code"] == "webhook_delivery_in_flight"
    use_shop(shop_a.shop)
    assert AuditEntry.objects.count() == before


def test_a_slow_endpoint_times_out(
    admin: AdminClient, shop_a: ShopContext, settings, django_capture_on_commit_callbacks
) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    with Receiver(delay=5).running() as receiver:
        subscribe(admin, receiver.url)
        use_shop(shop_a.shop)
        started = time.monotonic()
        event_emit(django_capture_on_commit_callbacks)
        assert time.monotonic() - started < 3
    delivery = the_delivery(shop_a)
    (attempt,) = delivery.attempt_log.all()
    assert delivery.status == Status.FAILED
    assert attempt.response_status is None and "Timed out" in attempt.error
    assert 900 <= attempt.duration_ms < 3000


def test_send_time_check_refuses_an_address_that_became_private(
    admin: AdminClient, shop_a: ShopContext, receiver: Receiver, settings, django_capture_on_commit_callbacks
) -> None:
    """The URL was fine when saved; at send time it points at loopback (as after DNS rebinding)."""
    subscribe(admin, receiver.url)
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    use_shop(shop_a.shop)
    event_emit(django_capture_on_commit_callbacks)
    assert receiver.received == []
    delivery = the_delivery(shop_a)
    (attempt,) = delivery.attempt_log.all()
    assert delivery.status == Status.FAILED
    assert "loopback" in attempt.error and attempt.response_status is None


def test_no_redirects_are_followed(
    admin: AdminClient, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    with Receiver(statuses=[302]).running() as receiver:
        subscribe(admin, receiver.url)
        use_shop(shop_a.shop)
        event_emit(django_capture_on_commit_callbacks)
    assert len(receiver.received) == 1
    assert the_delivery(shop_a).status == Status.FAILED


def test_whatever_the_endpoint_answers_is_recorded(
    admin: AdminClient, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    with Receiver(statuses=[500], answer=b"\x00\xff\xfe" + b"x" * 5000).running() as receiver:
        subscribe(admin, receiver.url)
        use_shop(shop_a.shop)
        event_emit(django_capture_on_commit_callbacks)
    (attempt,) = the_delivery(shop_a).attempt_log.all()
    assert attempt.response_status == 500
    assert attempt.response_body.startswith("\ufffd\ufffd\ufffdxxx") and len(attempt.response_body) == 1024


# --- At least once, in effect once ----------------------------------------------------------


def test_an_event_dispatched_twice_makes_one_delivery(
    admin: AdminClient, shop_a: ShopContext, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    subscribe(admin, receiver.url)
    use_shop(shop_a.shop)
    event = event_emit(django_capture_on_commit_callbacks)
    # The worker died after the handlers ran but before the event was marked: dispatched again.
    OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=None, claimed_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.events_dispatch() == 1
    assert WebhookDelivery.objects.count() == 1
    assert len(receiver.received) == 1


def test_a_lost_first_attempt_is_queued_again_and_made_once(
    admin: AdminClient, shop_a: ShopContext, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    subscribe(admin, receiver.url)
    use_shop(shop_a.shop)
    event = outbox.event_record(type="inventory.low", payload={})
    services.deliveries_create_for_events(events=[event])  # its queueing "lost" (never committed here)
    with django_capture_on_commit_callbacks(execute=True):
        services.deliveries_create_for_events(events=[event])
    with django_capture_on_commit_callbacks(execute=True):
        services.deliveries_create_for_events(events=[event])  # already made: nothing queued
    delivery = the_delivery(shop_a)
    assert services.delivery_attempt(delivery_id=str(delivery.pk)) is None  # a duplicate message
    assert len(receiver.received) == 1 and delivery.attempts == 1


def test_an_attempt_cut_off_by_a_dead_worker_is_made_again_by_the_sweep(
    admin: AdminClient, shop_a: ShopContext, receiver: Receiver
) -> None:
    subscribe(admin, receiver.url)
    use_shop(shop_a.shop)
    event = outbox.event_record(type="inventory.low", payload={})
    (delivery_id,) = services.deliveries_create_for_events(events=[event])
    # A worker claimed it, then died mid-POST: its lease is what makes it due again.
    leased_until = timezone.now() + services.attempt_lease()
    WebhookDelivery.objects.filter(pk=delivery_id).update(attempts=1, next_attempt_at=leased_until)
    WebhookAttempt.objects.create(delivery_id=delivery_id, number=1, started_at=timezone.now())
    assert sweep() == 0
    time_passes(shop_a)
    assert sweep() == 1
    delivery = the_delivery(shop_a)
    assert (delivery.status, delivery.attempts, len(receiver.received)) == (Status.SUCCEEDED, 2, 1)
    first, second = delivery.attempt_log.all()
    assert first.error.startswith("Interrupted") and second.response_status == 200


def test_the_sweep_leaves_a_delivery_claimed_after_it_read_it_due(
    admin: AdminClient, shop_a: ShopContext, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    The sweep reads what is due, then marks it queued: a worker's claim in between
    (seen in the fault suite as a webhook POSTed twice) must keep its lease, and the
    sweep must queue no second attempt of it.
    """
    subscribe(admin, receiver.url)
    use_shop(shop_a.shop)
    event = outbox.event_record(type="inventory.low", payload={})
    (delivery_id,) = services.deliveries_create_for_events(events=[event])
    leased_until = timezone.now() + services.attempt_lease()
    WebhookDelivery.objects.filter(pk=delivery_id).update(attempts=1, next_attempt_at=leased_until)
    WebhookAttempt.objects.create(delivery_id=delivery_id, number=1, started_at=timezone.now())
    # The sweep's first read happened just before that claim; its next reads find nothing due.
    reads = iter([{shop_a.shop.schema_name: [str(delivery_id)]}])
    monkeypatch.setattr(services.selectors, "deliveries_due_by_schema", lambda **_: next(reads, {}))
    use_public()
    assert services.deliveries_due_queue() == 0  # marked nothing, queued nothing
    delivery = the_delivery(shop_a)
    assert delivery.next_attempt_at == leased_until and delivery.attempts == 1
    assert receiver.received == []


# --- The sweep and shops --------------------------------------------------------------------


def test_the_sweep_sends_each_shops_due_deliveries_in_that_shop(
    api, shop_a: ShopContext, shop_b: ShopContext, receiver: Receiver
) -> None:
    ids = {}
    for ctx in (shop_a, shop_b):
        subscribe(AdminClient(api, ctx), receiver.url)
        use_shop(ctx.shop)
        (ids[ctx.shop.slug],) = services.deliveries_create_for_events(
            events=[outbox.event_record(type="inventory.low", payload={"shop": ctx.shop.slug})]
        )
    assert sweep() == 2
    assert sorted(json.loads(r.body)["data"]["shop"] for r in receiver.received) == ["alpha", "bravo"]
    for ctx in (shop_a, shop_b):
        delivery = the_delivery(ctx)
        assert str(delivery.pk) == ids[ctx.shop.slug] and delivery.status == Status.SUCCEEDED
        (request,) = [r for r in receiver.received if r.headers["Storefleet-Delivery"] == str(delivery.pk)]
        assert independent_verify(
            WebhookEndpoint.objects.get().secret, request.headers["Storefleet-Signature"], request.body
        )


def test_delivery_log_api_and_shop_isolation(
    api,
    admin: AdminClient,
    shop_a: ShopContext,
    shop_b: ShopContext,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
) -> None:
    with Receiver(statuses=[500]).running() as receiver:
        endpoint = subscribe(admin, receiver.url)
        other = subscribe(admin, receiver.url, ["order.paid"])
        use_shop(shop_a.shop)
        for n in range(3):
            event_emit(django_capture_on_commit_callbacks, variant_id=n)

    path = f"webhooks/{endpoint['id']}/deliveries"
    with django_assert_max_num_queries(8):
        page = admin.get(f"{path}?limit=2").json()
    assert len(page["results"]) == 2 and page["next"]
    rest = admin.get(page["next"].split("/api/admin/v1/", 1)[1]).json()
    deliveries = page["results"] + rest["results"]
    assert [d["payload"]["data"]["variant_id"] for d in deliveries] == [2, 1, 0]  # newest first
    first = deliveries[-1]
    assert (first["status"], first["attempt_count"], first["event_type"]) == ("failed", 1, "inventory.low")
    (attempt,) = first["attempts"]
    assert attempt["response_status"] == 500 and attempt["number"] == 1 and attempt["duration_ms"] >= 0
    succeeded = admin.get(f"{path}?status=succeeded").json()["results"]
    assert [d["id"] for d in succeeded] == [d["id"] for d in deliveries[:2]]

    detail = admin.get(f"{path}/{first['id']}")
    assert detail.status_code == 200 and detail.json() == first
    # Under another endpoint of the same shop, the delivery does not exist.
    assert_problem(admin.get(f"webhooks/{other['id']}/deliveries/{first['id']}"), 404)
    assert_problem(admin.post(f"webhooks/{other['id']}/deliveries/{first['id']}/redeliver"), 404)

    as_b = AdminClient(api, shop_b)
    assert_problem(as_b.get(path), 404)
    assert_problem(as_b.get(f"{path}/{first['id']}"), 404)
    assert_problem(as_b.post(f"{path}/{first['id']}/redeliver"), 404)
    b_endpoint = subscribe(as_b, "http://127.0.0.1:9/")
    assert as_b.get(f"webhooks/{b_endpoint['id']}/deliveries").json()["results"] == []
    assert_problem(as_b.get(f"webhooks/{b_endpoint['id']}/deliveries/{first['id']}"), 404)
    use_shop(shop_b.shop)
    assert WebhookDelivery.objects.count() == 0


def test_services_refuse_bad_events_from_any_caller(shop_a: ShopContext) -> None:
    use_shop(shop_a.shop)
    with pytest.raises(ValueError):
        services.endpoint_create(actor=Actor.system(), url="http://127.0.0.1:9/", events=["nope"])
    assert WebhookEndpoint.objects.count() == 0
