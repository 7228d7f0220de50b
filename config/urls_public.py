"""URLs of the platform host (public schema)."""

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config import spa
from tenants.api import downloads
from tenants.conventions import problems

handler400 = "tenants.conventions.problems.bad_request"
handler403 = "tenants.conventions.problems.permission_denied"
handler404 = "tenants.conventions.problems.page_not_found"
handler500 = "tenants.conventions.problems.server_error"

urlpatterns = [
    path("api/platform/v1/", include("tenants.api.urls")),
    path("api/platform/v1/", include("billing.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_public"), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("admin/", admin.site.urls),
    # Local object storage (STORAGE=local): signed download links (exports); S3 presigns its own.
    # The signed token comes as `?token=`: query strings stay out of the app's and the edge's logs.
    path("api/downloads", downloads.download_get, name="storage-download"),
    # The merchant admin SPA: /app/ and every client-side route under it.
    path("", RedirectView.as_view(url="/app/", permanent=False)),
    re_path(r"^app/(?P<path>(?:[^/.]+/)*[^/.]*)$", spa.admin, name="spa-admin"),
    # Last: every other path is a 404 problem, DEBUG or not.
    re_path(r"^(?P<path>.*)$", problems.no_route),
]
