from celery import shared_task

from tenants.webhooks import services


@shared_task(name="webhooks.delivery_attempt", ignore_result=True, acks_late=True)
def webhook_delivery_attempt(delivery_id: str) -> None:
    """Attempt a delivery in its shop (the task's `_schema_name` header picks the schema)."""
    services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="webhooks.deliveries_due", ignore_result=True)
def webhook_deliveries_due() -> int:
    """Queue the deliveries of every shop whose next attempt is due (beat runs this every minute)."""
    return services.deliveries_due_queue()
