"""Storefront catalog endpoints (anonymous), served from the per-shop response cache."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import selectors
from catalog.api import serializers as s
from catalog.errors import CatalogNotFound
from tenants.api.base import StorefrontAPIView, shop_context


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
    def get(self, request: Request) -> Response:
        query = s.StorefrontListQuery(data=request.query_params.dict(), context=shop_context(request))  # type: ignore[attr-defined]
        query.is_valid(raise_exception=True)
        params = query.validated_data
        category = None
        if params.get("category"):
            try:
                category = selectors.access_category_by_slug(slug=params["category"])
            except CatalogNotFound:
                raise ValidationError({"category": ["Unknown category."]}) from None
        filters = selectors.StorefrontFilter(
            q=params.get("q") or None,
            category=category,
            min_price=params.get("min_price"),
            max_price=params.get("max_price"),
            in_stock=params.get("in_stock"),
        )
        ordering = params.get("ordering") or ("relevance" if filters.q else "-created")
        if ordering == "relevance" and not filters.q:
            raise ValidationError({"ordering": ["Ordering by relevance needs a search (q)."]})
        documents = selectors.storefront_documents(filters)
        paginator = self.paginator
        paginator.ordering = {  # type: ignore[union-attr]
            "price": ("min_price", "product_id"),
            "-price": ("-min_price", "-product_id"),
            "-created": ("-product_created_at", "-product_id"),
            "relevance": ("-relevance", "-product_id"),
        }[ordering]
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
    def get(self, request: Request, slug: str) -> Response:
        product = selectors.access_storefront_product_by_slug(slug=slug)
        return Response(s.StorefrontProductOutput(product, context=shop_context(request)).data)  # type: ignore[attr-defined]
