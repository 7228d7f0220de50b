"""Helpers for order tests: a product to sell, a cart, a checkout body."""

from __future__ import annotations

import uuid
from typing import Any

from rest_framework.test import APIClient

from catalog.models import Variant
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Analytical Way",
    "city": "London",
    "postal_code": "N1 7AA",
    "country": "GB",
}
PAYS = {"provider": "test", "card_number": "4242 4242 4242 4242"}
DECLINED = {"provider": "test", "card_number": "4000000000000002"}
MANUAL = {"provider": "manual"}


def manual_payment_on(admin: AdminClient, *, hours: int = 24) -> dict[str, Any]:
    """Let the shop take manual payment (off until the merchant turns it on)."""
    response = admin.patch("payment-settings", {"manual_enabled": True, "manual_expiry_hours": hours})
    assert response.status_code == 200, response.content
    return response.json()


def sellable_product(
    admin: AdminClient, *, stock: int = 10, price: str = "20.00", title: str = "Enamel Mug"
) -> dict[str, Any]:
    response = admin.post(
        "products",
        {
            "title": title,
            "status": "active",
            "variants": [{"sku": f"SKU-{uuid.uuid4().hex[:8]}", "price": price, "stock": stock}],
        },
    )
    assert response.status_code == 201, response.content
    return response.json()


def storefront(api: APIClient, ctx: ShopContext, method: str, path: str, body: Any = None, **extra: Any):
    return getattr(api, method)(
        f"/api/storefront/v1/{path}", body, format="json", HTTP_HOST=ctx.host, **extra
    )


def cart_with(api: APIClient, ctx: ShopContext, variant_id: int, quantity: int = 1) -> str:
    cart_id = storefront(api, ctx, "post", "carts").json()["id"]
    response = storefront(
        api, ctx, "post", f"carts/{cart_id}/items", {"variant": variant_id, "quantity": quantity}
    )
    assert response.status_code == 201, response.content
    return cart_id


def checkout(
    api: APIClient,
    ctx: ShopContext,
    cart_id: str,
    payment: dict[str, Any] = PAYS,
    key: str | None = None,
    remote_addr: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
    **overrides: Any,
):
    body = {
        "cart": cart_id,
        "email": "Ada@Example.com",
        "shipping_address": ADDRESS,
        "payment_method": payment,
        **overrides,
    }
    return storefront(
        api,
        ctx,
        "post",
        "checkout",
        body,
        HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex,
        REMOTE_ADDR=remote_addr,
        **(headers or {}),
    )


def variant_stock(ctx: ShopContext, variant_id: int) -> int:
    """A variant's stock as the shop's database holds it."""
    use_shop(ctx.shop)
    stock = Variant.objects.get(pk=variant_id).stock
    use_public()
    return stock
