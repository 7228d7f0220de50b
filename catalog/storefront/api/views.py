"""
The theme and content pages: edited through the Admin API (owners and admins,
or API keys with the catalog scopes), read by the storefront. Thin: validate,
call a service or selector, shape the answer.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.storefront import selectors, services
from catalog.storefront.api import serializers as s
from catalog.storefront.errors import PageNotFound, ThemeInvalid
from catalog.storefront.models import ContentPage
from tenants.api.auth import request_actor
from tenants.api.base import AdminAPIView, StorefrontAPIView, validated
from tenants.api.views import OWNER_OR_ADMIN

THEME_SCOPES = {
    "GET": "catalog:read",
    "PATCH": "catalog:write",
    "PUT": "catalog:write",
    "DELETE": "catalog:write",
}
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
SLOT_PARAMETER = OpenApiParameter(
    "slot", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(services.IMAGE_SLOTS)
)
KIND_PARAMETER = OpenApiParameter(
    "kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=ContentPage.Kind.values
)


class ImageBodyParser(BaseParser):
    """The request body as bytes: a theme image sent as itself (image/png, image/jpeg, ...)."""

    media_type = "image/*"

    # Returns the bytes themselves, not the mapping DRF parsers usually give: request.data is the image.
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> bytes:  # type: ignore[override]
        data = stream.read(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) if stream is not None else b""
        if not data:
            raise ParseError("Send the image as the request body.")
        return bytes(data)


def _theme_output(theme: Any) -> dict[str, Any]:
    return s.ThemeOutput(theme, context={"pages": selectors.content_pages()}).data


def _slot(slot: str) -> str:
    if slot not in services.IMAGE_SLOTS:
        raise ThemeInvalid(f"No theme image called {slot!r}; use one of {', '.join(services.IMAGE_SLOTS)}.")
    return slot


def _kind(kind: str) -> str:
    if kind not in ContentPage.Kind.values:
        raise PageNotFound(f"No page kind {kind!r}; use one of {', '.join(ContentPage.Kind.values)}.")
    return kind


class ThemeAdminView(AdminAPIView):
    member_roles = OWNER_OR_ADMIN
    required_scopes = THEME_SCOPES


class AdminThemeView(ThemeAdminView):
    @extend_schema(
        responses=s.ThemeOutput, operation_id="admin_theme_retrieve", summary="The storefront's theme"
    )
    def get(self, request: Request) -> Response:
        return Response(_theme_output(selectors.theme_current()))

    @extend_schema(
        request=s.ThemeInput,
        responses=s.ThemeOutput,
        operation_id="admin_theme_update",
        summary="Change the theme's colours, font and words",
    )
    def patch(self, request: Request) -> Response:
        data = validated(s.ThemeInput, request.data)
        theme = services.theme_update(actor=request_actor(request), **data)
        return Response(_theme_output(theme))


class AdminThemeImageView(ThemeAdminView):
    parser_classes = [ImageBodyParser]

    @extend_schema(
        request={content_type: OpenApiTypes.BINARY for content_type in IMAGE_TYPES},
        responses=s.ThemeOutput,
        parameters=[SLOT_PARAMETER],
        operation_id="admin_theme_image_set",
        summary="Set the logo or the hero image",
        description="The image itself is the body (PNG, JPEG, WebP or GIF, up to the request size limit). "
        "It is checked and stored as WebP: the logo within 600 × 240 pixels, the hero at several widths.",
    )
    def put(self, request: Request, slot: str) -> Response:
        slot = _slot(slot)
        data = request.data
        if not isinstance(data, bytes):
            raise ParseError("Send the image as the request body.")
        theme = services.theme_image_set(actor=request_actor(request), slot=slot, data=data)
        return Response(_theme_output(theme))

    @extend_schema(
        responses={204: None},
        parameters=[SLOT_PARAMETER],
        operation_id="admin_theme_image_remove",
        summary="Remove the logo or the hero image",
    )
    def delete(self, request: Request, slot: str) -> Response:
        services.theme_image_remove(actor=request_actor(request), slot=_slot(slot))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AdminContentPageListView(ThemeAdminView):
    pagination_class = None  # six kinds at most

    @extend_schema(
        responses=s.ContentPageOutput(many=True),
        operation_id="admin_pages_list",
        summary="The shop's content pages",
    )
    def get(self, request: Request) -> Response:
        return Response(s.ContentPageOutput(selectors.content_pages(), many=True).data)


class AdminContentPageView(ThemeAdminView):
    @extend_schema(
        responses=s.ContentPageOutput,
        parameters=[KIND_PARAMETER],
        operation_id="admin_pages_retrieve",
        summary="A content page",
    )
    def get(self, request: Request, kind: str) -> Response:
        return Response(s.ContentPageOutput(selectors.access_content_page_by_kind(kind=_kind(kind))).data)

    @extend_schema(
        request=s.ContentPageInput,
        responses=s.ContentPageOutput,
        parameters=[KIND_PARAMETER],
        operation_id="admin_pages_save",
        summary="Write a content page (creates or replaces it)",
    )
    def put(self, request: Request, kind: str) -> Response:
        data = validated(s.ContentPageInput, request.data)  # a body nothing can store: 400 first
        kind = _kind(kind)
        page = services.content_page_save(actor=request_actor(request), kind=kind, **data)
        return Response(s.ContentPageOutput(page).data)

    @extend_schema(
        responses={204: None},
        parameters=[KIND_PARAMETER],
        operation_id="admin_pages_delete",
        summary="Take a content page off the storefront",
    )
    def delete(self, request: Request, kind: str) -> Response:
        page = selectors.access_content_page_by_kind(kind=_kind(kind))
        services.content_page_delete(actor=request_actor(request), page=page)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StorefrontThemeView(StorefrontAPIView):
    @extend_schema(
        responses=s.ThemeOutput,
        operation_id="storefront_theme",
        summary="The shop's theme and the pages its footer links to",
    )
    def get(self, request: Request) -> Response:
        return Response(_theme_output(selectors.theme_current()))


class StorefrontContentPageView(StorefrontAPIView):
    @extend_schema(
        responses=s.ContentPageOutput,
        parameters=[KIND_PARAMETER],
        operation_id="storefront_pages_retrieve",
        summary="A content page of the shop (about, shipping, returns, privacy, terms, contact)",
    )
    def get(self, request: Request, kind: str) -> Response:
        return Response(s.ContentPageOutput(selectors.access_content_page_by_kind(kind=_kind(kind))).data)
