"""The outbox: events commit with their change, dispatch once in their shop; a relay finds lost ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tenants.outbox import services
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tests.conftest import ShopContext

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen(monkeypatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []
    monkeypatch.setitem(
        services._handlers, "test.happened", [lambda event: calls.append((event.type, event.schema_name))]
    )
    return calls


def test_event_dispatches_after_commit_in_its_shop(
    shop_a: ShopContext, seen, django_capture_on_commit_callbacks
) -> None:
    use_shop(shop_a.shop)
    with django_capture_on_commit_callbacks(execute=True):
        event = services.event_record(type="test.happened", payload={"n": 1})
        assert seen == []  # nothing before commit
    assert seen == [("test.happened", shop_a.shop.schema_name)]
    event.refresh_from_db()
    assert event.dispatched_at is not None and event.attempts == 1
    # At least once, in effect once: dispatching it again does nothing.
    assert services.event_dispatch(event_id=str(event.pk)) is False
    assert len(seen) == 1


def test_event_never_runs_in_another_shops_schema(shop_a: ShopContext, shop_b: ShopContext, seen) -> None:
    use_shop(shop_a.shop)
    event = services.event_record(type="test.happened", payload={})
    use_shop(shop_b.shop)
    assert services.event_dispatch(event_id=str(event.pk)) is False
    assert seen == []


def test_relay_requeues_what_was_never_dispatched(shop_a: ShopContext, seen) -> None:
    use_shop(shop_a.shop)
    lost = services.event_record(type="test.happened", payload={})  # its on_commit never ran: "lost"
    fresh = services.event_record(type="test.happened", payload={})
    OutboxEvent.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    # The relay runs in public (beat); eager Celery runs the re-queued dispatch at once, in its schema.
    use_public()
    assert services.events_relay() == 1
    assert seen == [("test.happened", shop_a.shop.schema_name)]
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.dispatched_at is not None and fresh.dispatched_at is None


def test_events_of_one_transaction_dispatch_together_in_order(shop_a: ShopContext, monkeypatch) -> None:
    calls: list[str] = []

    def flaky(event: OutboxEvent) -> None:
        if event.payload["n"] == 2 and calls.count("fail") == 0:
            calls.append("fail")
            raise RuntimeError("a handler failed")
        calls.append(f"{event.type}:{event.payload['n']}")

    monkeypatch.setitem(services._handlers, "test.first", [flaky])
    monkeypatch.setitem(services._handlers, "test.second", [flaky])
    use_shop(shop_a.shop)
    first, second, third = services.events_record(
        events=[("test.first", {"n": 1}), ("test.second", {"n": 2}), ("test.first", {"n": 3})]
    )
    ids = [str(first.pk), str(second.pk), str(third.pk)]
    with pytest.raises(RuntimeError):
        services.events_dispatch(event_ids=ids)
    # What ran before the failure stays done; the retry runs only the rest.
    assert calls == ["test.first:1", "fail"]
    assert services.events_dispatch(event_ids=ids) == 2
    assert calls == ["test.first:1", "fail", "test.second:2", "test.first:3"]
    assert services.events_dispatch(event_ids=ids) == 0
    attempts = dict(OutboxEvent.objects.filter(pk__in=ids).values_list("type", "attempts"))
    assert set(attempts.values()) <= {1, 2}
