"""
Storefront catalog endpoints (anonymous), served from the per-shop response cache.
On a miss, product pages are assembled by one SQL statement from the products'
pre-rendered JSON (catalog.rendering) when it is current, else through the
serializers; both give the same answer.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import rendering, selectors
from catalog.api import serializers as s
from catalog.errors import CatalogNotFound
from tenants.api.base import StorefrontAPIView, shop_context, shop_currency
from tenants.conventions.pagination import (
    INVALID_CURSOR,
    PAGE_SIZE,
    CursorWindow,
    ParsedCursorPage,
    cursor_parse,
    cursor_text,
    page_size_parse,
)
from tenants.http import request_shop

# The list's orderings: each is unique (the product id breaks ties), as cursor pages need.
ORDERINGS = {
    "price": ("min_price", "product_id"),
    "-price": ("-min_price", "-product_id"),
    "-created": ("-product_created_at", "-product_id"),
    "relevance": ("-relevance", "-product_id"),
}
# Largest price position a cursor may carry (prices stop at 999,999,999.999).
_MAX_PRICE_POSITION = Decimal("1e12")


def _json_response(body: bytes) -> HttpResponse:
    return HttpResponse(body, content_type="application/json")


def _position(field: str, raw: str) -> Any:
    """A cursor's position, typed for its field; a forged one is a 400, never a database error."""
    try:
        if field == "min_price":
            price = Decimal(raw)
            if price.is_finite() and abs(price) < _MAX_PRICE_POSITION:
                return price
        elif field == "product_created_at":
            return datetime.fromisoformat(raw)
        elif field == "relevance":
            rank = float(raw)
            if math.isfinite(rank):
                return rank
    except (ArithmeticError, ValueError):  # decimal.InvalidOperation and Overflow among them
        pass
    raise ValidationError({"cursor": [INVALID_CURSOR]})


@dataclass(frozen=True)
class StorefrontListParams:
    """
    The product list's query, validated and with its defaults filled in. The view
    runs exactly this, and the response cache keys the answer by exactly this
    (`canonical()`), so the two cannot disagree: parameters the list does not know
    are not in it, and two spellings of one request (`limit=20` or none, `10` or
    `10.00`, any order) are one entry.
    """

    q: str
    category: str
    min_price: Decimal | None
    max_price: Decimal | None
    in_stock: bool | None
    ordering: str
    limit: int
    cursor: Cursor | None

    def canonical(self, *, cursor: bool = True) -> str:
        """The query string that means this: fixed order, defaults left out, every value escaped."""
        pairs: list[tuple[str, str]] = []
        if self.q:
            pairs.append(("q", self.q))
        if self.category:
            pairs.append(("category", self.category))
        for name, amount in (("min_price", self.min_price), ("max_price", self.max_price)):
            if amount is not None:
                pairs.append((name, f"{amount.normalize():f}"))
        if self.in_stock is not None:
            pairs.append(("in_stock", "true" if self.in_stock else "false"))
        if self.ordering != ("relevance" if self.q else "-created"):
            pairs.append(("ordering", self.ordering))
        if self.limit != PAGE_SIZE:
            pairs.append(("limit", str(self.limit)))
        if cursor and self.cursor is not None:
            pairs.append(("cursor", cursor_text(self.cursor)))
        return urlencode(pairs, quote_via=quote, safe="")


def storefront_list_params(query: QueryDict, *, currency: str) -> StorefrontListParams:
    """Validate the product list's query (a 400 problem if it is bad); ignore parameters it does not know."""
    # A plain dict: as a QueryDict DRF would read it as an HTML form (`in_stock=null` as false).
    serializer = s.StorefrontListQuery(data=query.dict(), context={"currency": currency})
    serializer.is_valid(raise_exception=True)
    data: dict[str, Any] = serializer.validated_data
    q = data.get("q") or ""
    ordering = data.get("ordering") or ("relevance" if q else "-created")
    if ordering == "relevance" and not q:
        raise ValidationError({"ordering": ["Ordering by relevance needs a search (q)."]})
    return StorefrontListParams(
        q=q,
        category=data.get("category") or "",
        min_price=data.get("min_price"),
        max_price=data.get("max_price"),
        in_stock=data.get("in_stock"),
        ordering=ordering,
        limit=page_size_parse(query.get("limit")),
        cursor=cursor_parse(query.get("cursor")),
    )


def storefront_list_cache_query(request: HttpRequest) -> str | None:
    """The product list's part of its cache key (see StorefrontListParams); None when the query is bad."""
    return _canonical_query(request.META.get("QUERY_STRING", ""), request_shop(request).currency)


@functools.lru_cache(maxsize=4096)
def _canonical_query(query_string: str, currency: str) -> str | None:
    """
    storefront_list_params(...).canonical() of a raw query string, remembered per
    process for the 4,096 most recent: DRF's validation cost more CPU than the
    whole rest of a cached answer, and shoppers ask for the same URLs again.
    """
    try:
        return storefront_list_params(QueryDict(query_string), currency=currency).canonical()
    except ValidationError:
        return None


class StorefrontCategoriesView(StorefrontAPIView):
    pagination_class = None  # the whole tree, at once

    @extend_schema(
        responses=s.StorefrontCategoryOutput(many=True),
        operation_id="storefront_categories",
        summary="The category tree",
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.categories_tree())


class StorefrontProductListView(StorefrontAPIView):
    serializer_class = s.StorefrontProductOutput

    @extend_schema(
        responses=s.StorefrontProductPageOutput,
        operation_id="storefront_products_list",
        summary="Active products, searchable and filterable, with facet counts",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Full-text search (web search syntax)."),
            OpenApiParameter(
                "category", OpenApiTypes.STR, description="Category slug; includes subcategories."
            ),
            OpenApiParameter("min_price", OpenApiTypes.STR, description='Decimal string, e.g. "10.00".'),
            OpenApiParameter("max_price", OpenApiTypes.STR),
            OpenApiParameter("in_stock", OpenApiTypes.BOOL),
            OpenApiParameter("ordering", OpenApiTypes.STR, enum=["price", "-price", "-created", "relevance"]),
            # The page's own cursor (the list is paginated by hand, so spectacular cannot see it).
            OpenApiParameter("cursor", OpenApiTypes.STR, description="The cursor of a page, from `next`."),
            OpenApiParameter("limit", OpenApiTypes.INT, description="Page size (default 20, at most 100)."),
        ],
    )
    def get(self, request: Request) -> HttpResponse:
        params = storefront_list_params(request.query_params, currency=shop_currency(request))
        query = params.canonical(cursor=False)
        paginator = ParsedCursorPage(
            ordering=ORDERINGS[params.ordering],
            page_size=params.limit,
            cursor=params.cursor,
            link=f"{request.path}?{query}" if query else request.path,
        )
        if settings.STOREFRONT_RENDERED_PAGES:
            body = self._rendered_page(request, params, paginator)
            if body is not None:
                return _json_response(body)
        return self._serialized_page(request, params, paginator)

    def _rendered_page(
        self, request: Request, params: StorefrontListParams, paginator: ParsedCursorPage
    ) -> bytes | None:
        """The page from the products' renderings (one statement), or None if one is not current."""
        key = rendering.rendering_key(shop_currency(request))
        read: list[selectors.RenderedPage] = []

        def fetch(window: CursorWindow) -> list[selectors.RenderedRow]:
            after = window.after
            if after is not None:
                after = (after[0], after[1], _position(after[0], after[2]))
            page = selectors.storefront_page_rendered(
                q=params.q or None,
                category_slug=params.category or None,
                min_price=params.min_price,
                max_price=params.max_price,
                in_stock=params.in_stock,
                order_by=window.order_by,
                after=after,
                offset=window.offset,
                limit=window.limit,
                rendering_key=key,
                max_age=rendering.rendering_max_age(),
            )
            read.append(page)
            return page.rows

        rows = paginator.paginate_window(request, fetch)
        if not read[0].category_known:
            raise ValidationError({"category": ["Unknown category."]})
        shown = [row for row in rows if row.shown]
        if not all(row.current for row in shown):
            rendering.storefront_renderings_renew_soon()
            return None
        results = ",".join(row.body for row in shown)
        next_link = json.dumps(paginator.get_next_link())
        previous_link = json.dumps(paginator.get_previous_link())
        return (
            f'{{"results":[{results}],"next":{next_link},"previous":{previous_link},'
            f'"facets":{read[0].facets}}}'
        ).encode()

    def _serialized_page(
        self, request: Request, params: StorefrontListParams, paginator: ParsedCursorPage
    ) -> Response:
        """The plain form: the documents' page through the ORM, each product through its serializer."""
        category = None
        if params.category:
            try:
                category = selectors.access_category_by_slug(slug=params.category)
            except CatalogNotFound:
                raise ValidationError({"category": ["Unknown category."]}) from None
        filters = selectors.StorefrontFilter(
            q=params.q or None,
            category=category,
            min_price=params.min_price,
            max_price=params.max_price,
            in_stock=params.in_stock,
        )
        documents = selectors.storefront_documents(filters)
        page = paginator.paginate_queryset(documents, request, view=self)
        products = selectors.storefront_products_by_ids([doc.product_id for doc in page])
        context = shop_context(request)
        results = [
            s.StorefrontProductOutput(products[doc.product_id], context=context).data
            for doc in page
            if doc.product_id in products
        ]
        return Response(
            {
                "results": results,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "facets": selectors.storefront_facets(documents),
            }
        )


class StorefrontProductDetailView(StorefrontAPIView):
    @extend_schema(
        responses=s.StorefrontProductOutput,
        operation_id="storefront_products_retrieve",
        summary="One active product with variants, images and attributes",
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        if settings.STOREFRONT_RENDERED_PAGES:
            body = selectors.storefront_product_rendered(
                slug=slug,
                rendering_key=rendering.rendering_key(shop_currency(request)),
                max_age=rendering.rendering_max_age(),
            )
            if body is not None:
                return _json_response(body.encode())
        product = selectors.access_storefront_product_by_slug(slug=slug)
        if settings.STOREFRONT_RENDERED_PAGES:  # on sale, but its rendering is missing or stale
            rendering.storefront_renderings_renew_soon()
        return Response(s.StorefrontProductOutput(product, context=shop_context(request)).data)
