from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """Domain events of a shop, written in the transaction that caused them (lives in each shop's schema)."""

    name = "tenants.outbox"
    label = "outbox"
