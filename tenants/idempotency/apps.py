from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    """
    The stored outcomes of `Idempotency-Key` requests (the protocol is in
    tenants/conventions/idempotency.py). In both SHARED_APPS and TENANT_APPS:
    each shop keeps its own in its schema, the platform host in public.
    """

    name = "tenants.idempotency"
    label = "idempotency"
