from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Shops and platform users"

    def ready(self) -> None:
        # Registers the OpenAPI extensions for our authentication classes.
        from tenants.conventions import openapi  # noqa: F401
