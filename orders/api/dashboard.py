"""The admin dashboard: today's figures and the to-dos, with the moment they were read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from orders.dashboard import dashboard_read
from tenants.api.base import AdminAPIView, shop_context, shop_currency
from tenants.conventions.money import ShopMoneyField


class TodayOutput(serializers.Serializer):
    date = serializers.DateField(help_text="Today (UTC).")
    orders_placed = serializers.IntegerField(help_text="Orders placed today, paid or not.")
    orders_paid = serializers.IntegerField(help_text="Orders paid today (in the shop's currency).")
    revenue = ShopMoneyField(help_text="What the orders paid today came to, less their refunds.")
    visitors = serializers.IntegerField(
        allow_null=True, help_text="Storefront visitors: not tracked by the platform, so always null."
    )


class TodoOutput(serializers.Serializer):
    unfulfilled_orders = serializers.IntegerField(help_text="Paid orders waiting to be fulfilled.")
    low_stock_variants = serializers.IntegerField(help_text="Variants at or below their low-stock threshold.")
    failed_webhooks = serializers.IntegerField(
        help_text="Webhook deliveries failing or dead, changed within the last 7 days."
    )


class DashboardOutput(serializers.Serializer):
    as_of = serializers.DateTimeField(help_text="When these figures were read: they are live to this moment.")
    today = TodayOutput()
    todo = TodoOutput()
    sales_report_as_of = serializers.DateTimeField(
        allow_null=True,
        help_text="When the sales report (`reports/sales`), which workers keep, was last refreshed.",
    )


class AdminDashboardView(AdminAPIView):
    required_scopes = {"GET": "orders:read"}

    @extend_schema(
        responses=DashboardOutput,
        operation_id="admin_dashboard",
        summary="Today's figures and the to-dos",
        description="Counted from the orders, stock and webhook deliveries when asked (`as_of`), unlike the "
        "sales report, which trails the orders by the few seconds its workers take "
        "(`sales_report_as_of`). Money is in the shop's currency; orders placed in another are not added in.",
    )
    def get(self, request: Request) -> Response:
        figures = dashboard_read(currency=shop_currency(request))
        payload = {
            "as_of": figures.as_of,
            "today": {
                "date": figures.day,
                "orders_placed": figures.orders_placed,
                "orders_paid": figures.orders_paid,
                "revenue": figures.revenue,
                "visitors": None,
            },
            "todo": {
                "unfulfilled_orders": figures.unfulfilled_orders,
                "low_stock_variants": figures.low_stock_variants,
                "failed_webhooks": figures.failed_webhooks,
            },
            "sales_report_as_of": figures.sales_report_as_of,
        }
        response = Response(DashboardOutput(payload, context=shop_context(request)).data)
        response["Cache-Control"] = "no-store"
        return response
