from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self) -> None:
        from catalog import handlers  # noqa: F401  (registers the event handlers)
        from catalog.cache import storefront_cache_shop_updated
        from catalog.rendering import shop_renderings_follow
        from tenants import hooks

        # Storefront bodies and renderings write prices in the shop's currency (see tenants/hooks.py).
        hooks.on_shop_updated(storefront_cache_shop_updated)
        hooks.on_shop_updated(shop_renderings_follow)
