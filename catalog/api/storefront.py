"""
Storefront catalog endpoints (anonymous), served from the per-shop response cache.
On a miss, product pages are assembled by one SQL statement from the products'
pre-rendered JSON (catalog.rendering) when it is current, else through the
serializers; both give the same answer.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import rendering, selectors
from catalog.api import serializers as s
from catalog.errors import CatalogNotFound
from tenants.api.base import StorefrontAPIView, shop_context, shop_currency
from tenants.conventions.pagination import INVALID_CURSOR, CursorWindow

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
        query = s.StorefrontListQuery(data=request.query_params, context=shop_context(request))  # type: ignore[attr-defined]
        query.is_valid(raise_exception=True)
        params = query.validated_data
        q = params.get("q") or None
        ordering = params.get("ordering") or ("relevance" if q else "-created")
        self.paginator.ordering = ORDERINGS[ordering]  # type: ignore[union-attr]
        if settings.STOREFRONT_RENDERED_PAGES and (q or ordering != "relevance"):
            body = self._rendered_page(request, params, q)
            if body is not None:
                return _json_response(body)
        return self._serialized_page(request, params, q, ordering)

    def _rendered_page(self, request: Request, params: dict[str, Any], q: str | None) -> bytes | None:
        """The page from the products' renderings (one statement), or None if one is not current."""
        paginator = self.paginator
        key = rendering.rendering_key(shop_currency(request))
        read: list[selectors.RenderedPage] = []

        def fetch(window: CursorWindow) -> list[selectors.RenderedRow]:
            after = window.after
            if after is not None:
                after = (after[0], after[1], _position(after[0], after[2]))
            page = selectors.storefront_page_rendered(
                q=q,
                category_slug=params.get("category"),
                min_price=params.get("min_price"),
                max_price=params.get("max_price"),
                in_stock=params.get("in_stock"),
                order_by=window.order_by,
                after=after,
                offset=window.offset,
                limit=window.limit,
                rendering_key=key,
                max_age=rendering.rendering_max_age(),
            )
            read.append(page)
            return page.rows

        rows = paginator.paginate_window(request, fetch)  # type: ignore[union-attr]
        if not read[0].category_known:
            raise ValidationError({"category": ["Unknown category."]})
        shown = [row for row in rows if row.shown]
        if not all(row.current for row in shown):
            rendering.storefront_renderings_renew_soon()
            return None
        results = ",".join(row.body for row in shown)  # type: ignore[misc]
        next_link = json.dumps(paginator.get_next_link())  # type: ignore[union-attr]
        previous_link = json.dumps(paginator.get_previous_link())  # type: ignore[union-attr]
        return (
            f'{{"results":[{results}],"next":{next_link},"previous":{previous_link},'
            f'"facets":{read[0].facets}}}'
        ).encode()

    def _serialized_page(
        self, request: Request, params: dict[str, Any], q: str | None, ordering: str
    ) -> Response:
        """The plain form: the documents' page through the ORM, each product through its serializer."""
        category = None
        if params.get("category"):
            try:
                category = selectors.access_category_by_slug(slug=params["category"])
            except CatalogNotFound:
                raise ValidationError({"category": ["Unknown category."]}) from None
        filters = selectors.StorefrontFilter(
            q=q,
            category=category,
            min_price=params.get("min_price"),
            max_price=params.get("max_price"),
            in_stock=params.get("in_stock"),
        )
        if ordering == "relevance" and not filters.q:
            raise ValidationError({"ordering": ["Ordering by relevance needs a search (q)."]})
        documents = selectors.storefront_documents(filters)
        paginator = self.paginator
        page = paginator.paginate_queryset(documents, request, view=self) or []  # type: ignore[union-attr]
        products = selectors.storefront_products_by_ids([doc.product_id for doc in page])
        context = shop_context(request)  # type: ignore[attr-defined]
        results = [
            s.StorefrontProductOutput(products[doc.product_id], context=context).data
            for doc in page
            if doc.product_id in products
        ]
        return Response(
            {
                "results": results,
                "next": paginator.get_next_link(),  # type: ignore[union-attr]
                "previous": paginator.get_previous_link(),  # type: ignore[union-attr]
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
        return Response(s.StorefrontProductOutput(product, context=shop_context(request)).data)  # type: ignore[attr-defined]
