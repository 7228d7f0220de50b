"""What a plain OPTIONS request answers, for every view."""

from __future__ import annotations

from typing import Any

from rest_framework.metadata import BaseMetadata
from rest_framework.request import Request


class AllowedMethodsMetadata(BaseMetadata):
    """
    Name the resource's methods (also in the `Allow` header DRF adds) and media types.

    DRF's SimpleMetadata also describes `serializer_class` as the body POST and
    PUT take. Our views validate with small input serializers and keep
    `serializer_class`, where they have one, for their output, so that guess would
    be wrong, and views without one crashed into a 500. The OpenAPI document at
    `/api/schema/` describes every body.
    """

    def determine_metadata(self, request: Request, view: Any) -> dict[str, Any]:
        return {
            "name": view.get_view_name(),
            "methods": list(view.allowed_methods),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
            "documentation": "/api/schema/",
        }
