"""Routes of the theme and content pages on shop hosts."""

from django.urls import path

from catalog.storefront.api import views

storefront_urlpatterns = [
    path("theme", views.StorefrontThemeView.as_view(), name="storefront-theme"),
    path("pages/<str:kind>", views.StorefrontContentPageView.as_view(), name="storefront-page"),
]

admin_urlpatterns = [
    path("theme", views.AdminThemeView.as_view(), name="admin-theme"),
    path("theme/images/<str:slot>", views.AdminThemeImageView.as_view(), name="admin-theme-image"),
    path("pages", views.AdminContentPageListView.as_view(), name="admin-pages"),
    path("pages/<str:kind>", views.AdminContentPageView.as_view(), name="admin-page"),
]
