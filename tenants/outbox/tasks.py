from celery import shared_task

from tenants.outbox import services


@shared_task(name="tenants.outbox.dispatch_events", ignore_result=True, acks_late=True)
def outbox_events_dispatch(event_ids: list[str]) -> None:
    """Run the handlers of one shop's events (the task's `_schema_name` header picks the schema)."""
    services.events_dispatch(event_ids=event_ids)


@shared_task(name="tenants.outbox.relay", ignore_result=True)
def outbox_relay() -> int:
    """Hand undispatched events to workers again (beat runs this every few seconds)."""
    return services.events_relay()
