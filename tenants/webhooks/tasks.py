from datetime import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError

from tenants.webhooks import services


# A lost database session (a restart, a terminated backend) fails the claim before
# anything is sent: try again in a second or two rather than wait for the sweep.
@shared_task(
    name="webhooks.delivery_attempt",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=1,
    retry_backoff_max=30,
    max_retries=5,
)
def webhook_delivery_attempt(delivery_id: str, queued_until: str | None = None) -> None:
    """
    Attempt a delivery in its shop (the task's `_schema_name` header picks the
    schema); `queued_until` is the sweep's mark on a delivery it queued. Routed to
    the webhook queue (CELERY_TASK_ROUTES).
    """
    services.delivery_attempt(
        delivery_id=delivery_id,
        queued_until=datetime.fromisoformat(queued_until) if queued_until else None,
    )


@shared_task(name="webhooks.deliveries_due", ignore_result=True)
def webhook_deliveries_due() -> int:
    """Queue the deliveries of every shop whose next attempt is due (beat runs this every minute)."""
    return services.deliveries_due_queue()
