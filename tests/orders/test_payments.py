"""
The checkout pipeline's payments: the provider asked with no lock held, 3-D
Secure confirmations, signed provider webhooks, timeouts and the recovery sweep
that finishes or releases a payment left open, and the expiry of unpaid ones.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from billing.selectors import shop_orders_in_period
from catalog.models import Variant
from orders import payments, services
from orders.models import Order, Payment, TestProviderPayment
from tenants.schemas import use_public, use_shop
from tenants.webhooks import signing
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem
from tests.orders.helpers import (
    ADDRESS,
    cart_with,
    checkout,
    sellable_product,
    storefront,
    variant_stock,
)

REQUIRES_ACTION = {"provider": "test", "card_number": payments.TEST_CARD_REQUIRES_ACTION}
TIMES_OUT = {"provider": "test", "card_number": payments.TEST_CARD_TIMES_OUT}
SLOW = {"provider": "test", "card_number": payments.TEST_CARD_SLOW}


@pytest.fixture
def admin(api, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


@pytest.fixture
def quick_provider(settings: Any) -> None:
    settings.TEST_PROVIDER_SLOW_SECONDS = 0.05


def _in_shop(ctx: ShopContext, read: Any) -> Any:
    use_shop(ctx.shop)
    try:
        return read()
    finally:
        use_public()


def _order(ctx: ShopContext, number: int) -> Order:
    return _in_shop(ctx, lambda: Order.objects.get(pk=number - 1000))


def _confirm(api: APIClient, ctx: ShopContext, placed: dict[str, Any], **details: str):
    return storefront(
        api,
        ctx,
        "post",
        f"orders/{placed['number']}/payment-confirmation",
        {"token": placed["token"], "details": details},
    )


# --- 3-D Secure: the shopper confirms ---------------------------------------------------------


@pytest.mark.django_db
def test_a_card_that_requires_action_waits_for_the_shopper_then_pays(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    response = checkout(api, shop_a, cart_with(api, shop_a, variant, 2), payment=REQUIRES_ACTION)
    assert response.status_code == 201, response.content
    placed = response.json()
    assert (placed["status"], placed["payment_status"]) == ("pending", "pending")
    assert placed["payment_action_url"].startswith("/checkout/authenticate?")
    assert placed["payments"][0]["status"] == "requires_action"
    assert variant_stock(shop_a, variant) == 3  # held while the shopper confirms

    paid = _confirm(api, shop_a, placed, authentication="approve")
    assert paid.status_code == 200, paid.content
    assert (paid.json()["status"], paid.json()["payment_status"]) == ("paid", "paid")
    assert paid.json()["payment_action_url"] is None and paid.json()["expires_at"] is None
    # Confirming again changes nothing.
    assert assert_problem(_confirm(api, shop_a, placed, authentication="approve"), 409)["code"] == (
        "payment_not_awaiting_action"
    )
    timeline = admin.get(f"orders/{placed['number']}/events").json()["results"]
    assert [entry["type"] for entry in timeline] == ["payment_captured", "payment_action_required", "placed"]


@pytest.mark.django_db
def test_a_failed_confirmation_cancels_the_order_and_gives_everything_back(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    cart_id = cart_with(api, shop_a, variant, 2)
    placed = checkout(api, shop_a, cart_id, payment=REQUIRES_ACTION).json()
    declined = assert_problem(_confirm(api, shop_a, placed, authentication="decline"), 402)
    assert declined["code"] == "payment_declined"
    order = _order(shop_a, placed["number"])
    assert (order.status, order.payment_status) == ("cancelled", "failed")
    assert variant_stock(shop_a, variant) == 5
    assert len(storefront(api, shop_a, "get", f"carts/{cart_id}").json()["lines"]) == 1


@pytest.mark.django_db
def test_confirmation_bad_input_is_a_problem_and_changes_nothing(
    api, admin: AdminClient, shop_a: ShopContext, shop_b: ShopContext
) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    placed = checkout(api, shop_a, cart_with(api, shop_a, variant), payment=REQUIRES_ACTION).json()
    path = f"orders/{placed['number']}/payment-confirmation"
    forged = {"token": "x" * 43, "details": {"authentication": "approve"}}
    assert assert_problem(storefront(api, shop_a, "post", path, forged), 404)["code"] == "order_not_found"
    for body in (
        {"token": placed["token"] + "\x00", "details": {}},
        {"token": placed["token"], "details": {"authentication": "approve\x00"}},
        {"token": placed["token"], "details": {"authentication": 10**400}},
        {"token": placed["token"], "details": "approve"},
        {"token": 12},
    ):
        assert_problem(storefront(api, shop_a, "post", path, body), 400)
    # The same number and token on another shop's host: no such order there.
    other = storefront(api, shop_b, "post", path, {"token": placed["token"], "details": {}})
    assert assert_problem(other, 404)["code"] == "order_not_found"
    assert _order(shop_a, placed["number"]).payment_status == "pending"
    assert api.options(f"/api/storefront/v1/{path}", HTTP_HOST=shop_a.host).status_code == 200


# --- Provider webhooks ------------------------------------------------------------------------


def _webhook(api: APIClient, ctx: ShopContext, body: Any, *, secret: str | None = None, **extra: Any):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if secret is None:
        use_shop(ctx.shop)
        secret = payments.provider_webhook_secret("test")
        use_public()
    return api.post(
        "/api/storefront/v1/payments/test/webhook",
        raw,
        content_type="application/json",
        HTTP_HOST=ctx.host,
        HTTP_PROVIDER_SIGNATURE=extra.pop("signature", None) or signing.sign(secret=secret, body=raw),
        **extra,
    )


@pytest.mark.django_db
def test_a_signed_provider_webhook_settles_the_payment_once(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    placed = checkout(api, shop_a, cart_with(api, shop_a, variant), payment=REQUIRES_ACTION).json()
    key = _in_shop(shop_a, lambda: Payment.objects.get(kind="charge").idempotency_key)
    body = {"type": "payment.succeeded", "payment": key, "reference": "test_pi_async"}
    assert _webhook(api, shop_a, body).status_code == 204
    order = _order(shop_a, placed["number"])
    assert (order.status, order.payment_status) == ("paid", "paid")
    # A repeat (providers retry) or a late failure for a settled payment changes nothing.
    assert _webhook(api, shop_a, body).status_code == 204
    assert _webhook(api, shop_a, {**body, "type": "payment.failed"}).status_code == 204
    order = _order(shop_a, placed["number"])
    assert (order.status, order.payment_status) == ("paid", "paid")
    assert _in_shop(shop_a, lambda: order.events.filter(type="payment_captured").count()) == 1


@pytest.mark.django_db
def test_provider_webhook_bad_input_is_a_problem_and_changes_nothing(
    api, admin: AdminClient, shop_a: ShopContext, shop_b: ShopContext
) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    placed = checkout(api, shop_a, cart_with(api, shop_a, variant), payment=REQUIRES_ACTION).json()
    key = _in_shop(shop_a, lambda: Payment.objects.get(kind="charge").idempotency_key)
    body = {"type": "payment.succeeded", "payment": key}
    raw = json.dumps(body).encode()
    use_shop(shop_b.shop)
    b_secret = payments.provider_webhook_secret("test")
    use_public()
    stale = signing.sign(secret="whsec_x", body=raw, timestamp=int(time.time()) - 3600)
    refused = [
        (_webhook(api, shop_a, body, signature="t=1,v1=00"), 400),
        (_webhook(api, shop_a, body, secret="whsec_wrong"), 400),
        (_webhook(api, shop_a, body, secret=b_secret), 400),  # shop B's secret on shop A
        (_webhook(api, shop_a, raw, signature=stale), 400),
        (_webhook(api, shop_a, {**body, "payment": "forged-key"}), 404),
        (_webhook(api, shop_b, body), 404),  # shop A's payment named on shop B (signed by B)
        (_webhook(api, shop_a, {**body, "payment": "k\x00"}), 400),
        (_webhook(api, shop_a, {**body, "type": "payment.stolen"}), 400),
        (_webhook(api, shop_a, {**body, "reference": 10**400}), 400),
        (_webhook(api, shop_a, b"{not json"), 400),
        (_webhook(api, shop_a, b'"\\ud800"'), 400),
    ]
    for response, status in refused:
        assert_problem(response, status)
    manual = api.post(
        "/api/storefront/v1/payments/manual/webhook",
        raw,
        content_type="application/json",
        HTTP_HOST=shop_a.host,
    )
    assert assert_problem(manual, 404)["code"] == "payment_not_found"
    unknown = api.post(
        "/api/storefront/v1/payments/stripe/webhook",
        raw,
        content_type="application/json",
        HTTP_HOST=shop_a.host,
    )
    assert_problem(unknown, 404)
    order = _order(shop_a, placed["number"])
    assert (order.status, order.payment_status) == ("pending", "pending")


# --- Timeouts, recovery and expiry -------------------------------------------------------------


@pytest.mark.django_db
def test_a_provider_timeout_answers_202_and_the_sweep_finishes_the_payment(
    api, admin: AdminClient, shop_a: ShopContext, quick_provider: None
) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    response = checkout(api, shop_a, cart_with(api, shop_a, variant), payment=TIMES_OUT)
    assert response.status_code == 202, response.content
    placed = response.json()
    assert (placed["status"], placed["payment_status"]) == ("pending", "pending") and placed["token"]
    use_shop(shop_a.shop)
    # Too early: a checkout may still be waiting for its answer.
    assert services.payments_recover_due() == 0
    later = timezone.now() + dt.timedelta(minutes=3)
    assert services.payments_recover_due(now=later) == 1
    order = Order.objects.get()
    assert (order.status, order.payment_status, order.expires_at) == ("paid", "paid", None)
    charge = order.payments.get()
    provider_side = TestProviderPayment.objects.get(key=charge.idempotency_key)
    assert charge.status == "succeeded" and charge.reference == provider_side.reference
    assert TestProviderPayment.objects.filter(kind="charge").count() == 1  # charged once
    assert services.payments_recover_due(now=later) == 0
    use_public()


@pytest.mark.django_db
def test_a_checkout_that_stopped_before_asking_the_provider_is_released(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    """The first step committed, then the process died: the sweep voids the key and gives everything back."""
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    cart_id = cart_with(api, shop_a, variant, 2)
    use_shop(shop_a.shop)
    usage_before = shop_orders_in_period(shop_a.shop.pk)
    placed = services.order_place(
        cart_id=cart_id,
        email="ada@example.com",
        shipping_address=services.ShippingAddress(**ADDRESS),
        payment_method={"provider": "test", "card_number": payments.TEST_CARD_PAYS},
        currency="EUR",
    )
    assert Variant.objects.get(pk=variant).stock == 3
    assert services.payments_recover_due(now=timezone.now() + dt.timedelta(minutes=3)) == 1
    order = Order.objects.get(pk=placed.order.pk)
    assert (order.status, order.payment_status) == ("cancelled", "failed")
    assert Variant.objects.get(pk=variant).stock == 5
    usage_after = shop_orders_in_period(shop_a.shop.pk)
    assert (usage_after or 0) == (usage_before or 0)
    # The provider remembers the void: the request arriving late takes no money.
    late = services.order_payment_request(
        placed=placed, payment_method={"provider": "test", "card_number": payments.TEST_CARD_PAYS}
    )
    assert late is not None and late.status == "voided"
    assert (
        services.order_payment_settle(order_id=order.pk, answer=late, actor=_system()).status == "cancelled"
    )
    use_public()
    assert len(storefront(api, shop_a, "get", f"carts/{cart_id}").json()["lines"]) == 1


def _system() -> Any:
    from tenants.audit.services import Actor

    return Actor.system("test")


@pytest.mark.django_db
def test_an_unconfirmed_payment_expires_voided_and_its_stock_returns(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    placed = checkout(api, shop_a, cart_with(api, shop_a, variant, 2), payment=REQUIRES_ACTION).json()
    use_shop(shop_a.shop)
    # Awaiting the shopper is not a stopped checkout: the recovery leaves it alone.
    assert services.payments_recover_due(now=timezone.now() + dt.timedelta(minutes=3)) == 0
    assert services.orders_expire_due(now=timezone.now() + dt.timedelta(hours=1)) == 1
    order = Order.objects.get()
    assert (order.status, order.payment_status) == ("cancelled", "expired")
    assert order.payments.get().status == "voided"
    assert TestProviderPayment.objects.get().status == "voided"
    assert Variant.objects.get(pk=variant).stock == 5
    use_public()
    assert assert_problem(_confirm(api, shop_a, placed, authentication="approve"), 409)


@pytest.mark.django_db
def test_a_payment_taken_before_its_order_expired_is_finished_not_expired(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    checkout(api, shop_a, cart_with(api, shop_a, variant, 2), payment=REQUIRES_ACTION)
    use_shop(shop_a.shop)
    # The shopper confirmed at the provider, whose webhook never arrived.
    TestProviderPayment.objects.update(status="succeeded", action_url="")
    assert services.orders_expire_due(now=timezone.now() + dt.timedelta(hours=1)) == 1
    order = Order.objects.get()
    assert (order.status, order.payment_status) == ("paid", "paid")
    assert Variant.objects.get(pk=variant).stock == 3
    use_public()


# --- No lock held while the provider takes its time ---------------------------------------------


def test_a_slow_provider_holds_no_row_of_the_shop(
    committed_shop: ShopContext, django_db_blocker, settings
) -> None:
    """While the provider answers slowly, the variant and usage rows can be locked at once elsewhere."""
    settings.TEST_PROVIDER_SLOW_SECONDS = 3
    with django_db_blocker.unblock():
        admin = AdminClient(APIClient(), committed_shop)
        variant = sellable_product(admin, stock=50)["variants"][0]["id"]
        cart_id = cart_with(APIClient(), committed_shop, variant, 1)
        use_public()
        answers: list[Any] = []

        def buy() -> None:
            try:
                answers.append(checkout(APIClient(), committed_shop, cart_id, payment=SLOW))
            finally:
                connections.close_all()

        buyer = threading.Thread(target=buy)
        buyer.start()
        try:
            use_shop(committed_shop.shop)
            deadline = time.monotonic() + 20
            while not Payment.objects.filter(kind="charge", status="pending").exists():
                assert time.monotonic() < deadline, "the first step never committed"
                time.sleep(0.05)
            time.sleep(0.3)  # the provider is now sleeping on its answer
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '500ms'")
                cursor.execute("BEGIN")
                cursor.execute("SELECT 1 FROM catalog_variant WHERE id = %s FOR UPDATE NOWAIT", [variant])
                cursor.execute("SELECT 1 FROM billing_usage_ordercount FOR UPDATE NOWAIT")
                cursor.execute("SELECT 1 FROM orders_order FOR UPDATE NOWAIT")
                cursor.execute("ROLLBACK")
                cursor.execute("RESET lock_timeout")
            assert not answers, "the provider answered before the locks were tried"
        finally:
            buyer.join(30)
        assert answers and answers[0].status_code == 201, answers and answers[0].content
        assert answers[0].json()["payment_status"] == "paid"
        use_public()


@pytest.mark.django_db
def test_shop_isolation_of_payments_by_key(shop_a: ShopContext, shop_b: ShopContext) -> None:
    """Keys carry the shop: the same order id in two shops is two payments to a provider."""
    use_shop(shop_a.shop)
    key_a = payments.payment_key(1)
    use_shop(shop_b.shop)
    key_b = payments.payment_key(1)
    use_public()
    assert key_a != key_b
