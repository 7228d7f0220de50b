"""Platform API billing endpoints: plans, a shop's subscription, usage and invoices."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from billing import invoicing, selectors, services
from billing.api import serializers as s
from billing.errors import SubscriptionMissing
from billing.models import Invoice, Subscription
from billing.periods import period_bounds, period_label, period_of
from tenants import selectors as tenant_selectors
from tenants.api.base import PlatformAPIView, validated
from tenants.conventions.pagination import CursorPage
from tenants.errors import NotAllowed
from tenants.http import request_user
from tenants.models import Membership, Shop
from tenants.money import Money

OWNERS = frozenset({Membership.Role.OWNER})
OWNERS_AND_ADMINS = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN})


class PlanPage(CursorPage):
    ordering = "position"


class PlanListView(PlatformAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    pagination_class = PlanPage
    serializer_class = s.PlanOutput

    @extend_schema(
        responses=s.PlanOutput(many=True),
        auth=[],
        operation_id="plans_list",
        summary="List plans",
        description="The plans a shop can be on, cheapest first, with monthly price, limits and overage.",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.plans_list()) or []
        return self.get_paginated_response(s.PlanOutput([s.plan_payload(p) for p in page], many=True).data)


def _shop_for(request: Request, slug: str, roles: frozenset[str] = OWNERS) -> Shop:
    """The caller's shop by slug (404 if they are not a member), if their role is in `roles` (else 403)."""
    shop, membership = tenant_selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
    if membership.role not in roles:
        raise NotAllowed(f"Only the shop's {' and '.join(sorted(roles))}s can see or change its billing.")
    return shop


def _subscription_payload(subscription: Subscription) -> dict[str, Any]:
    start, end = period_bounds(period_of())
    return {
        "plan": s.plan_payload(subscription.plan),
        "started_at": subscription.started_at,
        "plan_changed_at": subscription.plan_changed_at,
        "current_period": {"start": start, "end": end},
    }


def _line_payload(kind: str, description: str, quantity: int, unit: Money, amount: Money) -> dict[str, Any]:
    return {
        "kind": kind,
        "description": description,
        "quantity": quantity,
        "unit_price": unit,
        "amount": amount,
    }


def _invoice_payload(invoice: Invoice) -> dict[str, Any]:
    return {
        "number": invoice.number,
        "status": invoice.status,
        "period": period_label(invoice.period),
        "plan": invoice.plan.code,
        "total": invoice.total,
        "issued_at": invoice.issued_at,
        "due_at": invoice.due_at,
        "paid_at": invoice.paid_at,
        "voided_at": invoice.voided_at,
        "lines": [
            _line_payload(
                line.kind,
                line.description,
                line.quantity,
                Money(line.unit_amount, invoice.currency),
                Money(line.amount, invoice.currency),
            )
            for line in invoice.lines.all()
        ],
    }


class SubscriptionView(PlatformAPIView):
    @extend_schema(
        responses=s.SubscriptionOutput,
        operation_id="shop_subscription_retrieve",
        summary="The shop's plan",
        description="The plan the shop is on, with its limits and the running billing period (owners).",
    )
    def get(self, request: Request, slug: str) -> Response:
        shop = _shop_for(request, slug)
        subscription = selectors.subscription_for_shop(shop=shop)
        if subscription is None:
            raise SubscriptionMissing("This shop has no subscription.")
        return Response(s.SubscriptionOutput(_subscription_payload(subscription)).data)

    @extend_schema(
        request=s.SubscriptionInput,
        responses={
            200: s.SubscriptionOutput,
            409: OpenApiResponse(
                description="The shop uses more than the new plan allows (`limit` names what); "
                "or the shop has no subscription."
            ),
        },
        operation_id="shop_subscription_change",
        summary="Change plan",
        description="Move the shop to another plan at once (owners). A downgrade that current usage "
        "exceeds is refused with 409 naming the limit. The month's invoice charges the plan in effect "
        "at the month's end.",
    )
    def put(self, request: Request, slug: str) -> Response:
        shop = _shop_for(request, slug)
        data = validated(s.SubscriptionInput, request.data)
        subscription = services.subscription_change(
            shop=shop, plan_code=data["plan"], by=request_user(request)
        )
        return Response(s.SubscriptionOutput(_subscription_payload(subscription)).data)


class UsageView(PlatformAPIView):
    @extend_schema(
        responses=s.UsageOutput,
        operation_id="shop_usage",
        summary="The shop's usage",
        description="Products, orders this period, staff seats, storage and Admin API calls this period, "
        "each beside the plan's limit (owners and admins).",
    )
    def get(self, request: Request, slug: str) -> Response:
        shop = _shop_for(request, slug, OWNERS_AND_ADMINS)
        return Response(s.UsageOutput(selectors.usage_summary(shop=shop)).data)


class InvoicePage(CursorPage):
    ordering = "-period"


class InvoiceListView(PlatformAPIView):
    pagination_class = InvoicePage
    serializer_class = s.InvoiceOutput

    @extend_schema(
        responses=s.InvoiceOutput(many=True),
        operation_id="shop_invoices_list",
        summary="The shop's invoices",
        description="Issued invoices, newest period first, with their lines and status (owners).",
    )
    def get(self, request: Request, slug: str) -> Response:
        shop = _shop_for(request, slug)
        page = self.paginate_queryset(selectors.invoices_for_shop(shop=shop)) or []
        return self.get_paginated_response(
            s.InvoiceOutput([_invoice_payload(i) for i in page], many=True).data
        )


class UpcomingInvoiceView(PlatformAPIView):
    @extend_schema(
        responses=s.UpcomingInvoiceOutput,
        operation_id="shop_invoices_upcoming",
        summary="The running period's invoice, so far",
        description="What the running month's invoice would be if it ended now: the plan in effect now "
        "and usage so far, computed as issued invoices are (owners).",
    )
    def get(self, request: Request, slug: str) -> Response:
        shop = _shop_for(request, slug)
        bill = invoicing.invoice_preview(shop=shop)
        payload = {
            "period": period_label(bill.period),
            "plan": bill.plan.code,
            "total": bill.total,
            "lines": [
                _line_payload(line.kind, line.description, line.quantity, line.unit, line.amount)
                for line in bill.lines
            ],
            "usage": {"orders": bill.usage.orders, "api_calls": bill.usage.api_calls},
        }
        return Response(s.UpcomingInvoiceOutput(payload).data)
