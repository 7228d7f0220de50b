"""Admin API for bulk work: product CSV import and export (worker jobs with progress), bulk edit."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from billing.api.schema import PLAN_LIMIT
from catalog import bulk
from catalog.models import CsvExport, Product, ProductImport
from catalog.tasks import product_export_run
from tenants.api.auth import request_actor
from tenants.api.base import AdminAPIView, shop_context, validated
from tenants.conventions.csvfiles import CsvTooLarge
from tenants.conventions.money import AmountInputField

# --- Serializers -------------------------------------------------------------------


class ProgressOutput(serializers.Serializer):
    phase = serializers.CharField(help_text="pending, checking, checked, writing, done or failed.")
    done = serializers.IntegerField(help_text="Rows handled so far.")
    total = serializers.IntegerField()
    percent = serializers.IntegerField(min_value=0, max_value=100)


class RowErrorOutput(serializers.Serializer):
    line = serializers.IntegerField(
        allow_null=True, help_text="The file's line (the header is line 1); null: the whole file."
    )
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ImportOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ProductImport.Status.choices)
    dry_run = serializers.BooleanField()
    filename = serializers.CharField()
    rows_total = serializers.IntegerField()
    progress = serializers.SerializerMethodField()
    products_created = serializers.IntegerField(help_text="Written, or (dry run) that would be.")
    products_updated = serializers.IntegerField()
    variants_created = serializers.IntegerField()
    variants_updated = serializers.IntegerField()
    # DRF's metaclass takes declared fields off the class, so `errors` does not hide Serializer.errors.
    errors = RowErrorOutput(
        many=True,
        help_text="Every refused row (at most 1000); any error means nothing was written.",  # type: ignore[assignment]
    )
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(ProgressOutput)
    def get_progress(self, job: ProductImport) -> dict[str, Any]:
        return bulk.job_progress(job)


class ExportOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=CsvExport.Kind.choices)
    status = serializers.ChoiceField(choices=CsvExport.Status.choices)
    filters = serializers.DictField(child=serializers.CharField())
    rows_total = serializers.IntegerField()
    progress = serializers.SerializerMethodField()
    size = serializers.IntegerField(allow_null=True)
    download_url = serializers.SerializerMethodField(
        help_text=(
            "A private link to the CSV file, valid for an hour; null until done. "
            "Read the export again for a new one."
        )
    )
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(ProgressOutput)
    def get_progress(self, export: CsvExport) -> dict[str, Any]:
        return bulk.job_progress(export)

    def get_download_url(self, export: CsvExport) -> str | None:
        return bulk.export_download_url(export)


class ImportInput(serializers.Serializer):
    file = serializers.FileField(
        help_text="A product CSV (Shopify's product columns; docs/bulk-data.md), UTF-8.",
        max_length=255,
        allow_empty_file=True,
    )
    dry_run = serializers.BooleanField(default=False, help_text="Check every row and report, write nothing.")


class BulkEditInput(serializers.Serializer):
    products = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62),
        min_length=1,
        max_length=bulk.BULK_EDIT_MAX_PRODUCTS,
        help_text="The selected products' ids.",
    )
    status = serializers.ChoiceField(choices=Product.Status.choices, required=False)
    price = AmountInputField(required=False, help_text="Set every variant's price.")
    price_change_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=-100,
        max_value=1000,
        required=False,
        help_text='Change every variant\'s price by this percentage ("-10" takes 10 % off).',
    )
    stock = serializers.IntegerField(
        min_value=0, max_value=10_000_000, required=False, help_text="Set every variant's stock."
    )
    stock_delta = serializers.IntegerField(
        min_value=-10_000_000,
        max_value=10_000_000,
        required=False,
        help_text="Add to (or take from) every variant's stock.",
    )


class BulkEditOutput(serializers.Serializer):
    products = serializers.ListField(child=serializers.IntegerField())


# --- Views -------------------------------------------------------------------------


class AdminProductImportView(AdminAPIView):
    required_scopes = {"GET": "catalog:read", "POST": "catalog:write"}  # GET: for OPTIONS
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ImportInput},
        responses={202: ImportOutput, 402: PLAN_LIMIT},
        operation_id="admin_products_import",
        summary="Import products from a CSV file",
        description=(
            "Upload a product CSV (multipart, field `file`; Shopify's product columns). "
            "A file that cannot be "
            "read at all (size, rows, encoding, NUL, header) is refused at once; otherwise a worker checks "
            "every row and, unless `dry_run` or any row is refused, writes the whole file in one transaction "
            "(all or nothing). Poll `GET imports/{id}` or follow the live stream for progress."
        ),
    )
    def post(self, request: Request) -> Response:
        data = validated(ImportInput, request.data)
        upload = data["file"]
        if upload.size > settings.PRODUCT_IMPORT_MAX_BYTES:
            raise CsvTooLarge(
                f"The file has {upload.size} bytes; at most {settings.PRODUCT_IMPORT_MAX_BYTES} are accepted."
            )
        job = bulk.product_import_request(
            actor=request_actor(request),
            filename=upload.name or "products.csv",
            data=upload.read(),
            dry_run=data["dry_run"],
        )
        return Response(ImportOutput(job).data, status=status.HTTP_202_ACCEPTED)


class AdminImportDetailView(AdminAPIView):
    required_scopes = {"GET": "catalog:read"}

    @extend_schema(
        responses=ImportOutput,
        operation_id="admin_imports_retrieve",
        summary="An import's status, progress and row errors",
    )
    def get(self, request: Request, import_id: uuid.UUID) -> Response:
        return Response(ImportOutput(bulk.access_import_by_id(import_id=import_id)).data)


class AdminProductExportView(AdminAPIView):
    required_scopes = {"GET": "catalog:read", "POST": "catalog:read"}  # GET: for OPTIONS

    @extend_schema(
        request=None,
        responses={202: ExportOutput},
        operation_id="admin_products_export",
        summary="Export every product as a CSV file",
        description=(
            "A worker writes the file (one row a variant, Shopify's product columns); "
            "poll `GET product-exports/{id}` for its link."
        ),
    )
    def post(self, request: Request) -> Response:
        export = bulk.csv_export_request(
            actor=request_actor(request), kind=CsvExport.Kind.PRODUCTS, task=product_export_run.delay
        )
        return Response(ExportOutput(export).data, status=status.HTTP_202_ACCEPTED)


class AdminProductExportDetailView(AdminAPIView):
    required_scopes = {"GET": "catalog:read"}

    @extend_schema(
        responses=ExportOutput,
        operation_id="admin_product_exports_retrieve",
        summary="A product export's status and link",
    )
    def get(self, request: Request, export_id: uuid.UUID) -> Response:
        export = bulk.access_export_by_id(export_id=export_id, kind=CsvExport.Kind.PRODUCTS)
        return Response(ExportOutput(export).data)


class AdminProductBulkEditView(AdminAPIView):
    required_scopes = {"GET": "catalog:read", "POST": "catalog:write"}  # GET: for OPTIONS

    @extend_schema(
        request=BulkEditInput,
        responses={200: BulkEditOutput},
        operation_id="admin_products_bulk_edit",
        summary="Change the status, price or stock of selected products",
        description=(
            "One transaction: every selected product and each of its variants changes, "
            "or (any refusal) none. "
            "Each change is audited and reported (events, webhooks) as a single edit is; stock changes go "
            "through the stock ledger."
        ),
        examples=[
            OpenApiExample(
                "Put on sale", value={"products": [1, 2], "price_change_percent": "-10"}, request_only=True
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = validated(BulkEditInput, request.data, context=shop_context(request))
        products = bulk.products_bulk_edit(
            actor=request_actor(request),
            product_ids=data["products"],
            status=data.get("status"),
            price=data.get("price"),
            price_change_percent=data.get("price_change_percent"),
            stock=data.get("stock"),
            stock_delta=data.get("stock_delta"),
        )
        return Response(BulkEditOutput({"products": [product.pk for product in products]}).data)
