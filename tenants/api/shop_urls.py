"""Routes `tenants` serves on shop hosts."""

from django.urls import path

from tenants.api import views

storefront_urlpatterns = [
    path("shop", views.StorefrontShopView.as_view(), name="storefront-shop"),
]

admin_urlpatterns = [
    path("api-keys", views.ApiKeyListCreateView.as_view(), name="api-keys"),
    path("api-keys/<int:api_key_id>", views.ApiKeyDetailView.as_view(), name="api-key-detail"),
]
