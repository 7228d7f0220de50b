"""
Platform API views of accounts by e-mailed link (tenants.accounts): password
reset, e-mail change, staff invitations and their acceptance.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from tenants import accounts, selectors
from tenants.api import serializers as s
from tenants.api.base import PlatformAPIView, validated
from tenants.errors import NotAllowed
from tenants.http import request_user
from tenants.models import User
from tenants.services import MANAGERS

TOO_MANY = OpenApiResponse(description="Too many attempts for this account or address (see `Retry-After`).")
LINK_INVALID = OpenApiResponse(description="The link's token is forged, used, replaced or expired.")


def _token_of(request: Request) -> object:
    data = request.data
    return data.get("token") if isinstance(data, dict) else None


class PasswordResetView(PlatformAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "password-reset"

    @extend_schema(
        request=s.PasswordResetInput,
        responses={202: None, 429: TOO_MANY},
        auth=[],
        operation_id="auth_password_reset",
        summary="Ask for a password-reset link",
        description="E-mails a single-use link to the account with this address, if there is one; the "
        "answer is 202 either way, so it says nothing about which addresses have accounts. The link "
        "opens the admin app's `reset-password` page with a `token`, good for `PASSWORD_RESET_TIMEOUT`.",
    )
    def post(self, request: Request) -> Response:
        data = validated(s.PasswordResetInput, request.data)
        accounts.password_reset_request(email=data["email"])
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(PlatformAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "password-reset-confirm"

    def throttle_account(self, request: Request) -> str | None:
        return accounts.password_reset_token_account(_token_of(request))

    @extend_schema(
        request=s.PasswordResetConfirmInput,
        responses={204: None, 400: LINK_INVALID, 429: TOO_MANY},
        auth=[],
        operation_id="auth_password_reset_confirm",
        summary="Set a new password through a reset link",
        description="The link works once. Every session of the account ends (its refresh tokens are "
        "revoked); sign in again with the new password.",
    )
    def post(self, request: Request) -> Response:
        data = validated(s.PasswordResetConfirmInput, request.data)
        accounts.password_reset_confirm(token=data["token"], password=data["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailChangeView(PlatformAPIView):
    throttle_scope = "email-change"

    def throttle_account(self, request: Request) -> str | None:
        user = request.user
        return user.email if isinstance(user, User) else None

    @extend_schema(
        request=s.EmailChangeInput,
        responses={202: None, 409: OpenApiResponse(description="Another account uses it."), 429: TOO_MANY},
        operation_id="auth_email_change",
        summary="Change the account's e-mail address",
        description="Checks the password, then e-mails a single-use link to the new address; the account "
        "keeps its address until the link is followed (`auth/email-change/confirm`).",
    )
    def post(self, request: Request) -> Response:
        data = validated(s.EmailChangeInput, request.data)
        accounts.email_change_request(
            user=request_user(request),
            email=data["email"],
            password=data["password"],
        )
        return Response(status=status.HTTP_202_ACCEPTED)


class EmailChangeConfirmView(PlatformAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "email-change-confirm"

    def throttle_account(self, request: Request) -> str | None:
        token = _token_of(request)
        return f"email-change:{token[:40]}" if isinstance(token, str) and token else None

    @extend_schema(
        request=s.LinkTokenInput,
        responses={200: s.UserOutput, 400: LINK_INVALID, 429: TOO_MANY},
        auth=[],
        operation_id="auth_email_change_confirm",
        summary="Confirm a new e-mail address through its link",
        description="The link works once, while the account's address and password are unchanged.",
    )
    def post(self, request: Request) -> Response:
        data = validated(s.LinkTokenInput, request.data)
        user = accounts.email_change_confirm(token=data["token"])
        return Response(s.UserOutput(user).data)


class InvitationListCreateView(PlatformAPIView):
    serializer_class = s.InvitationOutput

    @extend_schema(
        responses=s.InvitationOutput(many=True),
        operation_id="shop_invitations_list",
        summary="List a shop's invitations",
        description="Invitations newest first, open and closed, with their status (owners and admins).",
    )
    def get(self, request: Request, slug: str) -> Response:
        shop, membership = selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
        if membership.role not in MANAGERS:
            raise NotAllowed("Only the shop's owners and admins can see its invitations.")
        page = self.paginate_queryset(selectors.invitations_of_shop(shop=shop)) or []
        return self.get_paginated_response(s.InvitationOutput(page, many=True).data)

    @extend_schema(
        request=s.InvitationInput,
        responses={
            201: s.InvitationOutput,
            402: OpenApiResponse(description="The plan's staff seats are all taken."),
            409: OpenApiResponse(description="That address is a member already."),
        },
        operation_id="shop_invitations_create",
        summary="Invite someone by e-mail",
        description="E-mails a link to join the shop with this role (owners and admins; only owners invite "
        "owners), good for `INVITATION_DAYS`. Whoever follows it joins, creating an account when the "
        "address has none. Inviting an address with an open invitation sends it again with the new role.",
    )
    def post(self, request: Request, slug: str) -> Response:
        shop, membership = selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
        data = validated(s.InvitationInput, request.data)
        invitation = accounts.invitation_create(
            shop=shop, by=membership, email=data["email"], role=data["role"]
        )
        return Response(s.InvitationOutput(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailView(PlatformAPIView):
    @extend_schema(
        responses={200: s.InvitationOutput, 409: OpenApiResponse(description="It was accepted.")},
        operation_id="shop_invitations_revoke",
        summary="Revoke an invitation",
        description="Its link stops working at once (owners and admins); revoking twice is harmless.",
    )
    def delete(self, request: Request, slug: str, invitation_id: int) -> Response:
        shop, membership = selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
        invitation = selectors.access_invitation_by_id(shop=shop, invitation_id=invitation_id)
        invitation = accounts.invitation_revoke(shop=shop, by=membership, invitation=invitation)
        return Response(s.InvitationOutput(invitation).data)


class InvitationResendView(PlatformAPIView):
    @extend_schema(
        request=None,
        responses={200: s.InvitationOutput, 409: OpenApiResponse(description="It was accepted or revoked.")},
        operation_id="shop_invitations_resend",
        summary="Send an invitation again",
        description="A new link with a new expiry (owners and admins); the link sent before stops working.",
    )
    def post(self, request: Request, slug: str, invitation_id: int) -> Response:
        shop, membership = selectors.access_shop_by_slug_for_member(user=request_user(request), slug=slug)
        invitation = selectors.access_invitation_by_id(shop=shop, invitation_id=invitation_id)
        invitation = accounts.invitation_resend(shop=shop, by=membership, invitation=invitation)
        return Response(s.InvitationOutput(invitation).data)


class InvitationAcceptView(PlatformAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "invitation-accept"

    def throttle_account(self, request: Request) -> str | None:
        return accounts.invitation_token_account(_token_of(request))

    @extend_schema(
        request=s.InvitationAcceptInput,
        responses={
            200: s.InvitationAcceptedOutput,
            400: LINK_INVALID,
            402: OpenApiResponse(description="The plan's staff seats are all taken."),
            429: TOO_MANY,
        },
        auth=[],
        operation_id="invitations_accept",
        summary="Accept an invitation",
        description="Joins the shop with the invited role. When the invited address has no account, one is "
        "created with `name` and `password` (then required). The link works once; sign in afterwards.",
    )
    def post(self, request: Request) -> Response:
        data = validated(s.InvitationAcceptInput, request.data)
        invitation, membership, created = accounts.invitation_accept(
            token=data["token"], name=data["name"], password=data.get("password")
        )
        payload: dict[str, Any] = {
            "shop": invitation.shop.slug,
            "shop_name": invitation.shop.name,
            "role": membership.role,
            "email": invitation.email,
            "account_created": created,
        }
        return Response(s.InvitationAcceptedOutput(payload).data)
