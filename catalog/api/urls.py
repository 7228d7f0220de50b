from django.urls import path

from catalog.api import bulk, images, storefront, views
from catalog.cache import CATEGORIES, LISTS, product_tag
from catalog.middleware import storefront_cacheable

admin_urlpatterns = [
    path("categories", views.AdminCategoryListView.as_view(), name="admin-categories"),
    path("categories/reorder", views.AdminCategoryReorderView.as_view(), name="admin-categories-reorder"),
    path(
        "categories/<int:category_id>", views.AdminCategoryDetailView.as_view(), name="admin-category-detail"
    ),
    path("products", views.AdminProductListView.as_view(), name="admin-products"),
    path("products/import", bulk.AdminProductImportView.as_view(), name="admin-products-import"),
    path("imports/<uuid:import_id>", bulk.AdminImportDetailView.as_view(), name="admin-import"),
    path("products/export", bulk.AdminProductExportView.as_view(), name="admin-products-export"),
    path(
        "product-exports/<uuid:export_id>",
        bulk.AdminProductExportDetailView.as_view(),
        name="admin-product-export",
    ),
    path("products/bulk-edit", bulk.AdminProductBulkEditView.as_view(), name="admin-products-bulk-edit"),
    path("products/<int:product_id>", views.AdminProductDetailView.as_view(), name="admin-product-detail"),
    path("products/<int:product_id>/variants", views.AdminVariantListView.as_view(), name="admin-variants"),
    path(
        "products/<int:product_id>/price-history",
        views.AdminPriceHistoryView.as_view(),
        name="admin-product-price-history",
    ),
    path(
        "products/<int:product_id>/variants/<int:variant_id>",
        views.AdminVariantDetailView.as_view(),
        name="admin-variant-detail",
    ),
    path("products/<int:product_id>/images", images.AdminImageListView.as_view(), name="admin-images"),
    path(
        "products/<int:product_id>/images/reorder",
        images.AdminImageReorderView.as_view(),
        name="admin-images-reorder",
    ),
    path(
        "products/<int:product_id>/images/<int:image_id>",
        images.AdminImageDetailView.as_view(),
        name="admin-image-detail",
    ),
    path(
        "products/<int:product_id>/images/<int:image_id>/confirm",
        images.AdminImageConfirmView.as_view(),
        name="admin-image-confirm",
    ),
    path("inventory", views.AdminInventoryView.as_view(), name="admin-inventory"),
    path(
        "inventory/adjustments",
        views.AdminInventoryAdjustmentView.as_view(),
        name="admin-inventory-adjustments",
    ),
    path("audit-log", views.AdminAuditLogView.as_view(), name="admin-audit-log"),
]

storefront_urlpatterns = [
    path(
        "categories",
        storefront_cacheable(storefront.StorefrontCategoriesView.as_view(), tag=CATEGORIES),
        name="storefront-categories",
    ),
    path(
        "products",
        storefront_cacheable(
            storefront.StorefrontProductListView.as_view(),
            tag=LISTS,
            query=storefront.storefront_list_cache_query,
        ),
        name="storefront-products",
    ),
    path(
        "products/<slug:slug>",
        storefront_cacheable(storefront.StorefrontProductDetailView.as_view(), tag=product_tag),
        name="storefront-product-detail",
    ),
]
