"""The outbox: events commit with their change, dispatch once in their shop; a relay finds lost ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
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
        services._handlers,
        "test.happened",
        [lambda events: calls.extend((event.type, event.schema_name) for event in events)],
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
    # At least once, in effect once: dispatching again does nothing.
    assert services.events_dispatch() == 0
    assert len(seen) == 1


def test_event_never_runs_in_another_shops_schema(shop_a: ShopContext, shop_b: ShopContext, seen) -> None:
    use_shop(shop_a.shop)
    event = services.event_record(type="test.happened", payload={})
    use_shop(shop_b.shop)
    assert services.events_dispatch() == 0
    assert seen == []
    assert not OutboxEvent.objects.exists()  # shop B's outbox holds none of shop A's events
    use_shop(shop_a.shop)
    event.refresh_from_db()
    assert event.attempts == 0 and event.claimed_at is None


def test_relay_requeues_what_was_never_dispatched(shop_a: ShopContext, seen) -> None:
    use_shop(shop_a.shop)
    lost = services.event_record(type="test.happened", payload={})  # its on_commit never ran: "lost"
    fresh = services.event_record(type="test.happened", payload={})
    OutboxEvent.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    # No commit ran, so the relay's pending set does not name the shop (as after a Redis loss):
    # the relay (public, beat) sees nothing until the sweep has probed every shop's outbox.
    use_public()
    assert services.events_relay() == 0
    assert services.events_sweep() == 1
    assert services.pending_shops() == [shop_a.shop.schema_name]
    # The relay counts the stale event and wakes its shop, whose dispatcher (eager here, in its
    # schema) then takes every pending event, the fresh one too.
    assert services.events_relay() == 1
    assert seen == [("test.happened", shop_a.shop.schema_name)] * 2
    use_shop(shop_a.shop)
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.dispatched_at is not None and fresh.dispatched_at is not None
    use_public()
    assert services.events_relay() == 0
    assert services.pending_shops() == []  # nothing waits: the shop left the set


def test_each_handler_gets_the_batch_of_its_events_in_order(shop_a: ShopContext, monkeypatch) -> None:
    batches: list[list[str]] = []
    monkeypatch.setitem(services._handlers, "test.first", [lambda events: batches.append(_ns(events))])
    monkeypatch.setitem(services._handlers, "test.second", [])
    use_shop(shop_a.shop)
    services.events_record(events=[("test.first", {"n": 1}), ("test.second", {"n": 2})])
    services.events_record(events=[("test.first", {"n": 3})])
    assert services.events_dispatch() == 3
    assert batches == [["test.first:1", "test.first:3"]]


def _ns(events: list[OutboxEvent]) -> list[str]:
    return [f"{event.type}:{event.payload['n']}" for event in events]


def test_a_failing_handler_leaves_only_its_events_pending(shop_a: ShopContext, monkeypatch) -> None:
    calls: list[str] = []

    def flaky(events: list[OutboxEvent]) -> None:
        if "fail" not in calls:
            calls.append("fail")
            raise RuntimeError("a handler failed")
        calls.extend(_ns(events))

    monkeypatch.setitem(services._handlers, "test.first", [lambda events: calls.extend(_ns(events))])
    monkeypatch.setitem(services._handlers, "test.second", [flaky])
    use_shop(shop_a.shop)
    first, second, third = services.events_record(
        events=[("test.first", {"n": 1}), ("test.second", {"n": 2}), ("test.first", {"n": 3})]
    )
    with pytest.raises(RuntimeError):
        services.events_dispatch()
    # The other handler's events are done; the failed one's stays claimed, so a dispatch now skips it.
    assert calls == ["test.first:1", "test.first:3", "fail"]
    assert services.events_dispatch() == 0
    assert [
        e.pk for e in OutboxEvent.objects.filter(pk__in=[first.pk, second.pk, third.pk], dispatched_at=None)
    ] == [second.pk]
    # The relay releases the claim once it is old (now, here) and wakes the shop (eager here): it runs.
    services.dispatch_soon()  # what the commit does: the shop joins the relay's pending set
    use_public()
    assert services.events_relay(older_than=timedelta(0)) == 1
    assert calls == ["test.first:1", "test.first:3", "fail", "test.second:2"]
    use_shop(shop_a.shop)
    attempts = dict(
        OutboxEvent.objects.filter(pk__in=[first.pk, second.pk, third.pk]).values_list("pk", "attempts")
    )
    assert attempts == {first.pk: 1, second.pk: 2, third.pk: 1}


def test_a_commit_wakes_the_dispatcher_once_until_it_runs(shop_a: ShopContext, monkeypatch) -> None:
    from tenants.outbox import tasks

    woken: list[str] = []
    delays: list[float | None] = []

    def wake(headers: dict[str, str], countdown: float | None = None) -> None:
        woken.append(headers["_schema_name"])
        delays.append(countdown)

    monkeypatch.setattr(tasks.outbox_dispatch, "apply_async", wake)
    monkeypatch.setitem(services._handlers, "test.happened", [])
    use_shop(shop_a.shop)
    assert services.dispatch_soon() is True
    assert services.dispatch_soon() is False  # a wake-up is already waiting: it will see this commit's events
    services.events_record(events=[("test.happened", {})])
    assert services.events_dispatch() == 1  # it clears the flag before taking events...
    assert services.dispatch_soon() is True  # ...so the next commit wakes it again
    assert woken == [shop_a.shop.schema_name] * 2
    # It starts a moment later, so that it takes the events of every commit meanwhile.
    assert delays == [settings.OUTBOX_DISPATCH_DELAY_MS / 1000] * 2 and delays[0] > 0


def test_a_full_batch_wakes_the_next_one(shop_a: ShopContext, monkeypatch) -> None:
    from tenants.outbox import tasks

    woken: list[str] = []
    monkeypatch.setattr(
        tasks.outbox_dispatch, "apply_async", lambda headers, **options: woken.append(headers["_schema_name"])
    )
    monkeypatch.setitem(services._handlers, "test.happened", [])
    use_shop(shop_a.shop)
    services.events_record(events=[("test.happened", {"n": n}) for n in range(5)])
    assert services.events_dispatch(limit=3) == 3
    assert woken == [shop_a.shop.schema_name]
    assert services.events_dispatch(limit=3) == 2
    assert woken == [shop_a.shop.schema_name]


def test_the_migration_gives_a_shop_its_outbox_and_moves_its_events_home(shop_a: ShopContext, seen) -> None:
    """A shop migrated before its outbox was in its schema: its public events, pending or not, move."""
    import importlib

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("tenants.outbox.migrations.0004_outbox_in_each_shop")
    schema = shop_a.shop.schema_name
    use_shop(shop_a.shop)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE outbox_outboxevent")  # as the shop was before 0004
    # Its events are in public, as the old code wrote them (the unqualified table resolves there).
    pending = services.event_record(type="test.happened", payload={"n": 1})
    done = services.event_record(type="test.done", payload={"n": 2})
    OutboxEvent.objects.filter(pk=done.pk).update(dispatched_at=timezone.now())
    use_public()
    other = OutboxEvent.objects.create(schema_name="public", type="account.x", payload={})

    use_shop(shop_a.shop)
    with connection.schema_editor() as editor:
        migration.outbox_here(apps, editor)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT id, dispatched_at IS NULL FROM "{schema}".outbox_outboxevent ORDER BY created_at'
        )
        assert cursor.fetchall() == [(pending.pk, True), (done.pk, False)]  # same ids, same state
        cursor.execute("SELECT id FROM public.outbox_outboxevent")
        assert cursor.fetchall() == [(other.pk,)]  # the platform's own stay
    # The moved event runs in its shop as any other.
    assert services.events_dispatch() == 1
    assert seen == [("test.happened", schema)]


def test_the_relay_moves_home_what_a_late_transaction_left_in_public(shop_a: ShopContext, seen) -> None:
    """An event committed to public by a transaction begun before its shop's migration is not lost."""
    use_public()
    straggler = OutboxEvent.objects.create(
        schema_name=shop_a.shop.schema_name, type="test.happened", payload={}
    )
    assert services.events_relay(older_than=timedelta(0)) == 1  # moved, its shop noted, released, woken
    assert seen == [("test.happened", shop_a.shop.schema_name)]
    assert not OutboxEvent.objects.filter(pk=straggler.pk).exists()
    use_shop(shop_a.shop)
    assert OutboxEvent.objects.get(pk=straggler.pk).dispatched_at is not None


def test_the_relay_forgets_shops_that_are_gone_or_have_nothing_pending(shop_a: ShopContext) -> None:
    use_shop(shop_a.shop)
    services.dispatch_soon()  # notes the shop, as a commit with events does
    services._pending_note(["shop_that_was_deleted"])  # its shop deleted since
    use_public()
    assert services.pending_shops() == sorted([shop_a.shop.schema_name, "shop_that_was_deleted"])
    assert services.events_relay() == 0
    assert services.pending_shops() == []
