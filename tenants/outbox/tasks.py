from celery import shared_task

from tenants.outbox import services


@shared_task(name="tenants.outbox.dispatch", ignore_result=True, acks_late=True)
def outbox_dispatch() -> int:
    """Run the handlers of one shop's pending events (the task's `_schema_name` header picks the shop)."""
    return services.events_dispatch()


@shared_task(name="tenants.outbox.relay", ignore_result=True)
def outbox_relay() -> int:
    """Hand undispatched events to workers again (beat runs this every few seconds)."""
    return services.events_relay()


@shared_task(name="tenants.outbox.sweep", ignore_result=True)
def outbox_sweep() -> int:
    """Find every shop with undispatched events for the relay (beat runs this every few minutes)."""
    return services.events_sweep()
