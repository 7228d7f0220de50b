"""
Webhooks Admin API: endpoints, their delivery log, redelivery.

Who may call it: API keys with the `webhooks:write` scope, for reads too (an
endpoint list shows where the shop's data goes, and there is no separate read
scope), and members who are owners or admins (staff may not, since an endpoint
receives every order and customer it subscribes to).
"""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from tenants.api.auth import request_actor
from tenants.api.base import AdminAPIView, validated
from tenants.conventions.pagination import CursorPage
from tenants.models import ApiKey, Membership
from tenants.webhooks import selectors, services
from tenants.webhooks.api import serializers as s
from tenants.webhooks.models import WebhookDelivery

WEBHOOKS_SCOPE = ApiKey.Scope.WEBHOOKS_WRITE


class WebhooksAdminView(AdminAPIView):
    required_scopes = dict.fromkeys(("GET", "POST", "PATCH", "DELETE"), WEBHOOKS_SCOPE)
    member_roles = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN})


class DeliveryPage(CursorPage):
    ordering = "-created_at"


# --- Endpoints -----------------------------------------------------------------------


class WebhookEndpointListView(WebhooksAdminView):
    serializer_class = s.EndpointOutput

    @extend_schema(
        responses=s.EndpointOutput(many=True),
        operation_id="admin_webhooks_list",
        summary="List webhook endpoints",
        description="Needs the `webhooks:write` scope (API keys) or an owner's or admin's membership.",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.endpoints_for_admin()) or []
        return self.get_paginated_response(s.EndpointOutput(page, many=True).data)

    @extend_schema(
        request=s.EndpointInput,
        responses={201: s.EndpointWithSecretOutput},
        operation_id="admin_webhooks_create",
        summary="Create a webhook endpoint",
        description=(
            "Subscribe a URL to events. The answer holds the signing `secret`, shown only this once. "
            "URLs that resolve to loopback, private or link-local addresses are refused."
        ),
    )
    def post(self, request: Request) -> Response:
        data = validated(s.EndpointInput, request.data)
        endpoint = services.endpoint_create(actor=request_actor(request), **data)
        return Response(s.EndpointWithSecretOutput(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookEndpointDetailView(WebhooksAdminView):
    @extend_schema(
        responses=s.EndpointOutput, operation_id="admin_webhooks_retrieve", summary="Get a webhook endpoint"
    )
    def get(self, request: Request, webhook_id: int) -> Response:
        return Response(s.EndpointOutput(selectors.access_endpoint_by_id(endpoint_id=webhook_id)).data)

    @extend_schema(
        request=s.EndpointUpdateInput,
        responses=s.EndpointOutput,
        operation_id="admin_webhooks_update",
        summary="Change a webhook endpoint",
        description="Change its URL, events, description, or pause it with `is_active: false`.",
    )
    def patch(self, request: Request, webhook_id: int) -> Response:
        endpoint = selectors.access_endpoint_by_id(endpoint_id=webhook_id)
        data = validated(s.EndpointUpdateInput, request.data)
        endpoint = services.endpoint_update(actor=request_actor(request), endpoint=endpoint, **data)
        return Response(s.EndpointOutput(endpoint).data)

    @extend_schema(
        responses={204: None},
        operation_id="admin_webhooks_delete",
        summary="Delete a webhook endpoint and its delivery log",
    )
    def delete(self, request: Request, webhook_id: int) -> Response:
        endpoint = selectors.access_endpoint_by_id(endpoint_id=webhook_id)
        services.endpoint_delete(actor=request_actor(request), endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookSecretRotateView(WebhooksAdminView):
    @extend_schema(
        request=None,
        responses=s.EndpointWithSecretOutput,
        operation_id="admin_webhooks_rotate_secret",
        summary="Replace a webhook endpoint's signing secret",
        description=(
            "Deliveries are signed with the new `secret` (shown only in this answer) from now on; "
            "ones the receiver refuses until it has the new secret are retried as usual."
        ),
    )
    def post(self, request: Request, webhook_id: int) -> Response:
        endpoint = selectors.access_endpoint_by_id(endpoint_id=webhook_id)
        endpoint = services.endpoint_secret_rotate(actor=request_actor(request), endpoint=endpoint)
        return Response(s.EndpointWithSecretOutput(endpoint).data)


# --- Deliveries ----------------------------------------------------------------------


class WebhookDeliveryListView(WebhooksAdminView):
    serializer_class = s.DeliveryOutput
    pagination_class = DeliveryPage

    @extend_schema(
        responses=s.DeliveryOutput(many=True),
        operation_id="admin_webhook_deliveries_list",
        summary="An endpoint's delivery log, newest first, with every attempt",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=WebhookDelivery.Status.values,
                description="Only deliveries in this status (`dead`: the dead letters).",
            )
        ],
    )
    def get(self, request: Request, webhook_id: int) -> Response:
        endpoint = selectors.access_endpoint_by_id(endpoint_id=webhook_id)
        query = validated(s.DeliveryQuery, request.query_params)
        deliveries = selectors.deliveries_for_endpoint(endpoint=endpoint, status=query.get("status"))
        page = self.paginate_queryset(deliveries) or []
        return self.get_paginated_response(s.DeliveryOutput(page, many=True).data)


class WebhookDeliveryDetailView(WebhooksAdminView):
    @extend_schema(
        responses=s.DeliveryOutput,
        operation_id="admin_webhook_deliveries_retrieve",
        summary="One delivery with its body and every attempt",
    )
    def get(self, request: Request, webhook_id: int, delivery_id: uuid.UUID) -> Response:
        endpoint = selectors.access_endpoint_by_id(endpoint_id=webhook_id)
        delivery = selectors.access_delivery_by_id(endpoint=endpoint, delivery_id=delivery_id)
        return Response(s.DeliveryOutput(delivery).data)


class WebhookRedeliverView(WebhooksAdminView):
    @extend_schema(
        request=None,
        responses={202: s.DeliveryOutput},
        operation_id="admin_webhook_deliveries_redeliver",
        summary="Send a delivery again now",
        description=(
            "Queue one more attempt at once, whatever the delivery's status (dead letters included). "
            "409 while an attempt is in flight."
        ),
    )
    def post(self, request: Request, webhook_id: int, delivery_id: uuid.UUID) -> Response:
        endpoint = selectors.access_endpoint_by_id(endpoint_id=webhook_id)
        delivery = selectors.access_delivery_by_id(endpoint=endpoint, delivery_id=delivery_id)
        services.delivery_redeliver(actor=request_actor(request), delivery=delivery)
        delivery = selectors.access_delivery_by_id(endpoint=endpoint, delivery_id=delivery_id)
        return Response(s.DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
