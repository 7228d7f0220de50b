"""Capturing and voiding authorized card payments from the admin (a shop that captures by hand)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from billing.periods import period_of
from billing.usage.models import OrderCount
from orders import payments
from orders.models import Order, OrderEvent, Payment, TestProviderPayment
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem
from tests.orders.helpers import (
    MANUAL,
    cart_with,
    checkout,
    manual_payment_on,
    sellable_product,
    variant_stock,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(api: Any, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


@pytest.fixture
def authorized(api: Any, shop_a: ShopContext, admin: AdminClient):
    """Place a card order in a shop that captures by hand: {number, variant} of an authorized order."""
    switched = admin.patch("payment-settings", {"card_capture": "manual"})
    assert switched.status_code == 200 and switched.json()["card_capture"] == "manual", switched.content
    variant = sellable_product(admin, stock=10, price="10.00")["variants"][0]["id"]

    def place(quantity: int = 2) -> dict[str, Any]:
        placed = checkout(api, shop_a, cart_with(api, shop_a, variant, quantity))
        assert placed.status_code == 201, placed.content
        return {**placed.json(), "variant": variant}

    return place


def _state(ctx: ShopContext, number: int) -> tuple:
    """What a refused capture or void must leave as it was."""
    use_shop(ctx.shop)
    order = Order.objects.get(pk=number - 1000)
    state = (
        order.status,
        order.payment_status,
        sorted(Payment.objects.filter(order=order).values_list("kind", "status", "amount")),
        sorted(TestProviderPayment.objects.values_list("key", "status", "amount")),
        OrderEvent.objects.filter(order=order).count(),
        OutboxEvent.objects.filter(type__in=["order.paid", "order.cancelled"]).count(),
    )
    use_public()
    return state


def _event(ctx: ShopContext, type: str) -> OutboxEvent:
    use_shop(ctx.shop)
    event = OutboxEvent.objects.filter(type=type).latest("id")
    use_public()
    return event


def _orders_counted(ctx: ShopContext) -> int:
    """The month's orders counted for the plan (kept in the shop's schema)."""
    use_shop(ctx.shop)
    try:
        return OrderCount.objects.filter(period=period_of()).values_list("orders", flat=True).first() or 0
    finally:
        use_public()


def test_a_shop_that_captures_by_hand_gets_authorized_orders_holding_stock(
    api, admin: AdminClient, shop_a: ShopContext, authorized
) -> None:
    order = authorized()
    assert (order["status"], order["payment_status"]) == ("pending", "authorized")
    assert order["expires_at"] is None  # held for the merchant, not expired unpaid
    assert [(p["kind"], p["status"]) for p in order["payments"]] == [("charge", "authorized")]
    assert variant_stock(shop_a, order["variant"]) == 8
    use_shop(shop_a.shop)
    assert TestProviderPayment.objects.get().capture is False
    use_public()
    # The card cannot be cancelled or refunded as if paid; it is captured or voided.
    assert assert_problem(admin.post(f"orders/{order['number']}/cancel"), 409)["code"] == "illegal_transition"
    assert_problem(admin.post(f"orders/{order['number']}/refund", {"amount": "1.00"}), 409)
    assert_problem(admin.post(f"orders/{order['number']}/fulfill"), 409)


def test_capture_in_full_pays_the_order_once(
    api, admin: AdminClient, shop_a: ShopContext, authorized
) -> None:
    order = authorized()
    number = order["number"]
    captured = admin.post(f"orders/{number}/capture", {}, HTTP_IDEMPOTENCY_KEY="cap-1")
    assert captured.status_code == 200, captured.content
    body = captured.json()
    assert (body["status"], body["payment_status"]) == ("paid", "paid") and body["paid_at"]
    assert [(p["kind"], p["status"], p["amount"]["amount"]) for p in body["payments"]] == [
        ("charge", "succeeded", "20.00")
    ]
    event = _event(shop_a, "order.paid")
    assert event.payload["capture"] == {"amount": "20.00", "released": "0.00", "currency": "EUR"}
    timeline = admin.get(f"orders/{number}/events").json()["results"]
    assert (
        timeline[0]["type"] == "payment_captured" and "20.00 EUR captured by test." in timeline[0]["message"]
    )
    use_shop(shop_a.shop)
    assert TestProviderPayment.objects.get().status == "succeeded"
    use_public()

    # The same request again (same key) replays; a new one is refused: nothing is taken twice.
    before = _state(shop_a, number)
    replay = admin.post(f"orders/{number}/capture", {}, HTTP_IDEMPOTENCY_KEY="cap-1")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    again = admin.post(f"orders/{number}/capture", {}, HTTP_IDEMPOTENCY_KEY="cap-2")
    assert assert_problem(again, 409)["code"] == "payment_not_authorized"
    assert assert_problem(admin.post(f"orders/{number}/void"), 409)["code"] == "payment_not_authorized"
    assert _state(shop_a, number) == before
    # Paid, it ships and refunds as any paid order.
    assert admin.post(f"orders/{number}/fulfill").json()["status"] == "fulfilled"


def test_a_partial_capture_releases_the_rest_and_limits_refunds(
    api, admin: AdminClient, shop_a: ShopContext, authorized
) -> None:
    number = authorized()["number"]
    body = admin.post(f"orders/{number}/capture", {"amount": "15.00"}).json()
    assert body["payment_status"] == "paid"
    assert sorted((p["status"], p["amount"]["amount"]) for p in body["payments"]) == [
        ("succeeded", "15.00"),
        ("voided", "5.00"),
    ]
    assert _event(shop_a, "order.paid").payload["capture"] == {
        "amount": "15.00",
        "released": "5.00",
        "currency": "EUR",
    }
    use_shop(shop_a.shop)
    assert TestProviderPayment.objects.get().amount == Decimal("15.00")
    use_public()
    # Only what was taken can be paid back; all of it makes the order refunded.
    assert assert_problem(admin.post(f"orders/{number}/refund", {"amount": "15.01"}), 409)["code"] == (
        "refund_too_large"
    )
    refunded = admin.post(f"orders/{number}/refund", {"amount": "15.00"}).json()
    assert (refunded["status"], refunded["payment_status"]) == ("refunded", "refunded")


def test_cancelling_a_partly_captured_order_refunds_what_was_taken(
    api, admin: AdminClient, shop_a: ShopContext, authorized
) -> None:
    number = authorized()["number"]
    admin.post(f"orders/{number}/capture", {"amount": "12.50"})
    cancelled = admin.post(f"orders/{number}/cancel").json()
    assert cancelled["status"] == "cancelled"
    refunds = [p for p in cancelled["payments"] if p["kind"] == "refund"]
    assert [r["amount"]["amount"] for r in refunds] == ["12.50"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"amount": "20.01"}, 409),
        ({"amount": "0"}, 409),
        ({"amount": "-5.00"}, 400),
        ({"amount": "1e400"}, 400),
        ({"amount": "9" * 40}, 400),
        ({"amount": "5.00\x00"}, 400),
        ({"amount": "\ud800"}, 400),
        ({"amount": 5}, 400),
        ({"amount": None}, 400),
        ([], 400),
    ],
)
def test_bad_captures_are_refused_and_change_nothing(
    api, admin: AdminClient, shop_a: ShopContext, authorized, body: object, status: int
) -> None:
    number = authorized()["number"]
    before = _state(shop_a, number)
    raw = json.dumps(body)  # \ud800 escaped, as a client sends it
    response = admin.api.post(
        f"/api/admin/v1/orders/{number}/capture", raw, content_type="application/json", **admin.headers
    )
    assert_problem(response, status)
    assert _state(shop_a, number) == before


def test_void_releases_the_authorization_and_cancels_the_order(
    api, admin: AdminClient, shop_a: ShopContext, authorized
) -> None:
    order = authorized()
    counted = _orders_counted(shop_a)
    number = order["number"]
    voided = admin.post(f"orders/{number}/void")
    assert voided.status_code == 200, voided.content
    body = voided.json()
    assert (body["status"], body["payment_status"]) == ("cancelled", "expired")
    assert [(p["kind"], p["status"]) for p in body["payments"]] == [("charge", "voided")]
    assert variant_stock(shop_a, order["variant"]) == 10
    assert _event(shop_a, "order.cancelled").payload["reason"] == "payment_voided"
    assert admin.get(f"orders/{number}/events").json()["results"][0]["type"] == "payment_voided"
    use_shop(shop_a.shop)
    assert TestProviderPayment.objects.get().status == "voided"
    use_public()
    assert _orders_counted(shop_a) == counted - 1  # its slot of the plan's orders went back
    # Voided: nothing more to capture or void.
    before = _state(shop_a, number)
    assert assert_problem(admin.post(f"orders/{number}/capture"), 409)["code"] == "payment_not_authorized"
    assert assert_problem(admin.post(f"orders/{number}/void"), 409)["code"] == "payment_not_authorized"
    assert _state(shop_a, number) == before


def test_capture_and_void_of_orders_without_an_authorization_are_refused(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    manual_payment_on(admin)
    variant = sellable_product(admin, stock=10)["variants"][0]["id"]
    paid = checkout(api, shop_a, cart_with(api, shop_a, variant)).json()  # captured at checkout
    pending = checkout(api, shop_a, cart_with(api, shop_a, variant), payment=MANUAL).json()
    for number in (paid["number"], pending["number"]):
        before = _state(shop_a, number)
        assert assert_problem(admin.post(f"orders/{number}/void"), 409)["code"] == "payment_not_authorized"
        assert assert_problem(admin.post(f"orders/{number}/capture"), 409)["code"] == "payment_not_authorized"
        assert _state(shop_a, number) == before
    assert_problem(admin.post("orders/424242/capture"), 404)
    assert_problem(admin.post("orders/424242/void"), 404)
    assert_problem(admin.post(f"orders/{10**30}/void"), 404)


def test_another_shop_cannot_capture_or_void(
    api, admin: AdminClient, shop_a: ShopContext, shop_b: ShopContext, authorized
) -> None:
    number = authorized()["number"]
    before = _state(shop_a, number)
    foreign = AdminClient(api, shop_a, authorization=f"Bearer {shop_b.token()}")
    assert_problem(foreign.post(f"orders/{number}/capture"), 403)
    assert_problem(foreign.post(f"orders/{number}/void"), 403)
    other = AdminClient(api, shop_b)
    assert_problem(other.post(f"orders/{number}/capture"), 404)
    assert_problem(other.post(f"orders/{number}/void"), 404)
    assert _state(shop_a, number) == before


def test_the_provider_is_asked_outside_any_transaction_and_its_silence_changes_nothing(
    api, admin: AdminClient, shop_a: ShopContext, authorized, monkeypatch
) -> None:
    number = authorized()["number"]
    before = _state(shop_a, number)
    asked: list[bool] = []

    def unavailable(self: Any, *, key: str, **_: Any) -> payments.ProviderAnswer:
        # No transaction of the request's own is open (the test case's wrapping one aside).
        asked.append(all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks))
        raise payments.ProviderUnavailable("timed out")

    monkeypatch.setattr(payments.TestProvider, "capture", unavailable)
    monkeypatch.setattr(payments.TestProvider, "void", unavailable)
    assert (
        assert_problem(admin.post(f"orders/{number}/capture"), 503)["code"] == "payment_provider_unavailable"
    )
    assert assert_problem(admin.post(f"orders/{number}/void"), 503)["code"] == "payment_provider_unavailable"
    assert asked == [True, True]
    assert _state(shop_a, number) == before
    monkeypatch.undo()
    # A retry once the provider answers takes the money.
    assert admin.post(f"orders/{number}/capture").json()["payment_status"] == "paid"


def test_a_refused_capture_changes_nothing(
    api, admin: AdminClient, shop_a: ShopContext, authorized, monkeypatch
) -> None:
    number = authorized()["number"]
    before = _state(shop_a, number)
    monkeypatch.setattr(
        payments.TestProvider,
        "capture",
        lambda self, *, key, amount: payments.ProviderAnswer(
            status="failed", message="Authorization expired."
        ),
    )
    body = assert_problem(admin.post(f"orders/{number}/capture"), 402)
    assert body["code"] == "capture_refused" and body["detail"] == "Authorization expired."
    assert _state(shop_a, number) == before


@pytest.mark.parametrize("value", ["sometimes", "", None, 1, "manual\x00"])
def test_bad_card_capture_settings_are_refused(admin: AdminClient, value: object) -> None:
    assert_problem(admin.patch("payment-settings", {"card_capture": value}), 400)
    assert admin.get("payment-settings").json()["card_capture"] == "automatic"


def test_card_capture_setting_is_audited_and_back_to_automatic_captures_at_checkout(
    api, admin: AdminClient, shop_a: ShopContext, authorized
) -> None:
    assert authorized()["payment_status"] == "authorized"
    assert (
        admin.patch("payment-settings", {"card_capture": "automatic"}).json()["card_capture"] == "automatic"
    )
    variant = sellable_product(admin, stock=3)["variants"][0]["id"]
    assert checkout(api, shop_a, cart_with(api, shop_a, variant)).json()["payment_status"] == "paid"
    audit = admin.get("audit-log", data={"action": "payment_settings.updated"}).json()["results"]
    assert [entry["after"]["card_capture"] for entry in audit][:2] == ["automatic", "manual"]
