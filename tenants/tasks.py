"""Background work for the public schema."""

from celery import shared_task

from tenants import lifecycle, provisioning
from tenants.conventions import idempotency


@shared_task(name="tenants.tasks.warm_pool_refill", ignore_result=True)
def warm_pool_refill() -> int:
    """Top the warm pool of spare schemas back up to WARM_POOL_SIZE."""
    return provisioning.warm_pool_fill()


@shared_task(name="tenants.tasks.idempotency_records_purge", ignore_result=True)
def idempotency_records_purge() -> int:
    """Forget idempotency keys older than the 24 h replay window."""
    return idempotency.records_purge()


@shared_task(name="tenants.tasks.jwt_tokens_flush", ignore_result=True)
def jwt_tokens_flush() -> None:
    """Forget expired refresh tokens and their blacklist entries (simplejwt's flushexpiredtokens)."""
    from django.core.management import call_command

    call_command("flushexpiredtokens")


@shared_task(name="tenants.tasks.shop_export_run", ignore_result=True, acks_late=True)
def shop_export_run(export_id: str) -> None:
    """Write a shop's export to object storage."""
    lifecycle.export_run(export_id=export_id)


@shared_task(
    name="tenants.tasks.shop_delete_run",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=60,
    max_retries=10,
)
def shop_delete_run(export_id: str) -> None:
    """Export a shop being deleted, then remove it and everything namespaced by its schema."""
    lifecycle.shop_purge(export_id=export_id)
