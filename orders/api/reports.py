"""The sales report of the Admin API: daily orders, revenue, average order value and top products."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from orders import reports
from tenants.api.base import AdminAPIView, shop_currency, validated
from tenants.conventions.money import ShopMoneyField
from tenants.money import CURRENCIES

DEFAULT_DAYS = 30
MAX_DAYS = 366
# Far enough back for any shop's history, and every date arithmetic below stays in range.
EARLIEST = dt.date(1970, 1, 1)


class SalesReportQuery(serializers.Serializer):
    """`from` and `to` (inclusive), UTC days; `to` defaults to today and `from` to 29 days before `to`."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # `from` is a Python keyword, so the fields cannot be class attributes.
        return {
            "from": serializers.DateField(required=False, input_formats=["%Y-%m-%d"]),
            "to": serializers.DateField(required=False, input_formats=["%Y-%m-%d"]),
            "currency": serializers.ChoiceField(choices=CURRENCIES, required=False),
        }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # Leave a value out for its default; `?to=` (empty) is not a date, as the document says.
        present = {name: data.get(name) for name in ("from", "to", "currency") if data.get(name) is not None}
        return super().to_internal_value(present)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        for name in ("from", "to"):
            if name in attrs and attrs[name] < EARLIEST:
                errors[name] = [f"Dates start at {EARLIEST.isoformat()}."]
        if errors:
            raise serializers.ValidationError(errors)
        date_to = attrs.get("to") or timezone.now().astimezone(dt.UTC).date()
        date_from = attrs.get("from") or max(EARLIEST, date_to - dt.timedelta(days=DEFAULT_DAYS - 1))
        if date_from > date_to:
            raise serializers.ValidationError({"from": ["Must not be after `to`."]})
        if (date_to - date_from).days + 1 > MAX_DAYS:
            raise serializers.ValidationError({"to": [f"At most {MAX_DAYS} days from `from`."]})
        return {"date_from": date_from, "date_to": date_to, "currency": attrs.get("currency")}


class SalesFiguresOutput(serializers.Serializer):
    orders = serializers.IntegerField(help_text="Orders paid.")
    gross_sales = ShopMoneyField(help_text="What the orders paid came to, before refunds.")
    revenue = ShopMoneyField(help_text="What the orders paid came to, less the refunds made (net revenue).")
    refunds = ShopMoneyField(help_text="Refunds made (of orders paid on any day).")
    average_order_value = ShopMoneyField(
        help_text="`gross_sales` divided by `orders`: before refunds, as `gross_sales` is."
    )
    items_sold = serializers.IntegerField(help_text="Units in the orders paid.")
    discounts = ShopMoneyField(help_text="What discounts took off the orders paid (revenue is net of them).")
    tax = ShopMoneyField(help_text="Tax collected on the orders paid.")
    shipping = ShopMoneyField(help_text="Shipping charged on the orders paid.")


class SalesDayOutput(SalesFiguresOutput):
    date = serializers.DateField()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        return {"date": fields.pop("date"), **fields}


class TopProductOutput(serializers.Serializer):
    product = serializers.IntegerField(source="product_id")
    title = serializers.CharField(help_text="The title it last sold under in the period.")
    quantity = serializers.IntegerField()
    revenue = ShopMoneyField(help_text="Line totals of its units in the orders paid.")


class SalesReportOutput(serializers.Serializer):
    currency = serializers.CharField(help_text="Every amount is in it: the orders placed in this currency.")
    totals = SalesFiguresOutput()
    days = SalesDayOutput(many=True, help_text="Every day of the period, oldest first.")
    top_products = TopProductOutput(many=True, help_text=f"At most {reports.TOP_PRODUCTS}, by revenue.")

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "from": serializers.DateField(source="date_from"),
            "to": serializers.DateField(source="date_to"),
            **super().get_fields(),
        }


class AdminSalesReportView(AdminAPIView):
    required_scopes = {"GET": "orders:read"}

    @extend_schema(
        responses=SalesReportOutput,
        operation_id="admin_reports_sales",
        summary="Daily sales: orders, revenue, average order value, and the top products",
        description=(
            "Days are UTC calendar days, and money counts on the day it moved: an order counts on the day "
            "it was paid (pending orders, and orders cancelled before payment, never count), and a refund "
            "on the day it was made, whichever day its order was paid (cancelling a paid order refunds it "
            "in full). `revenue` is what the orders paid that day came to, less the refunds made that day; "
            "`gross_sales` is what those orders came to before refunds, and `average_order_value` is "
            "`gross_sales` divided by their number (both before refunds, so a refund of an old order never "
            "distorts today's average); "
            "`items_sold` and the top products count the lines of the orders paid; `discounts`, `tax` and "
            "`shipping` are what those orders' discounts took off and the tax and shipping they collected "
            "(their `totals` at checkout). A past day's figures "
            "never change. The figures are kept by workers and trail the orders by a few seconds. The report "
            "counts the orders placed in one currency, the shop's own unless `currency` names another "
            "(orders keep the currency they were placed in when the shop changes its own; amounts in two "
            f"currencies are never added up). At most {MAX_DAYS} days; without `from` and `to`, the last "
            f"{DEFAULT_DAYS} days up to today."
        ),
        parameters=[
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                description=f"First day (default: {DEFAULT_DAYS - 1} days before `to`)",
            ),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (default: today, UTC)"),
            OpenApiParameter(
                "currency",
                OpenApiTypes.STR,
                enum=CURRENCIES,
                description="The orders placed in this currency (default: the shop's currency).",
            ),
        ],
    )
    def get(self, request: Request) -> Response:
        query = validated(SalesReportQuery, request.query_params)
        currency = query["currency"] or shop_currency(request)
        report = reports.sales_report(
            date_from=query["date_from"], date_to=query["date_to"], currency=currency
        )
        body = {
            "date_from": report.date_from,
            "date_to": report.date_to,
            "currency": currency,
            "totals": report.totals,
            "days": report.days,
            "top_products": report.top_products,
        }
        return Response(SalesReportOutput(body, context={"currency": currency}).data)
