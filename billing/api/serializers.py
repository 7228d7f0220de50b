from __future__ import annotations

from typing import Any

from rest_framework import serializers

from billing.models import Plan
from tenants.conventions.money import Money, MoneyField


class PlanLimitsOutput(serializers.Serializer):  # type: ignore[type-arg]
    max_products = serializers.IntegerField()
    max_orders_per_month = serializers.IntegerField()
    max_staff_seats = serializers.IntegerField(help_text="Memberships, owners included.")
    max_storage_bytes = serializers.IntegerField(help_text="Bytes of uploaded product images.")
    api_requests_per_minute = serializers.IntegerField(help_text="Admin API requests a minute, per shop.")
    storefront_requests_per_minute = serializers.IntegerField(
        help_text="Storefront API requests a minute, per client address and shop."
    )


class PlanOverageOutput(serializers.Serializer):  # type: ignore[type-arg]
    included_orders_per_month = serializers.IntegerField()
    per_order = MoneyField(help_text="Charged for each order beyond the included ones.")
    included_api_calls_per_month = serializers.IntegerField()
    per_1000_api_calls = MoneyField(help_text="Charged for each started 1,000 Admin API calls beyond those.")


class PlanOutput(serializers.Serializer):  # type: ignore[type-arg]
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
