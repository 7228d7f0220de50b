from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self) -> None:
        from catalog import handlers  # noqa: F401  (registers the event handlers)
        from catalog.rendering import shop_renderings_follow
        from tenants import hooks

        hooks.on_shop_updated(shop_renderings_follow)
