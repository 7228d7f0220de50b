"""Catalog reads; every query runs in the current shop's schema."""

from django.db.models import QuerySet

from catalog.models import Product


def products_for_admin() -> QuerySet[Product]:
    return Product.objects.only("id", "title", "slug", "status", "created_at", "updated_at").order_by("-id")
