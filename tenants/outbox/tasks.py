from celery import shared_task

from tenants.outbox import services


@shared_task(name="tenants.outbox.dispatch", ignore_result=True, acks_late=True)
def outbox_event_dispatch(event_id: str) -> None:
    """Run an event's handlers in its shop (the task carries the shop's schema)."""
    services.event_dispatch(event_id=event_id)
