"""Helpers for billing tests: small plan limits, Platform API calls as a shop's members."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from billing import selectors
from billing.models import Plan
from tenants.models import User
from tests.conftest import PLATFORM, ShopContext, bearer


def set_limits(code: str = "free", **limits: Any) -> Plan:
    """Shrink a plan's limits for a test (rolled back with the test's transaction)."""
    Plan.objects.filter(code=code).update(**limits)
    selectors.shop_plan_limits_forget()
    return Plan.objects.get(code=code)


class PlatformClient:
    """Platform API calls about one shop, as a given user (the owner by default)."""

    def __init__(self, api: APIClient, ctx: ShopContext, user: User | None = None) -> None:
        self.api = api
        self.ctx = ctx
        self.headers = {**PLATFORM, **bearer(str(RefreshToken.for_user(user or ctx.owner).access_token))}

    def url(self, path: str) -> str:
        return f"/api/platform/v1/shops/{self.ctx.shop.slug}/{path}"

    def get(self, path: str, **extra: Any):
        return self.api.get(self.url(path), **self.headers, **extra)

    def post(self, path: str, body: Any = None, **extra: Any):
        return self.api.post(self.url(path), body, format="json", **self.headers, **extra)

    def put(self, path: str, body: Any = None, **extra: Any):
        return self.api.put(self.url(path), body, format="json", **self.headers, **extra)

    def delete(self, path: str, **extra: Any):
        return self.api.delete(self.url(path), **self.headers, **extra)

    def raw(self, method: str, path: str, data: bytes, content_type: str = "application/json"):
        return self.api.generic(method, self.url(path), data, content_type=content_type, **self.headers)
