"""Catalog endpoints: the Admin API (merchants, integrators) and the Storefront API (shoppers)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from billing.api.schema import PLAN_LIMIT
from catalog import inventory, selectors, services
from catalog.api import serializers as s
from catalog.errors import CatalogNotFound
from catalog.models import Category
from catalog.price_history import MAX_DAYS, price_history_read
from tenants.api.auth import request_actor
from tenants.api.base import AdminAPIView, shop_context, validated
from tenants.audit.selectors import audit_entries
from tenants.conventions.fields import ordering_parameter
from tenants.conventions.pagination import SortedCursorPage
from tenants.models import Membership

CATALOG_READ_WRITE = {
    "GET": "catalog:read",
    "POST": "catalog:write",
    "PATCH": "catalog:write",
    "DELETE": "catalog:write",
}


def _category_or_none(category_id: int | None, *, field: str = "category") -> Category | None:
    if category_id is None:
        return None
    try:
        return selectors.access_category_by_id(category_id=category_id)
    except CatalogNotFound:
        raise ValidationError({field: ["Unknown category."]}) from None


class CatalogAdminView(AdminAPIView):
    required_scopes = CATALOG_READ_WRITE

    def output(self, serializer_class: type, instance: Any, **kwargs: Any) -> Any:
        return serializer_class(instance, context=shop_context(self.request), **kwargs).data

    def valid(self, serializer_class: type, data: Any) -> dict[str, Any]:
        return validated(serializer_class, data, context=shop_context(self.request))


# --- Categories --------------------------------------------------------------------


class AdminCategoryListView(CatalogAdminView):
    serializer_class = s.CategoryOutput

    @extend_schema(
        responses=s.CategoryOutput(many=True), operation_id="admin_categories_list", summary="List categories"
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.categories_for_admin()) or []
        return self.get_paginated_response(self.output(s.CategoryOutput, page, many=True))

    @extend_schema(
        request=s.CategoryInput,
        responses={201: s.CategoryOutput},
        operation_id="admin_categories_create",
        summary="Create a category",
    )
    def post(self, request: Request) -> Response:
        data = self.valid(s.CategoryInput, request.data)
        parent = _category_or_none(data.pop("parent"))
        category = services.category_create(actor=request_actor(request), parent=parent, **data)
        return Response(self.output(s.CategoryOutput, category), status=status.HTTP_201_CREATED)


class AdminCategoryDetailView(CatalogAdminView):
    @extend_schema(
        responses=s.CategoryOutput, operation_id="admin_categories_retrieve", summary="Get a category"
    )
    def get(self, request: Request, category_id: int) -> Response:
        return Response(
            self.output(s.CategoryOutput, selectors.access_category_by_id(category_id=category_id))
        )

    @extend_schema(
        request=s.CategoryUpdateInput,
        responses=s.CategoryOutput,
        operation_id="admin_categories_update",
        summary="Change a category (moving it moves its subtree)",
    )
    def patch(self, request: Request, category_id: int) -> Response:
        category = selectors.access_category_by_id(category_id=category_id)
        data = self.valid(s.CategoryUpdateInput, request.data)
        if "parent" in data:
            data["parent"] = _category_or_none(data["parent"])
        category = services.category_update(actor=request_actor(request), category=category, **data)
        return Response(self.output(s.CategoryOutput, category))

    @extend_schema(
        responses={204: None},
        operation_id="admin_categories_delete",
        summary="Delete a category (its products move to `reassign_to`, or lose their category)",
        parameters=[
            OpenApiParameter(
                "reassign_to",
                OpenApiTypes.INT,
                description="Move the category's products here; their attributes must fit its schema.",
            )
        ],
    )
    def delete(self, request: Request, category_id: int) -> Response:
        category = selectors.access_category_by_id(category_id=category_id)
        query = self.valid(s.CategoryDeleteQuery, request.query_params)
        target = query.get("reassign_to")
        reassign_to = _category_or_none(target, field="reassign_to") if target is not None else None
        services.category_delete(actor=request_actor(request), category=category, reassign_to=reassign_to)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AdminCategoryReorderView(CatalogAdminView):
    pagination_class = None  # answers the whole reordered level, not a page

    @extend_schema(
        request=s.CategoryReorderInput,
        responses=s.CategoryOutput(many=True),
        operation_id="admin_categories_reorder",
        summary="Put the subcategories of a parent in a new order",
        description="`order` names every subcategory of `parent` (top-level categories when null) once; "
        "their positions become 0, 1, 2… in that order. Move a category elsewhere with a PATCH of its "
        "`parent`.",
    )
    def post(self, request: Request) -> Response:
        data = self.valid(s.CategoryReorderInput, request.data)
        parent = _category_or_none(data["parent"], field="parent")
        ordered = services.categories_reorder(
            actor=request_actor(request), parent=parent, order=data["order"]
        )
        return Response(self.output(s.CategoryOutput, ordered, many=True))


# --- Products ----------------------------------------------------------------------


class AdminProductListView(CatalogAdminView):
    serializer_class = s.ProductOutput
    pagination_class = SortedCursorPage

    @extend_schema(
        responses=s.ProductOutput(many=True),
        operation_id="admin_products_list",
        summary="List products",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=["draft", "active", "archived"]),
            OpenApiParameter("category", OpenApiTypes.INT),
            OpenApiParameter("q", OpenApiTypes.STR, description="Title contains, or exact SKU."),
            OpenApiParameter("tag", OpenApiTypes.STR, description="Products with this tag (exact)."),
            OpenApiParameter("vendor", OpenApiTypes.STR, description="Products of this vendor (exact)."),
            ordering_parameter(selectors.PRODUCT_ORDERINGS, default=s.PRODUCT_ORDERING_DEFAULT),
        ],
    )
    def get(self, request: Request) -> Response:
        query = self.valid(s.AdminProductQuery, request.query_params)
        page = self.paginate_queryset(selectors.products_for_admin(**query)) or []
        return self.get_paginated_response(self.output(s.ProductOutput, page, many=True))

    @extend_schema(
        request=s.ProductInput,
        responses={201: s.ProductOutput, 402: PLAN_LIMIT},
        operation_id="admin_products_create",
        summary="Create a product with its variants",
    )
    def post(self, request: Request) -> Response:
        data = self.valid(s.ProductInput, request.data)
        category = _category_or_none(data.pop("category"))
        variants = [services.VariantSpec(**spec) for spec in data.pop("variants")]
        product = services.product_create(
            actor=request_actor(request), category=category, variants=variants, **data
        )
        product = selectors.access_product_by_id(product_id=product.pk)
        return Response(self.output(s.ProductOutput, product), status=status.HTTP_201_CREATED)


class AdminProductDetailView(CatalogAdminView):
    @extend_schema(responses=s.ProductOutput, operation_id="admin_products_retrieve", summary="Get a product")
    def get(self, request: Request, product_id: int) -> Response:
        return Response(self.output(s.ProductOutput, selectors.access_product_by_id(product_id=product_id)))

    @extend_schema(
        request=s.ProductUpdateInput,
        responses=s.ProductOutput,
        operation_id="admin_products_update",
        summary="Change a product",
    )
    def patch(self, request: Request, product_id: int) -> Response:
        product = selectors.access_product_by_id(product_id=product_id)
        data = self.valid(s.ProductUpdateInput, request.data)
        if "category" in data:
            data["category"] = _category_or_none(data["category"])
        services.product_update(actor=request_actor(request), product=product, **data)
        return Response(self.output(s.ProductOutput, selectors.access_product_by_id(product_id=product_id)))

    @extend_schema(
        responses={204: None},
        operation_id="admin_products_delete",
        summary="Delete a product, its variants and images",
    )
    def delete(self, request: Request, product_id: int) -> Response:
        product = selectors.access_product_by_id(product_id=product_id)
        services.product_delete(actor=request_actor(request), product=product)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AdminPriceHistoryView(CatalogAdminView):
    @extend_schema(
        responses=s.PriceHistoryOutput,
        operation_id="admin_products_price_history",
        summary="A product's daily prices per variant (lowest, highest, closing)",
        parameters=[
            OpenApiParameter("variant", OpenApiTypes.INT, description="Only this variant of the product."),
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                description="On or after this day (UTC); by default 89 days before `to`.",
            ),
            OpenApiParameter(
                "to",
                OpenApiTypes.DATE,
                description=f"On or before this day (UTC); by default today. At most {MAX_DAYS} days in all.",
            ),
        ],
    )
    def get(self, request: Request, product_id: int) -> Response:
        product = selectors.access_product_by_id(product_id=product_id)
        query = validated(s.PriceHistoryQuery, request.query_params)
        variants = product.variants.all()
        if "variant" in query:
            variants = variants.filter(
                pk=selectors.access_variant_by_id(product_id=product.pk, variant_id=query["variant"]).pk
            )
        history = price_history_read(variants=variants, day_from=query["day_from"], day_to=query["day_to"])
        body = {
            "product": product.pk,
            "date_from": query["day_from"],
            "date_to": query["day_to"],
            "variants": history,
        }
        return Response(self.output(s.PriceHistoryOutput, body))


class AdminVariantListView(CatalogAdminView):
    pagination_class = None  # a product has at most a hundred variants

    @extend_schema(
        responses=s.VariantOutput(many=True),
        operation_id="admin_variants_list",
        summary="List a product's variants",
    )
    def get(self, request: Request, product_id: int) -> Response:
        product = selectors.access_product_by_id(product_id=product_id)
        return Response(self.output(s.VariantOutput, product.variants.all(), many=True))

    @extend_schema(
        request=s.VariantInput,
        responses={201: s.VariantOutput},
        operation_id="admin_variants_create",
        summary="Add a variant",
    )
    def post(self, request: Request, product_id: int) -> Response:
        product = selectors.access_product_by_id(product_id=product_id)
        spec = services.VariantSpec(**self.valid(s.VariantInput, request.data))
        variant = services.variant_create(actor=request_actor(request), product=product, spec=spec)
        return Response(self.output(s.VariantOutput, variant), status=status.HTTP_201_CREATED)


class AdminVariantDetailView(CatalogAdminView):
    @extend_schema(responses=s.VariantOutput, operation_id="admin_variants_retrieve", summary="Get a variant")
    def get(self, request: Request, product_id: int, variant_id: int) -> Response:
        variant = selectors.access_variant_by_id(product_id=product_id, variant_id=variant_id)
        return Response(self.output(s.VariantOutput, variant))

    @extend_schema(
        request=s.VariantUpdateInput,
        responses=s.VariantOutput,
        operation_id="admin_variants_update",
        summary="Change a variant's price, stock, SKU or options",
    )
    def patch(self, request: Request, product_id: int, variant_id: int) -> Response:
        variant = selectors.access_variant_by_id(product_id=product_id, variant_id=variant_id)
        data = self.valid(s.VariantUpdateInput, request.data)
        variant = services.variant_update(actor=request_actor(request), variant=variant, **data)
        return Response(self.output(s.VariantOutput, variant))

    @extend_schema(responses={204: None}, operation_id="admin_variants_delete", summary="Delete a variant")
    def delete(self, request: Request, product_id: int, variant_id: int) -> Response:
        variant = selectors.access_variant_by_id(product_id=product_id, variant_id=variant_id)
        services.variant_delete(actor=request_actor(request), variant=variant)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Inventory and audit -------------------------------------------------------------


class AdminInventoryView(CatalogAdminView):
    serializer_class = s.InventoryItemOutput

    @extend_schema(
        responses=s.InventoryItemOutput(many=True),
        operation_id="admin_inventory_list",
        summary="Stock per variant",
        parameters=[
            OpenApiParameter("low_stock", OpenApiTypes.BOOL, description="Only at or below the threshold.")
        ],
    )
    def get(self, request: Request) -> Response:
        query = self.valid(s.InventoryQuery, request.query_params)
        page = self.paginate_queryset(selectors.inventory_for_admin(**query)) or []
        return self.get_paginated_response(self.output(s.InventoryItemOutput, page, many=True))


class AdminInventoryAdjustmentView(CatalogAdminView):
    serializer_class = s.InventoryAdjustmentOutput

    @extend_schema(
        responses=s.InventoryAdjustmentOutput(many=True),
        operation_id="admin_inventory_adjustments_list",
        summary="The stock ledger",
        parameters=[OpenApiParameter("variant", OpenApiTypes.INT)],
    )
    def get(self, request: Request) -> Response:
        query = self.valid(s.AdjustmentQuery, request.query_params)
        page = self.paginate_queryset(selectors.inventory_adjustments(variant_id=query.get("variant"))) or []
        return self.get_paginated_response(self.output(s.InventoryAdjustmentOutput, page, many=True))

    @extend_schema(
        request=s.InventoryAdjustmentInput,
        responses={201: s.InventoryAdjustmentOutput},
        operation_id="admin_inventory_adjust",
        summary="Adjust a variant's stock with a reason",
    )
    def post(self, request: Request) -> Response:
        data = self.valid(s.InventoryAdjustmentInput, request.data)
        try:
            variant = selectors.access_variant_by_id_anywhere(variant_id=data.pop("variant"))
        except CatalogNotFound:
            raise ValidationError({"variant": ["Unknown variant."]}) from None
        adjustment = inventory.inventory_adjust(actor=request_actor(request), variant=variant, **data)
        return Response(self.output(s.InventoryAdjustmentOutput, adjustment), status=status.HTTP_201_CREATED)


class AdminAuditLogView(AdminAPIView):
    member_roles = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN})
    serializer_class = s.AuditEntryOutput

    @extend_schema(
        responses=s.AuditEntryOutput(many=True),
        operation_id="admin_audit_log",
        summary="Who changed what, when (owners and admins)",
        parameters=[
            OpenApiParameter("object_type", OpenApiTypes.STR),
            OpenApiParameter("object_id", OpenApiTypes.INT),
            OpenApiParameter(
                "actor", OpenApiTypes.STR, description="Part of the actor: an e-mail, a key's name."
            ),
            OpenApiParameter(
                "action",
                OpenApiTypes.STR,
                description="An action (`product.created`), or a family ending in a dot (`product.`).",
            ),
            OpenApiParameter("from", OpenApiTypes.DATE, description="On or after this day (UTC)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="On or before this day (UTC)."),
        ],
    )
    def get(self, request: Request) -> Response:
        query = validated(s.AuditQuery, request.query_params)
        page = self.paginate_queryset(audit_entries(**query)) or []
        return self.get_paginated_response(s.AuditEntryOutput(page, many=True).data)
