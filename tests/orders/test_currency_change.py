"""
A shop that changes currency: its old orders keep theirs in every output, and its
storefront stops serving cached bodies priced in the old one.
"""

from __future__ import annotations

import pytest
from django.core import mail

from tenants.outbox.models import OutboxEvent
from tests.catalog.helpers import AdminClient
from tests.conftest import PLATFORM, ShopContext, assert_problem, bearer
from tests.orders.helpers import cart_with, checkout, sellable_product, storefront

pytestmark = pytest.mark.django_db

USD = {"amount": "25.50", "currency": "USD"}


def _currency_change(api, ctx: ShopContext, capture, currency: str) -> None:
    with capture(execute=True):
        response = api.patch(
            f"/api/platform/v1/shops/{ctx.shop.slug}",
            {"currency": currency},
            format="json",
            **PLATFORM,
            **bearer(ctx.token()),
        )
    assert response.status_code == 200 and response.json()["currency"] == currency


def _money_of(order: dict) -> list[dict[str, str]]:
    """Every amount an order's representation holds."""
    return [
        order["subtotal"],
        order["total"],
        order["refunded_amount"],
        *(line[name] for line in order["lines"] for name in ("unit_price", "line_total")),
        *(payment["amount"] for payment in order["payments"]),
    ]


def test_an_order_keeps_its_currency_after_the_shop_switches_usd_to_eur(
    api, shop_b: ShopContext, django_capture_on_commit_callbacks
) -> None:
    """
    The issue's sequence: a USD shop sells, switches to EUR; the old order used to
    show `currency: USD` beside amounts labelled EUR, and the storefront kept
    serving its cached USD prices.
    """
    admin = AdminClient(api, shop_b)
    with django_capture_on_commit_callbacks(execute=True):
        product = sellable_product(admin, price="25.50", title="Enamel Mug")
    variant = product["variants"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        placed = checkout(api, shop_b, cart_with(api, shop_b, variant)).json()
    assert placed["currency"] == "USD" and placed["total"] == USD
    listed = storefront(api, shop_b, "get", "products")
    assert listed.json()["results"][0]["variants"][0]["price"] == USD
    assert storefront(api, shop_b, "get", "products")["X-Cache"] == "hit"
    detail = storefront(api, shop_b, "get", "products/enamel-mug")
    assert detail.json()["variants"][0]["price"] == USD

    _currency_change(api, shop_b, django_capture_on_commit_callbacks, "EUR")

    # The storefront: the cached USD bodies are gone, prices read in EUR.
    listed = storefront(api, shop_b, "get", "products")
    assert listed["X-Cache"] == "miss"
    assert listed.json()["results"][0]["variants"][0]["price"] == {"amount": "25.50", "currency": "EUR"}
    detail = storefront(api, shop_b, "get", "products/enamel-mug")
    assert detail["X-Cache"] == "miss"
    assert detail.json()["variants"][0]["price"]["currency"] == "EUR"

    # The old order, everywhere: every amount in USD, as placed.
    number = placed["number"]
    shopper = storefront(api, shop_b, "get", f"orders/{number}?token={placed['token']}").json()
    one = admin.get(f"orders/{number}").json()
    listed_orders = admin.get("orders").json()["results"]
    for order in (shopper, one, listed_orders[0]):
        assert order["currency"] == "USD"
        assert {money["currency"] for money in _money_of(order)} == {"USD"}
    assert one["total"] == USD

    # The shipping notice lists the units that shipped (no prices), never in the shop's new currency.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(f"orders/{number}/fulfill").status_code == 200
    assert mail.outbox and "on its way" in mail.outbox[-1].body and "EUR" not in mail.outbox[-1].body

    # A refund is taken, and reported, in the order's currency.
    with django_capture_on_commit_callbacks(execute=True):
        refunded = admin.post(f"orders/{number}/refund", {"amount": "5.25"})
    assert refunded.status_code == 200, refunded.content
    assert refunded.json()["refunded_amount"] == {"amount": "5.25", "currency": "USD"}
    event = OutboxEvent.objects.filter(type="order.refunded").get()
    assert event.payload["total"] == USD
    assert event.payload["refund"]["amount"] == "5.25" and event.payload["refund"]["currency"] == "USD"

    # A new order is placed in the shop's new currency.
    with django_capture_on_commit_callbacks(execute=True):
        second = checkout(api, shop_b, cart_with(api, shop_b, variant)).json()
    assert second["currency"] == "EUR" and second["total"] == {"amount": "25.50", "currency": "EUR"}


def test_a_refund_amount_follows_the_orders_currency_not_the_shops(
    api, shop_b: ShopContext, django_capture_on_commit_callbacks
) -> None:
    """A USD order in a shop now selling in JPY (no minor unit) still refunds cents."""
    admin = AdminClient(api, shop_b)
    variant = sellable_product(admin, price="25.50")["variants"][0]["id"]
    number = checkout(api, shop_b, cart_with(api, shop_b, variant)).json()["number"]
    _currency_change(api, shop_b, django_capture_on_commit_callbacks, "JPY")
    refunded = admin.post(f"orders/{number}/refund", {"amount": "0.50"})
    assert refunded.status_code == 200, refunded.content
    assert refunded.json()["refunded_amount"] == {"amount": "0.50", "currency": "USD"}
    # Three decimals are still too many for USD.
    body = assert_problem(admin.post(f"orders/{number}/refund", {"amount": "0.505"}), 400)
    assert "amount" in body["errors"]
