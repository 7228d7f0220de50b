"""The shop directory (platform host, anonymous): listed shops near a point."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from tenants import selectors
from tenants.api import serializers as s
from tenants.api.base import MethodFirstAPIView
from tenants.conventions.pagination import (
    INVALID_CURSOR,
    CursorPage,
    CursorWindow,
    cursor_parse,
    page_size_parse,
)
from tenants.conventions.parsers import UNSTORABLE_CHARACTER

# Plain decimal degrees: no exponent, no NaN or Infinity, nothing huge, before any float().
NEAR_PATTERN = re.compile(r"^(-?[0-9]{1,3}(?:\.[0-9]{1,10})?),(-?[0-9]{1,3}(?:\.[0-9]{1,10})?)$")
RADIUS_PATTERN = re.compile(r"^[0-9]{1,4}(?:\.[0-9]{1,3})?$")
CATEGORY_PATTERN = re.compile(s.DIRECTORY_CATEGORY)
DEFAULT_RADIUS_KM = 25.0
MAX_RADIUS_KM = 2000.0
MAX_QUERY_LENGTH = 100
# Half the earth's circumference on the sphere PostGIS measures on, rounded up:
# no distance between two points is larger, so no cursor's position can be.
MAX_DISTANCE_M = 20_016_000.0


@dataclass(frozen=True)
class DirectoryQuery:
    latitude: float
    longitude: float
    radius_km: float
    q: str
    category: str


def directory_query_parse(params: QueryDict) -> DirectoryQuery:
    """The directory's query, checked: every refusal is a 400 naming its parameter."""
    errors: dict[str, list[str]] = {}
    near = params.get("near")
    latitude = longitude = 0.0
    match = NEAR_PATTERN.match(near or "")
    if near is None:
        errors["near"] = ["Required: the point to search around, as `latitude,longitude`."]
    elif match is None:
        errors["near"] = ["Must be `latitude,longitude` in decimal degrees, e.g. `48.8566,2.3522`."]
    else:
        latitude, longitude = float(match[1]), float(match[2])
        if not -90 <= latitude <= 90:
            errors["near"] = ["The latitude must be between -90 and 90."]
        elif not -180 <= longitude <= 180:
            errors["near"] = ["The longitude must be between -180 and 180."]
    radius_km = DEFAULT_RADIUS_KM
    raw_radius = params.get("radius_km")
    if raw_radius is not None:
        if not RADIUS_PATTERN.match(raw_radius) or not 0 < float(raw_radius) <= MAX_RADIUS_KM:
            errors["radius_km"] = [f"Must be a number of kilometres above 0 and at most {MAX_RADIUS_KM:g}."]
        else:
            radius_km = float(raw_radius)
    q = params.get("q", "").strip()
    if UNSTORABLE_CHARACTER.search(q):
        errors["q"] = ["Must not contain NUL characters or lone surrogates."]
    elif len(q) > MAX_QUERY_LENGTH:
        errors["q"] = [f"At most {MAX_QUERY_LENGTH} characters."]
    category = params.get("category", "")
    if category and not CATEGORY_PATTERN.match(category):
        errors["category"] = [s.DIRECTORY_CATEGORY_HELP]
    # The page asked for is checked here too, so one answer names every bad parameter.
    try:
        page_size_parse(params.get("limit"))
    except ValidationError as refused:
        errors.update(refused.detail)  # type: ignore[arg-type]
    try:
        cursor = cursor_parse(params.get("cursor"))
        if cursor is not None and cursor.position is not None:
            _distance_position(str(cursor.position))
    except ValidationError as refused:
        errors.update(refused.detail)  # type: ignore[arg-type]
    if errors:
        raise ValidationError(errors)
    return DirectoryQuery(latitude, longitude, radius_km, q, category)


def _distance_position(raw: str) -> float:
    """A cursor's position (metres); a forged one is a 400, never a database error."""
    try:
        distance = float(raw)
    except ValueError:
        distance = math.nan
    if not 0 <= distance <= MAX_DISTANCE_M:  # NaN fails both
        raise ValidationError({"cursor": [INVALID_CURSOR]})
    return distance


class DirectoryPage(CursorPage):
    # Nearest first; equally near shops in the order they joined (a stable page boundary).
    ordering = ("distance_m", "shop_id")  # type: ignore[assignment]


class DirectoryShopListView(MethodFirstAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    pagination_class = DirectoryPage
    serializer_class = s.DirectoryShopOutput

    @extend_schema(
        responses=s.DirectoryShopOutput(many=True),
        auth=[],
        operation_id="directory_shops_list",
        summary="Shops near a point",
        description="Listed shops within `radius_km` of `near`, nearest first, each with its distance. "
        "Anyone may ask; shops opt in through `PATCH shops/{slug}` with `directory.listed`.",
        parameters=[
            OpenApiParameter(
                "near",
                OpenApiTypes.STR,
                required=True,
                description="`latitude,longitude` in decimal degrees, e.g. `48.8566,2.3522`.",
            ),
            OpenApiParameter(
                "radius_km",
                OpenApiTypes.NUMBER,
                description=f"Search radius in km, above 0, at most {MAX_RADIUS_KM:g} "
                f"(default {DEFAULT_RADIUS_KM:g}).",
            ),
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                description="Words in the shop's name or description (at most 100 characters).",
            ),
            OpenApiParameter("category", OpenApiTypes.STR, description="Only shops in this category."),
        ],
    )
    def get(self, request: Request) -> Response:
        query = directory_query_parse(request.query_params)
        paginator = self.paginator
        assert isinstance(paginator, DirectoryPage)

        def fetch(window: CursorWindow) -> list[selectors.DirectoryShop]:
            after = None
            if window.after is not None:
                field, op, raw = window.after
                after = (field, op, _distance_position(raw))
            return selectors.directory_nearby(
                latitude=query.latitude,
                longitude=query.longitude,
                radius_m=query.radius_km * 1000,
                q=query.q or None,
                category=query.category or None,
                order_by=window.order_by,
                after=after,
                offset=window.offset,
                limit=window.limit,
            )

        page = paginator.paginate_window(request, fetch)
        results: list[dict[str, Any]] = [
            {**shop.__dict__, "distance_km": round(shop.distance_m / 1000, 3)} for shop in page
        ]
        return paginator.get_paginated_response(s.DirectoryShopOutput(results, many=True).data)
