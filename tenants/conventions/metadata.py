"""What a plain `OPTIONS` request answers (DRF's metadata), on every API view."""

from __future__ import annotations

from typing import Any

from rest_framework.metadata import SimpleMetadata
from rest_framework.request import Request


class ViewMetadata(SimpleMetadata):
    """
    DRF's SimpleMetadata describes the request body of POST and PUT through the
    view's `serializer_class`; our views name their serializers per method in the
    OpenAPI documents instead, and DRF's version answered 500 without one. The
    documents describe the bodies; OPTIONS names the view, its methods and types.
    """

    def determine_actions(self, request: Request, view: Any) -> dict[str, Any]:
        if getattr(view, "serializer_class", None) is None:
            return {}
        return super().determine_actions(request, view)  # type: ignore[no-any-return]
