"""Admin API: the order CSV export (a worker job, as the product export; catalog.bulk)."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import bulk
from catalog.api.bulk import ExportOutput
from catalog.models import CsvExport
from orders.tasks import order_export_run
from tenants.api.auth import request_actor
from tenants.api.base import AdminAPIView, validated


class OrderExportInput(serializers.Serializer):
    from_ = serializers.DateField(required=False, help_text="Orders placed on or after this day (UTC).")
    to = serializers.DateField(required=False, help_text="Orders placed on or before this day (UTC).")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise ValidationError({"to": ["Must not be before `from`."]})
        return attrs


class AdminOrderExportView(AdminAPIView):
    required_scopes = {"GET": "orders:read", "POST": "orders:read"}  # GET: for OPTIONS

    @extend_schema(
        request=OrderExportInput,
        responses={202: ExportOutput},
        operation_id="admin_orders_export",
        summary="Export orders as a CSV file",
        description=(
            "Orders placed between `from` and `to` (UTC days, both included; either may be left out), one "
            "row per order line as Shopify's order export has them. A worker writes the file; poll "
            "`GET order-exports/{id}` for its link."
        ),
    )
    def post(self, request: Request) -> Response:
        data = validated(OrderExportInput, request.data)
        filters = {name: data[name].isoformat() for name in ("from", "to") if data.get(name)}
        export = bulk.csv_export_request(
            actor=request_actor(request),
            kind=CsvExport.Kind.ORDERS,
            task=order_export_run.delay,
            filters=filters,
        )
        return Response(ExportOutput(export).data, status=status.HTTP_202_ACCEPTED)


class AdminOrderExportDetailView(AdminAPIView):
    required_scopes = {"GET": "orders:read"}

    @extend_schema(
        responses=ExportOutput,
        operation_id="admin_order_exports_retrieve",
        summary="An order export's status and link",
    )
    def get(self, request: Request, export_id: uuid.UUID) -> Response:
        export = bulk.access_export_by_id(export_id=export_id, kind=CsvExport.Kind.ORDERS)
        return Response(ExportOutput(export).data)
