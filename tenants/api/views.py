"""Platform API (platform host) and the shop-level views owned by `tenants`."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView

from tenants import hooks, lifecycle, selectors, services, storage
from tenants.api import serializers as s
from tenants.api.base import AdminAPIView, PlatformAPIView, StorefrontAPIView, validated
from tenants.errors import NotAllowed
from tenants.http import request_shop, request_user
from tenants.models import Membership, Shop, ShopExport

OWNER_OR_ADMIN = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN})


def _shop_payload(
    shop: Shop, domain: str, role: str | None = None, facts: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A shop's representation; `facts` are fields other apps add through `tenants.hooks.shop_facts`."""
    if facts is None:
        facts = hooks.shop_facts([shop.pk]).get(shop.pk, {})
    payload = {
        **facts,
        "slug": shop.slug,
        "name": shop.name,
        "schema_name": shop.schema_name,
        "domain": domain,
        "status": shop.status,
        "currency": shop.currency,
        "created_at": shop.created_at,
    }
    if role is not None:
        payload["role"] = role
    return payload


def _shop_detail_payload(shop: Shop, role: str) -> dict[str, Any]:
    """One shop's representation with its directory profile (lists leave the profile out)."""
    domain = selectors.primary_domains([shop.pk]).get(shop.pk, "")
    profile = selectors.directory_profile_of(shop=shop)
    payload = {**_shop_payload(shop, domain, role), "directory": profile}
    return s.ShopOutput(payload).data


class SignInView(TokenObtainPairView):
    """
    `auth/token`. Throttled per account and per address before the password is
    hashed (billing.api.throttles.SignInThrottle). "No such account" and "wrong
    password" answer alike, and take alike: Django's ModelBackend hashes the
    password for an unknown e-mail too.
    """

    throttle_scope = "sign-in"


class TokenRotateView(TokenRefreshView):
    """
    `auth/token/refresh`: a refresh token is good for one use. It returns a new
    access token and a new refresh token (ROTATE_REFRESH_TOKENS), and the one sent
    is blacklisted (BLACKLIST_AFTER_ROTATION), so a stolen refresh token dies the
    first time either holder uses it.
    """


class SignOutView(TokenBlacklistView):
    """`auth/logout`: blacklist the refresh token sent; its access token lapses within minutes."""

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        super().post(request, *args, **kwargs)  # 401 problem for an invalid or used token
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignupView(PlatformAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "sign-up"

    @extend_schema(
        request=s.SignupInput,
        responses={
            201: s.UserOutput,
            429: OpenApiResponse(description="Too many sign-ups for this e-mail or address."),
        },
        auth=[],
        operation_id="auth_signup",
        summary="Sign up",
        description="Create a platform user account; then get tokens from `auth/token`.",
    )
    def post(self, request: Request) -> Response:
        data = validated(s.SignupInput, request.data)
        user = services.user_signup(email=data["email"], password=data["password"], name=data["name"])
        return Response(s.UserOutput(user).data, status=status.HTTP_201_CREATED)


class MeView(PlatformAPIView):
    @extend_schema(
        responses=s.MeOutput,
        operation_id="me",
        summary="The signed-in user",
        description="The signed-in user and their memberships, each with the shop's primary hostname.",
    )
    def get(self, request: Request) -> Response:
        user = request_user(request)
        memberships = list(selectors.memberships_for_user(user=user))
        domains = selectors.primary_domains([m.shop_id for m in memberships])
        for membership in memberships:
            membership.domain = domains.get(membership.shop_id, "")  # type: ignore[attr-defined]
        payload = {**s.UserOutput(user).data, "memberships": s.MembershipOutput(memberships, many=True).data}
        return Response(payload)


class ShopListCreateView(PlatformAPIView):
    serializer_class = s.ShopOutput

    @extend_schema(
        responses=s.ShopOutput(many=True),
        operation_id="shops_list",
        summary="List my shops",
        description="The shops the signed-in user is a member of, with their role in each.",
    )
    def get(self, request: Request) -> Response:
        memberships = selectors.memberships_for_user(user=request_user(request))
        page = self.paginate_queryset(memberships) or []
        shop_ids = [m.shop_id for m in page]
        domains = selectors.primary_domains(shop_ids)
        facts = hooks.shop_facts(shop_ids)
        results = [_shop_payload(m.shop, domains.get(m.shop_id, ""), m.role, facts[m.shop_id]) for m in page]
        return self.get_paginated_response(s.ShopOutput(results, many=True).data)

    @extend_schema(
        request=s.ShopCreateInput,
        responses={201: s.ShopOutput},
        operation_id="shops_create",
        summary="Create a shop",
        description="Provision a shop owned by the signed-in user, served at `{slug}.<shop base domain>`.",
    )
    def post(self, request: Request) -> Response:
        data = validated(s.ShopCreateInput, request.data)
        shop = services.shop_create(
            owner=request_user(request),
            name=data["name"],
            slug=data["slug"],
            currency=data["currency"],
            plan=data.get("plan"),
        )
        payload = _shop_payload(shop, shop.domains.get(is_primary=True).domain, Membership.Role.OWNER)
        return Response(s.ShopOutput(payload).data, status=status.HTTP_201_CREATED)


class ShopDetailView(PlatformAPIView):
    delete_has_body = True  # {"confirm": "<slug>"}

    @extend_schema(
        responses=s.ShopOutput,
        operation_id="shops_retrieve",
        summary="Get a shop",
        description="One of the signed-in user's shops; 404 for shops they are not a member of.",
    )
    def get(self, request: Request, slug: str) -> Response:
        shop, membership = selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
        return Response(_shop_detail_payload(shop, membership.role))

    @extend_schema(
        request=s.ShopUpdateInput,
        responses=s.ShopOutput,
        operation_id="shops_update",
        summary="Update a shop",
        description="Change a shop's name, currency or directory profile (owners and admins). "
        "A shop is listed in the directory (`directory/shops`) with `directory.listed`, which needs "
        "`latitude` and `longitude`.",
    )
    def patch(self, request: Request, slug: str) -> Response:
        shop, membership = selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
        data = validated(s.ShopUpdateInput, request.data)
        shop = services.shop_update(shop=shop, by=membership, **data)
        return Response(_shop_detail_payload(shop, membership.role))

    @extend_schema(
        request=s.ShopDeleteInput,
        responses={202: s.ShopDeletionOutput},
        operation_id="shops_delete",
        summary="Delete a shop (owners)",
        description='Confirmed with the shop\'s slug in the body (`{"confirm": "<slug>"}`). The shop '
        "stops answering at once; a worker exports all its data first (the final export, kept), then "
        "removes its schema, domains, memberships, cached data, carts, counters and files. Asking "
        "again while it runs returns the same deletion.",
    )
    def delete(self, request: Request, slug: str) -> Response:
        shop, membership = selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
        data = validated(s.ShopDeleteInput, request.data)
        export = services.shop_delete_request(shop=shop, by=membership, confirm=data["confirm"])
        payload = {"slug": shop.slug, "status": Shop.Status.DELETING, "export": _export_payload(export)}
        return Response(s.ShopDeletionOutput(payload).data, status=status.HTTP_202_ACCEPTED)


class ShopMemberListCreateView(PlatformAPIView):
    serializer_class = s.MemberOutput

    @extend_schema(
        responses=s.MemberOutput(many=True),
        operation_id="shop_members_list",
        summary="List a shop's members",
        description="The shop's staff with their roles, newest first (any member may look).",
    )
    def get(self, request: Request, slug: str) -> Response:
        shop, _membership = selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
        page = self.paginate_queryset(selectors.members_of_shop(shop=shop)) or []
        return self.get_paginated_response(s.MemberOutput(page, many=True).data)

    @extend_schema(
        request=s.MemberInput,
        responses={
            201: s.MemberOutput,
            402: OpenApiResponse(description="The plan's staff seats are all taken."),
            409: OpenApiResponse(description="That user is a member already."),
        },
        operation_id="shop_members_add",
        summary="Add a member",
        description="Give a platform user, by e-mail, a role in the shop (owners and admins; only owners "
        "add owners). Each member takes one of the plan's staff seats.",
    )
    def post(self, request: Request, slug: str) -> Response:
        shop, membership = selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
        data = validated(s.MemberInput, request.data)
        added = services.membership_add(shop=shop, by=membership, email=data["email"], role=data["role"])
        return Response(s.MemberOutput(added).data, status=status.HTTP_201_CREATED)


class ShopMemberDetailView(PlatformAPIView):
    @extend_schema(
        responses={204: None, 409: OpenApiResponse(description="That is the shop's last owner.")},
        operation_id="shop_members_remove",
        summary="Remove a member",
        description="Take a member's role away (owners and admins; only owners remove owners). "
        "The last owner cannot be removed (409).",
    )
    def delete(self, request: Request, slug: str, member_id: int) -> Response:
        shop, membership = selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
        target = selectors.access_membership_by_id(shop=shop, member_id=member_id)
        services.membership_remove(shop=shop, by=membership, membership=target)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Shop host ----------------------------------------------------------------


class StorefrontShopView(StorefrontAPIView):
    @extend_schema(
        responses=s.StorefrontShopOutput,
        operation_id="storefront_shop",
        summary="This shop",
        description="The public facts about the shop served at this host.",
    )
    def get(self, request: Request) -> Response:
        shop = request_shop(request)
        return Response(s.StorefrontShopOutput(shop).data)


class ApiKeyListCreateView(AdminAPIView):
    member_roles = OWNER_OR_ADMIN
    serializer_class = s.ApiKeyOutput

    @extend_schema(
        responses=s.ApiKeyOutput(many=True),
        operation_id="api_keys_list",
        summary="List API keys",
        description="The shop's API keys, newest first, revoked ones included (owners and admins).",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.api_keys_for_shop(shop=request_shop(request))) or []
        return self.get_paginated_response(s.ApiKeyOutput(page, many=True).data)

    @extend_schema(
        request=s.ApiKeyCreateInput,
        responses={201: s.ApiKeyCreatedOutput},
        operation_id="api_keys_create",
        summary="Create an API key",
        description="Create a key with these scopes (owners and admins); its secret `key` is shown once.",
    )
    def post(self, request: Request) -> Response:
        data = validated(s.ApiKeyCreateInput, request.data)
        api_key, key = services.api_key_create(
            shop=request_shop(request),
            name=data["name"],
            scopes=data["scopes"],
            created_by=request_user(request),
        )
        payload = {**s.ApiKeyOutput(api_key).data, "key": key}
        return Response(payload, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(AdminAPIView):
    member_roles = OWNER_OR_ADMIN

    @extend_schema(
        responses=s.ApiKeyOutput,
        operation_id="api_keys_retrieve",
        summary="Get an API key",
        description="One of the shop's API keys (owners and admins).",
    )
    def get(self, request: Request, api_key_id: int) -> Response:
        api_key = selectors.access_api_key_by_id(shop=request_shop(request), api_key_id=api_key_id)
        return Response(s.ApiKeyOutput(api_key).data)

    @extend_schema(
        responses={200: s.ApiKeyOutput},
        operation_id="api_keys_revoke",
        summary="Revoke an API key",
        description="Revoke the key at once and return it (owners and admins); revoking twice is harmless.",
    )
    def delete(self, request: Request, api_key_id: int) -> Response:
        api_key = selectors.access_api_key_by_id(shop=request_shop(request), api_key_id=api_key_id)
        return Response(s.ApiKeyOutput(services.api_key_revoke(api_key=api_key)).data)


# --- Lifecycle: suspension (staff), export and deletion (owners), domains ---------------


def _shop_payload_for(shop: Shop, role: str | None = None) -> dict[str, Any]:
    return _shop_payload(shop, selectors.primary_domains([shop.pk]).get(shop.pk, ""), role)


class ShopSuspendView(PlatformAPIView):
    @extend_schema(
        request=None,
        responses=s.ShopOutput,
        operation_id="shops_suspend",
        summary="Suspend a shop (platform staff)",
        description="The shop's Storefront API answers 503 at once, on every host; its Admin API and the "
        "Platform API keep working. Suspending twice is harmless. Shop owners get 403.",
    )
    def post(self, request: Request, slug: str) -> Response:
        shop = selectors.access_shop_by_slug_for_staff(user=request_user(request), slug=slug)
        shop = services.shop_suspend(shop=shop, by=request_user(request))
        return Response(s.ShopOutput(_shop_payload_for(shop)).data)


class ShopReactivateView(PlatformAPIView):
    @extend_schema(
        request=None,
        responses=s.ShopOutput,
        operation_id="shops_reactivate",
        summary="Reactivate a suspended shop (platform staff)",
        description="Lift a suspension: the storefront answers again at once. Shop owners get 403.",
    )
    def post(self, request: Request, slug: str) -> Response:
        shop = selectors.access_shop_by_slug_for_staff(user=request_user(request), slug=slug)
        shop = services.shop_reactivate(shop=shop, by=request_user(request))
        return Response(s.ShopOutput(_shop_payload_for(shop)).data)


def _export_payload(export: ShopExport) -> dict[str, Any]:
    download_url = None
    if export.status == ShopExport.Status.DONE and export.key:
        download_url = storage.object_download_url(
            export.key, filename=lifecycle.export_filename(export), seconds=settings.EXPORT_LINK_SECONDS
        )
    return {
        "id": export.pk,
        "status": export.status,
        "reason": export.reason,
        "progress": export.progress,
        "tables_done": export.tables_done,
        "tables_total": export.tables_total,
        "rows_written": export.rows_written,
        "size": export.size,
        "download_url": download_url,
        "error": export.error,
        "created_at": export.created_at,
        "started_at": export.started_at,
        "finished_at": export.finished_at,
    }


class ShopExportCreateView(PlatformAPIView):
    @extend_schema(
        request=None,
        responses={202: s.ExportOutput},
        operation_id="shops_export",
        summary="Export a shop's data (owners)",
        description="A worker writes all the shop's data (catalog, orders, customers, webhooks, audit log) "
        "as JSON Lines to object storage; follow its progress at `exports/{id}`. One export at a time "
        "(409 while one runs).",
    )
    def post(self, request: Request, slug: str) -> Response:
        shop, membership = selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
        export = services.shop_export_request(shop=shop, by=membership)
        return Response(s.ExportOutput(_export_payload(export)).data, status=status.HTTP_202_ACCEPTED)


class ShopExportDetailView(PlatformAPIView):
    @extend_schema(
        responses=s.ExportOutput,
        operation_id="shops_export_retrieve",
        summary="An export's progress and link (owners)",
        description="Status and progress; once `done`, a time-limited `download_url`.",
    )
    def get(self, request: Request, slug: str, export_id: uuid.UUID) -> Response:
        shop, membership = selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
        if membership.role != Membership.Role.OWNER:
            raise NotAllowed("Only the shop's owners can see its exports.")
        export = selectors.access_export_by_id(shop=shop, export_id=str(export_id))
        return Response(s.ExportOutput(_export_payload(export)).data)


class DomainListCreateView(PlatformAPIView):
    serializer_class = s.DomainOutput

    @extend_schema(
        responses=s.DomainOutput(many=True),
        operation_id="shops_domains_list",
        summary="List a shop's domains",
        description="The hostnames that route to the shop, newest first (any member).",
    )
    def get(self, request: Request, slug: str) -> Response:
        shop, _membership = selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
        page = self.paginate_queryset(selectors.domains_for_shop(shop=shop)) or []
        return self.get_paginated_response(s.DomainOutput(page, many=True).data)

    @extend_schema(
        request=s.DomainInput,
        responses={201: s.DomainOutput},
        operation_id="shops_domains_create",
        summary="Add a custom domain",
        description="Route a hostname you control to the shop (owners and admins; point its DNS at the "
        "platform). Hostnames are stored lower-case, internationalised ones as punycode; each routes "
        "to one shop; the platform's own hostnames and any name under them are refused.",
    )
    def post(self, request: Request, slug: str) -> Response:
        shop, membership = selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
        data = validated(s.DomainInput, request.data)
        domain = services.domain_add(shop=shop, by=membership, domain=data["domain"])
        return Response(s.DomainOutput(domain).data, status=status.HTTP_201_CREATED)


class DomainDetailView(PlatformAPIView):
    @extend_schema(
        responses={204: None, 409: OpenApiResponse(description="The primary domain cannot be removed.")},
        operation_id="shops_domains_delete",
        summary="Remove a custom domain",
        description="Stop routing the hostname to the shop at once (owners and admins); the primary "
        "domain cannot be removed (409).",
    )
    def delete(self, request: Request, slug: str, domain_id: int) -> Response:
        shop, membership = selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
        domain = selectors.access_domain_by_id(shop=shop, domain_id=domain_id)
        services.domain_remove(shop=shop, by=membership, domain=domain)
        return Response(status=status.HTTP_204_NO_CONTENT)
