from celery import shared_task

from tenants.outbox import services


@shared_task(name="tenants.outbox.dispatch", ignore_result=True, acks_late=True)
def outbox_event_dispatch(event_id: str) -> None:
    """Run an event's handlers in its shop (the task's `_schema_name` header picks the schema)."""
    services.event_dispatch(event_id=event_id)


@shared_task(name="tenants.outbox.relay", ignore_result=True)
def outbox_relay() -> int:
    """Hand undispatched events to workers again (beat runs this every few seconds)."""
    return services.events_relay()
