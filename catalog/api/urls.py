from django.urls import path

from catalog.api import views

admin_urlpatterns = [
    path("products", views.AdminProductListView.as_view(), name="admin-products"),
]
