"""Cursor pagination for every list: `?limit=` (default 20, 1 to 100) and `?cursor=`."""

from __future__ import annotations

import re
from typing import Any

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

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
        # Refused, not capped: a client asking for 500 should learn it gets at most 100.
        if not LIMIT_PATTERN.match(raw) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({"limit": [f"Must be an integer between 1 and {self.max_page_size}."]})
        return int(raw)

    def decode_cursor(self, request: Request) -> Cursor | None:
        raw = request.query_params.get(self.cursor_query_param)
        # DRF's base64 decoding skips stray characters, so junk can decode to "the
        # first page"; a cursor must be what `next`/`previous` handed out.
        if raw and not CURSOR_PATTERN.match(raw):
            raise ValidationError({"cursor": [INVALID_CURSOR]})
        try:
            return super().decode_cursor(request)
        except NotFound:
            # DRF answers a tampered cursor with 404; it is bad input, not a missing page.
            raise ValidationError({"cursor": [INVALID_CURSOR]}) from None

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # OpenAPI 3.1 spells "or null" as a type array (DRF's own schema says `nullable`).
        def link(direction: str, end: str, cursor: str) -> dict[str, Any]:
            return {
                "type": ["string", "null"],
                "format": "uri",
                "description": f"The {direction} page's URL, or null on the {end} page.",
                "examples": [f"https://demo.storefleet.dev/api/admin/v1/products?cursor={cursor}"],
            }

        return {
            "type": "object",
            "required": ["results", "next", "previous"],
            "properties": {
                "next": link("next", "last", "cD0yMDI2LTEyLTAx"),
                "previous": link("previous", "first", "cj0xJnA9MjAyNi0xMi0wMQ%3D%3D"),
                "results": schema,
            },
        }
