"""Cursor pagination for every list: `?limit=` (default 20, max 100) and `?cursor=`."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Field, QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination, _reverse_ordering
from rest_framework.request import Request
from rest_framework.views import APIView

CURSOR_PATTERN = re.compile(r"^[A-Za-z0-9+/=]+$")
# ASCII digits only: str.isdigit() also accepts "²" and "①", which int() refuses.
LIMIT_PATTERN = re.compile(r"^[0-9]{1,6}$")
INVALID_CURSOR = "This cursor is invalid or has expired."


@dataclass(frozen=True)
class CursorWindow:
    """What a cursor asks for: rows in `order_by` past `after` (field, "<" or ">", position)."""

    order_by: tuple[str, ...]
    after: tuple[str, str, str] | None
    offset: int
    limit: int


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
        # paginate_window's caller types the position for its own statement.
        queryset = getattr(self, "_queryset", None)
        if queryset is not None and cursor is not None and cursor.position is not None:
            self._position_check(queryset, str(cursor.position))
        return cursor

    def _position_check(self, queryset: QuerySet[Any], position: str) -> None:
        """
        Refuse a position the list's first ordering column cannot hold.

        DRF filters by the position as it came (`id__lt="abc"`), so a hand-made
        cursor made the query itself fail: a 500 on every list.
        """
        field = _ordering_field(queryset, self.ordering[0].lstrip("-"))
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

    def paginate_window(self, request: Request, fetch: Callable[[CursorWindow], Sequence[Any]]) -> list[Any]:
        """
        Paginate rows that `fetch` reads itself (for a page read in one SQL statement
        of its own) exactly as paginate_queryset paginates a queryset in
        `self.ordering`: same cursors, same positions, same links. Rows are
        objects or dicts carrying the ordering's fields.
        """
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.cursor = self.decode_cursor(request)
        offset, reverse, current_position = self.cursor or (0, False, None)
        ordering = tuple(self.ordering)
        after = None
        if current_position is not None:
            first = ordering[0]
            # The same test as paginate_queryset's: (cursor reversed) XOR (ordering descending).
            op = "<" if reverse != first.startswith("-") else ">"
            after = (first.lstrip("-"), op, str(current_position))
        order_by = tuple(_reverse_ordering(ordering)) if reverse else ordering
        results = list(fetch(CursorWindow(order_by, after, offset, self.page_size + 1)))
        self.page = results[: self.page_size]
        following = (
            self._get_position_from_instance(results[-1], ordering) if len(results) > len(self.page) else None
        )
        if reverse:
            self.page.reverse()
            self.has_next = current_position is not None or offset > 0
            self.has_previous = following is not None
            self.next_position = current_position  # type: ignore[assignment]  # the stubs' Cursor says int; a str
            self.previous_position = following
        else:
            self.has_next = following is not None
            self.has_previous = current_position is not None or offset > 0
            self.next_position = following
            self.previous_position = current_position  # type: ignore[assignment]
        return self.page


def _ordering_field(queryset: QuerySet[Any], name: str) -> Field[Any, Any]:
    """The model field or annotation a list is ordered by."""
    annotation = queryset.query.annotations.get(name)
    if annotation is not None:
        return annotation.output_field  # type: ignore[no-any-return]
    return queryset.model._meta.get_field(name)  # type: ignore[return-value]
