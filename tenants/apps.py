from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Shops and platform users"

    def ready(self) -> None:
        # Registers the OpenAPI extensions for our authentication classes.
        from django.conf import settings
        from django.core.signals import request_finished
        from django.db.backends.signals import connection_created

        from tenants import (
            live,  # noqa: F401  (registers the live-updates event handler)
            platform_emails,  # noqa: F401  (registers the account e-mails' event handlers)
        )
        from tenants.conventions import openapi  # noqa: F401
        from tenants.schemas import connections_recycle_over_budget, schema_visits_track

        if settings.TRACING:
            from tenants.observability.tracing import tracing_instrument

            # Before gunicorn's master builds the middleware chain (and forks); spans are
            # exported once each process starts its exporter (tracing_export_start).
            tracing_instrument()
        connection_created.connect(schema_visits_track, dispatch_uid="tenants.schema_visits_track")
        request_finished.connect(
            connections_recycle_over_budget, dispatch_uid="tenants.connections_recycle_over_budget"
        )
