"""Cursor pagination for every list: `?limit=` (default 20, 1 to 100) and `?cursor=`."""

from __future__ import annotations

import math
import re
from base64 import b64decode, b64encode
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib import parse

from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Field, Q, QuerySet
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor, CursorPagination, _reverse_ordering
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

CURSOR_PATTERN = re.compile(r"^[A-Za-z0-9+/=]+$")
CURSOR_MAX_LENGTH = 500
# ASCII digits only: str.isdigit() also accepts "²" and "①", which int() refuses.
LIMIT_PATTERN = re.compile(r"^[0-9]{1,6}$")
INVALID_CURSOR = "This cursor is invalid or has expired."
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# DRF's guard against cursors that ask the database to skip ever more rows.
OFFSET_CUTOFF = 1000


def page_size_parse(raw: str | None) -> int:
    """The page size `?limit=` asks for: 1 to 100, 20 without it."""
    if raw is None:
        return PAGE_SIZE
    # Refused, not capped: a client asking for 500 should learn it gets at most 100.
    if not LIMIT_PATTERN.match(raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise ValidationError({"limit": [f"Must be an integer between 1 and {MAX_PAGE_SIZE}."]})
    return int(raw)


def cursor_parse(raw: str | None) -> Cursor | None:
    """
    The position `?cursor=` points at, or None for the first page. A cursor must be
    what `next`/`previous` handed out: DRF's base64 decoding skips stray characters,
    so junk could decode to "the first page", and DRF answers a tampered cursor with
    404, though it is bad input, not a missing page.
    """
    if raw is None:
        return None
    if len(raw) > CURSOR_MAX_LENGTH or not CURSOR_PATTERN.match(raw):
        raise ValidationError({"cursor": [INVALID_CURSOR]})
    try:
        tokens = parse.parse_qs(b64decode(raw.encode("ascii")).decode("ascii"), keep_blank_values=True)
        offset = int(tokens.get("o", ["0"])[0])
        reverse = bool(int(tokens.get("r", ["0"])[0]))
    except (TypeError, ValueError):  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ValidationError({"cursor": [INVALID_CURSOR]}) from None
    if offset < 0:
        raise ValidationError({"cursor": [INVALID_CURSOR]})
    position = tokens.get("p", [None])[0]
    # DRF's stubs type the position as an int; DRF keeps it as the text the cursor carried.
    return Cursor(offset=min(offset, OFFSET_CUTOFF), reverse=reverse, position=position)  # type: ignore[arg-type]


def cursor_text(cursor: Cursor) -> str:
    """A cursor as `?cursor=` carries it (DRF's encoding): equal cursors, equal texts."""
    tokens = {}
    if cursor.offset != 0:
        tokens["o"] = str(cursor.offset)
    if cursor.reverse:
        tokens["r"] = "1"
    if cursor.position is not None:
        tokens["p"] = str(cursor.position)
    return b64encode(parse.urlencode(tokens).encode("ascii")).decode("ascii")


@dataclass(frozen=True)
class CursorWindow:
    """What a cursor asks for: rows in `order_by` past `after` (field, "<" or ">", position)."""

    order_by: tuple[str, ...]
    after: tuple[str, str, str] | None
    offset: int
    limit: int


class CursorPage(CursorPagination):
    page_size = PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "limit"
    offset_cutoff = OFFSET_CUTOFF
    ordering = "-id"

    def get_page_size(self, request: Request) -> int:
        return page_size_parse(request.query_params.get(self.page_size_query_param))

    def paginate_queryset(
        self,
        queryset: QuerySet[Any],
        request: Request,
        view: APIView | None = None,
    ) -> list[Any] | None:
        self._queryset = queryset  # decode_cursor checks the cursor's position against its ordering
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Cursor | None:
        return self._position_checked(cursor_parse(request.query_params.get(self.cursor_query_param)))

    def _position_checked(self, cursor: Cursor | None) -> Cursor | None:
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
        position_value(_ordering_field(queryset, self.ordering[0].lstrip("-")), position)

    def _links_base(self, request: Request) -> str:
        """The URL `next` and `previous` are built on."""
        return request.build_absolute_uri()

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

    def paginate_window(self, request: Request, fetch: Callable[[CursorWindow], Sequence[Any]]) -> list[Any]:
        """
        Paginate rows that `fetch` reads itself (for a page read in one SQL statement
        of its own) exactly as paginate_queryset paginates a queryset in
        `self.ordering`: same cursors, same positions, same links. Rows are
        objects or dicts carrying the ordering's fields.
        """
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = self._links_base(request)
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


class ParsedCursorPage(CursorPage):
    """
    A page of a list whose query was parsed already (its page size and cursor are
    given), linking to its neighbours by relative references built from that parsed
    query (`/api/storefront/v1/products?cursor=...&q=cup`). Nothing of the request's
    Host, port, scheme or unknown parameters gets into the links, so one cached body
    is right for every shopper on every host of the shop.
    """

    def __init__(
        self, *, ordering: tuple[str, ...], page_size: int, cursor: Cursor | None, link: str
    ) -> None:
        self.ordering = ordering  # type: ignore[assignment]  # DRF takes a field or a tuple of fields
        self._page_size = page_size
        self._cursor = cursor
        self._link = link

    def get_page_size(self, request: Request) -> int:
        return self._page_size

    def decode_cursor(self, request: Request) -> Cursor | None:
        return self._position_checked(self._cursor)

    def _links_base(self, request: Request) -> str:
        return self._link

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any]:
        page = super().paginate_queryset(queryset, request, view) or []
        self.base_url = self._link  # read by get_next_link and get_previous_link
        return page


def position_value(field: Field[Any, Any], position: str) -> Any:
    """The value a cursor's position stands for in `field`; a 400 for one the column cannot hold."""
    try:
        if "\x00" in position:
            raise DjangoValidationError("NUL")
        value = field.to_python(position)
        if isinstance(value, float) and not math.isfinite(value):
            raise DjangoValidationError("not a finite number")
        field.run_validators(value)
    except (DjangoValidationError, ValueError, TypeError, OverflowError):
        raise ValidationError({"cursor": [INVALID_CURSOR]}) from None
    return value


def _ordering_field(queryset: QuerySet[Any], name: str) -> Field[Any, Any]:
    """The model field or annotation a list is ordered by."""
    annotation = queryset.query.annotations.get(name)
    if annotation is not None:
        return annotation.output_field
    return queryset.model._meta.get_field(name)


SORTED_CURSOR_MAX_LENGTH = 6000  # a position may be a long title: 255 emoji, percent-encoded, in base64
OTHER_ORDERING = "This cursor belongs to another ordering; start again from the first page."
ID_PATTERN = re.compile(r"^[0-9]{1,18}$")


class SortedCursorPage(CursorPage):
    """
    Pages of a list the client sorts (`?ordering=`): the queryset comes ordered by
    one column and then its id, in the same direction, and a cursor holds the
    last row's (value, id), so ties on the column (many orders share a status)
    neither repeat nor skip rows, however many there are (DRF's cursors count
    ties with an offset they cap). A cursor names the ordering it was made for:
    used with another it is a 400, not a page of some other list.
    """

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = self._links_base(request)
        order = [str(item) for item in queryset.query.order_by]
        if len(order) != 2 or order[1].lstrip("-") not in ("id", "pk"):
            raise ImproperlyConfigured(f"SortedCursorPage needs (column, id) ordering, not {order}.")
        self._tag = ",".join(order)
        name, descending = order[0].lstrip("-"), order[0].startswith("-")
        cursor = self._sorted_cursor(request.query_params.get(self.cursor_query_param), queryset, name)
        rows = queryset
        backwards = False
        if cursor is not None:
            value, pk, backwards = cursor
            op = "lt" if descending != backwards else "gt"
            rows = rows.filter(Q(**{f"{name}__{op}": value}) | Q(**{name: value, f"pk__{op}": pk}))
        if backwards:
            rows = rows.order_by(*_reverse_ordering(tuple(order)))
        fetched = list(rows[: self.page_size + 1])
        page = fetched[: self.page_size]
        more = len(fetched) > len(page)
        if backwards:
            page.reverse()
        self.page = self._rows = page
        self._name = name
        # Forwards: a next page if more rows came; a previous one if we came from a cursor.
        self._next = bool(page) and (more if not backwards else True)
        self._previous = bool(page) and (cursor is not None if not backwards else more)
        # Stepping back past the start of a list whose rows were deleted: offer its first page.
        self._restart = not page and backwards
        return page

    def _sorted_cursor(
        self, raw: str | None, queryset: QuerySet[Any], name: str
    ) -> tuple[Any, int, bool] | None:
        if raw is None:
            return None
        if len(raw) > SORTED_CURSOR_MAX_LENGTH or not CURSOR_PATTERN.match(raw):
            raise ValidationError({"cursor": [INVALID_CURSOR]})
        try:
            tokens = parse.parse_qs(b64decode(raw.encode("ascii")).decode("ascii"), keep_blank_values=True)
            tag, position, pk = tokens["k"][0], tokens["p"][0], tokens["i"][0]
            backwards = bool(int(tokens.get("r", ["0"])[0]))
        except (KeyError, IndexError, TypeError, ValueError):
            raise ValidationError({"cursor": [INVALID_CURSOR]}) from None
        if tag != self._tag:
            raise ValidationError({"cursor": [OTHER_ORDERING]})
        if not ID_PATTERN.match(pk) or int(pk) >= 2**63:
            raise ValidationError({"cursor": [INVALID_CURSOR]})
        value = position_value(_ordering_field(queryset, name), position)
        if isinstance(value, datetime) and timezone.is_naive(value):
            value = timezone.make_aware(value, UTC)
        return value, int(pk), backwards

    def _sorted_link(self, row: Any, *, backwards: bool) -> str:
        tokens = {"k": self._tag, "p": str(getattr(row, self._name)), "i": str(row.pk)}
        if backwards:
            tokens["r"] = "1"
        encoded = b64encode(parse.urlencode(tokens).encode("ascii")).decode("ascii")
        return replace_query_param(str(self.base_url), self.cursor_query_param, encoded)

    def get_next_link(self) -> str | None:
        if self._restart:
            return remove_query_param(str(self.base_url), self.cursor_query_param)
        return self._sorted_link(self._rows[-1], backwards=False) if self._next else None

    def get_previous_link(self) -> str | None:
        return self._sorted_link(self._rows[0], backwards=True) if self._previous else None
