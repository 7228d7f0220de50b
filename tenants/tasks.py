"""Background work for the public schema."""

from celery import shared_task

from tenants import provisioning
from tenants.conventions import idempotency


@shared_task(name="tenants.tasks.warm_pool_refill", ignore_result=True)
def warm_pool_refill() -> int:
    """Top the warm pool of spare schemas back up to WARM_POOL_SIZE."""
    return provisioning.warm_pool_fill()


@shared_task(name="tenants.tasks.idempotency_records_purge", ignore_result=True)
def idempotency_records_purge() -> int:
    """Forget idempotency keys older than the 24 h replay window."""
    return idempotency.records_purge()
