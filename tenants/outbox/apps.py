from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """
    Domain events, written in the transaction that caused them. The table is in
    the public schema (each row names its shop's schema), so one relay can find
    what was never dispatched without visiting thousands of schemas.
    """

    name = "tenants.outbox"
    label = "outbox"
