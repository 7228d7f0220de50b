from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import selectors
from catalog.api.serializers import ProductOutput
from tenants.api.base import AdminAPIView


class AdminProductListView(AdminAPIView):
    required_scopes = {"GET": "catalog:read"}
    serializer_class = ProductOutput

    @extend_schema(
        responses=ProductOutput(many=True),
        operation_id="admin_products_list",
        summary="List products",
        description="The shop's products, newest first (API keys need `catalog:read`).",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.products_for_admin()) or []
        return self.get_paginated_response(ProductOutput(page, many=True).data)
