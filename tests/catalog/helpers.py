"""Shared helpers for catalog tests."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from tests.conftest import ShopContext, bearer


class AdminClient:
    """Admin API calls as a shop's owner (or with an explicit Authorization header)."""

    def __init__(self, api: APIClient, ctx: ShopContext, authorization: str | None = None) -> None:
        self.api = api
        self.ctx = ctx
        self.headers = ({"HTTP_AUTHORIZATION": authorization} if authorization else bearer(ctx.token())) | {
            "HTTP_HOST": ctx.host
        }

    def get(self, path: str, **extra: Any):
        return self.api.get(f"/api/admin/v1/{path}", **self.headers, **extra)

    def post(self, path: str, body: Any = None, **extra: Any):
        return self.api.post(f"/api/admin/v1/{path}", body, format="json", **self.headers, **extra)

    def put(self, path: str, body: Any = None, **extra: Any):
        return self.api.put(f"/api/admin/v1/{path}", body, format="json", **self.headers, **extra)

    def patch(self, path: str, body: Any = None, **extra: Any):
        return self.api.patch(f"/api/admin/v1/{path}", body, format="json", **self.headers, **extra)

    def delete(self, path: str, **extra: Any):
        return self.api.delete(f"/api/admin/v1/{path}", **self.headers, **extra)


def product_body(title: str = "Blue Oxford Shirt", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": title,
        "status": "active",
        "variants": [
            {"sku": f"{title[:8].upper().replace(' ', '')}-M", "price": "39.90", "stock": 10},
            {"sku": f"{title[:8].upper().replace(' ', '')}-L", "price": "42.00", "stock": 0},
        ],
    }
    body.update(overrides)
    return body
