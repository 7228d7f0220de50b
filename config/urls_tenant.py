"""URLs of a shop host (the shop's schema): Storefront and Admin APIs."""

from django.conf import settings
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from catalog.api import uploads
from catalog.api.urls import admin_urlpatterns as catalog_admin
from catalog.api.urls import storefront_urlpatterns as catalog_storefront
from catalog.storefront import views as storefront_views
from catalog.storefront.api.urls import admin_urlpatterns as theme_admin
from catalog.storefront.api.urls import storefront_urlpatterns as theme_storefront
from config import live, spa
from orders.api.urls import admin_urlpatterns as orders_admin
from orders.api.urls import storefront_urlpatterns as orders_storefront
from tenants.api import downloads
from tenants.api.shop_urls import admin_urlpatterns as tenants_admin
from tenants.api.shop_urls import storefront_urlpatterns as tenants_storefront
from tenants.conventions import problems
from tenants.webhooks.api.urls import admin_urlpatterns as webhooks_admin

handler400 = "tenants.conventions.problems.bad_request"
handler403 = "tenants.conventions.problems.permission_denied"
handler404 = "tenants.conventions.problems.page_not_found"
handler500 = "tenants.conventions.problems.server_error"

urlpatterns = [
    # Live updates (Server-Sent Events), answered by the ASGI process; gunicorn refuses them (config/live.py).
    path("api/admin/v1/live", live.admin_stream, name="admin-live"),
    path("api/storefront/v1/orders/<int:number>/live", live.order_stream, name="storefront-order-live"),
    path(
        "api/storefront/v1/",
        include(tenants_storefront + catalog_storefront + orders_storefront + theme_storefront),
    ),
    path(
        "api/admin/v1/",
        include(tenants_admin + catalog_admin + orders_admin + webhooks_admin + theme_admin),
    ),
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_tenant"), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # Local object storage (STORAGE=local): signed upload URLs and media files; 404 with S3.
    # The signed token comes as `?token=`: query strings stay out of the app's and the edge's logs.
    path("api/uploads", uploads.upload_put, name="storage-upload"),
    # ... and signed download links (CSV exports), as on the platform host: an export's link works on both.
    path("api/downloads", downloads.download_get, name="storage-download"),
]
# For browsers and crawlers: the shop's robots.txt, sitemaps and icon.
urlpatterns += [
    path("robots.txt", storefront_views.robots_txt, name="robots-txt"),
    path("sitemap.xml", storefront_views.sitemap_index, name="sitemap"),
    path("sitemap-pages.xml", storefront_views.sitemap_pages, name="sitemap-pages"),
    path("sitemap-products-<int:number>.xml", storefront_views.sitemap_products, name="sitemap-products"),
    path("favicon.svg", storefront_views.favicon, name="favicon"),
    path("favicon.ico", storefront_views.favicon, name="favicon-ico"),
]
if settings.MEDIA_URL.startswith("/"):
    urlpatterns.append(path(f"{settings.MEDIA_URL.strip('/')}/<path:key>", uploads.media_serve, name="media"))
# The storefront SPA answers every other path without a file extension (its
# client-side routes); unknown API, media, static and admin paths stay 404 problems.
STOREFRONT_ROUTES = r"^(?!api/|static/|media/|admin/)(?P<path>(?:[^/.]+/)*[^/.]*)$"
urlpatterns.append(re_path(STOREFRONT_ROUTES, spa.storefront, name="spa-storefront"))
# Last: every other path is a 404 problem, DEBUG or not.
urlpatterns.append(re_path(r"^(?P<path>.*)$", problems.no_route))
