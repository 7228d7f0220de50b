from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "catalog.storefront"
    # The label (and so the tables, storefront_theme, ...) of the app it was first: migrations name it.
    label = "storefront"
    verbose_name = "Storefront theme and pages"
