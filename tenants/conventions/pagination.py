"""Cursor pagination for every list: `?limit=` (default 20, max 100) and `?cursor=`."""

from __future__ import annotations

import math
import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Field, QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.views import APIView

CURSOR_PATTERN = re.compile(r"^[A-Za-z0-9+/=]+$")
# ASCII digits only: str.isdigit() also accepts "²" and "①", which int() refuses.
LIMIT_PATTERN = re.compile(r"^[0-9]{1,6}$")
INVALID_CURSOR = "This cursor is invalid or has expired."


class CursorPage(CursorPagination):
    page_size = 20
    max_page_size = 100
    page_size_query_param = "limit"
    ordering = "-id"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not LIMIT_PATTERN.match(raw) or int(raw) < 1:
            raise ValidationError({"limit": [f"Must be an integer between 1 and {self.max_page_size}."]})
        return min(int(raw), self.max_page_size)

    def paginate_queryset(
        self,
        queryset: QuerySet[Any],
        request: Request,
        view: APIView | None = None,
    ) -> list[Any] | None:
        self._queryset = queryset  # decode_cursor checks the cursor's position against its ordering
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Cursor | None:
        raw = request.query_params.get(self.cursor_query_param)
        # DRF's base64 decoding skips stray characters, so junk can decode to "the
        # first page"; a cursor must be what `next`/`previous` handed out.
        if raw and not CURSOR_PATTERN.match(raw):
            raise ValidationError({"cursor": [INVALID_CURSOR]})
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            # DRF answers a tampered cursor with 404; it is bad input, not a missing page.
            raise ValidationError({"cursor": [INVALID_CURSOR]}) from None
        if cursor is not None and cursor.position is not None:
            self._position_check(str(cursor.position))
        return cursor

    def _position_check(self, position: str) -> None:
        """
        Refuse a position the list's first ordering column cannot hold.

        DRF filters by the position as it came (`id__lt="abc"`), so a hand-made
        cursor made the query itself fail: a 500 on every list.
        """
        field = _ordering_field(self._queryset, self.ordering[0].lstrip("-"))
        try:
            if "\x00" in position:
                raise DjangoValidationError("NUL")
            value = field.to_python(position)
            if isinstance(value, float) and not math.isfinite(value):
                raise DjangoValidationError("not a finite number")
            field.run_validators(value)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise ValidationError({"cursor": [INVALID_CURSOR]}) from None

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response_schema = super().get_paginated_response_schema(schema)
        response_schema["required"] = ["results", "next", "previous"]
        return response_schema


def _ordering_field(queryset: QuerySet[Any], name: str) -> Field[Any, Any]:
    """The model field or annotation a list is ordered by."""
    annotation = queryset.query.annotations.get(name)
    if annotation is not None:
        return annotation.output_field  # type: ignore[no-any-return]
    return queryset.model._meta.get_field(name)  # type: ignore[return-value]
