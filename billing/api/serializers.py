from __future__ import annotations

from typing import Any

from rest_framework import serializers

from billing.models import Invoice, InvoiceLine, Plan
from tenants.conventions.fields import StrictCharField
from tenants.conventions.money import MoneyField
from tenants.money import Money


class PlanLimitsOutput(serializers.Serializer):
    max_products = serializers.IntegerField()
    max_orders_per_month = serializers.IntegerField()
    max_staff_seats = serializers.IntegerField(help_text="Memberships, owners included.")
    max_storage_bytes = serializers.IntegerField(help_text="Bytes of uploaded product images.")
    api_requests_per_minute = serializers.IntegerField(help_text="Admin API requests a minute, per shop.")
    storefront_requests_per_minute = serializers.IntegerField(
        help_text="Storefront API requests a minute, per client address and shop."
    )


class PlanOverageOutput(serializers.Serializer):
    included_orders_per_month = serializers.IntegerField()
    per_order = MoneyField(help_text="Charged for each order beyond the included ones.")
    included_api_calls_per_month = serializers.IntegerField()
    per_1000_api_calls = MoneyField(help_text="Charged for each started 1,000 Admin API calls beyond those.")


class PlanOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    price = MoneyField(help_text="The monthly fee.")
    limits = PlanLimitsOutput()
    overage = PlanOverageOutput()


def plan_payload(plan: Plan) -> dict[str, Any]:
    return {
        "code": plan.code,
        "name": plan.name,
        "price": plan.price,
        "limits": {name: getattr(plan, name) for name in PlanLimitsOutput._declared_fields},
        "overage": {
            "included_orders_per_month": plan.included_orders_per_month,
            "per_order": Money(plan.order_overage_amount, plan.currency),
            "included_api_calls_per_month": plan.included_api_calls_per_month,
            "per_1000_api_calls": Money(plan.api_calls_overage_amount, plan.currency),
        },
    }


class SubscriptionInput(serializers.Serializer):
    plan = StrictCharField(max_length=40, help_text="The code of the plan to move to (see `plans`).")


class PeriodOutput(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(help_text="Exclusive: the next period's start.")


class SubscriptionOutput(serializers.Serializer):
    plan = PlanOutput()
    started_at = serializers.DateTimeField()
    plan_changed_at = serializers.DateTimeField()
    current_period = PeriodOutput()


class MeteredOutput(serializers.Serializer):
    used = serializers.IntegerField()
    limit = serializers.IntegerField(help_text="What the plan allows; creating more is refused with 402.")


class OrdersUsageOutput(MeteredOutput):
    included = serializers.IntegerField(
        help_text="Orders the monthly fee covers; more are billed as overage."
    )


class ApiCallsUsageOutput(serializers.Serializer):
    used = serializers.IntegerField(
        allow_null=True, help_text="Admin API calls this period; null while the counter is unreachable."
    )
    included = serializers.IntegerField(help_text="Calls the monthly fee covers; more are billed as overage.")
    limit_per_minute = serializers.IntegerField(help_text="The plan's Admin API rate limit.")


class UsageOutput(serializers.Serializer):
    plan = serializers.CharField(help_text="The code of the shop's plan.")
    period = PeriodOutput()
    products = MeteredOutput()
    orders = OrdersUsageOutput(help_text="Orders placed this period.")
    staff_seats = MeteredOutput()
    storage_bytes = MeteredOutput()
    api_calls = ApiCallsUsageOutput()


class InvoiceLineOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=InvoiceLine.Kind.choices)
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = MoneyField()
    amount = MoneyField()


class InvoiceOutput(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=Invoice.Status.choices)
    period = serializers.CharField(help_text="The billed month, YYYY-MM.")
    plan = serializers.CharField(help_text="The code of the plan charged.")
    total = MoneyField()
    issued_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    voided_at = serializers.DateTimeField(allow_null=True)
    lines = InvoiceLineOutput(many=True)


class UpcomingUsageOutput(serializers.Serializer):
    orders = serializers.IntegerField()
    api_calls = serializers.IntegerField()


class UpcomingInvoiceOutput(serializers.Serializer):
    period = serializers.CharField(help_text="The running month, YYYY-MM.")
    plan = serializers.CharField()
    total = MoneyField(help_text="So far: usage keeps counting until the period ends.")
    lines = InvoiceLineOutput(many=True)
    usage = UpcomingUsageOutput()
