from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """
    Webhook endpoints of a shop and the log of what was delivered to them (in
    each shop's schema). Catalog and orders events reach it through the outbox.
    """

    name = "tenants.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        from tenants.webhooks import handlers  # noqa: F401  (registers the event handler)
