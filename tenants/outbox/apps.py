from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """
    Domain events, written in the transaction that caused them. Each shop has
    the table in its own schema (a shop's write stays in its schema); public
    has one for the platform's own events. The relay learns which shops have
    events waiting from a Redis set (services.events_relay).
    """

    name = "tenants.outbox"
    label = "outbox"
