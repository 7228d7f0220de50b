"""Platform API billing endpoints: plans, a shop's subscription, usage and invoices."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from billing import selectors
from billing.api import serializers as s
from tenants.api.base import PlatformAPIView
from tenants.conventions.pagination import CursorPage


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
