"""Checkout: idempotent, no oversell, payments through providers, the shopper's view of the order."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connections
from rest_framework.test import APIClient

from catalog.models import InventoryAdjustment, Variant
from orders.models import Customer, Order
from tenants.audit.models import AuditEntry
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem
from tests.orders.helpers import (
    DECLINED,
    MANUAL,
    cart_with,
    checkout,
    manual_payment_on,
    sellable_product,
    storefront,
    variant_stock,
)


@pytest.fixture
def admin(api, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


@pytest.mark.django_db
def test_checkout_pays_with_the_test_card_and_empties_the_cart(
    api, admin: AdminClient, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    product = sellable_product(admin, stock=5, price="20.00")
    variant = product["variants"][0]["id"]
    cart_id = cart_with(api, shop_a, variant, 2)
    admin.patch(f"products/{product['id']}/variants/{variant}", {"price": "18.00"})  # re-read at checkout

    with django_capture_on_commit_callbacks(execute=True):
        response = checkout(api, shop_a, cart_id, key="first-try")
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == "paid" and order["number"] == 1001
    assert order["total"] == {"amount": "36.00", "currency": "EUR"}
    assert order["email"] == "ada@example.com"
    assert [(line["sku"], line["quantity"], line["unit_price"]["amount"]) for line in order["lines"]] == [
        (product["variants"][0]["sku"], 2, "18.00")
    ]
    assert len(order["token"]) >= 24
    assert variant_stock(shop_a, variant) == 3
    assert storefront(api, shop_a, "get", f"carts/{cart_id}").json()["lines"] == []

    use_shop(shop_a.shop)
    assert Customer.objects.get().orders_count == 1
    assert set(OutboxEvent.objects.filter(type__startswith="order.").values_list("type", flat=True)) == {
        "order.created",
        "order.paid",
    }
    assert InventoryAdjustment.objects.filter(variant_id=variant, reason="sold").get().delta == -2
    assert set(AuditEntry.objects.filter(object_type="order").values_list("action", flat=True)) == {
        "order.created",
        "order.paid",
    }
    use_public()

    mine = storefront(api, shop_a, "get", f"orders/{order['number']}?token={order['token']}")
    assert mine.status_code == 200 and mine.json()["number"] == 1001 and "token" not in mine.json()
    assert_problem(storefront(api, shop_a, "get", f"orders/{order['number']}?token=wrong"), 404)
    assert_problem(storefront(api, shop_a, "get", f"orders/{order['number']}"), 400)
    assert_problem(storefront(api, shop_a, "get", f"orders/9999?token={order['token']}"), 404)


@pytest.mark.django_db
def test_checkout_idempotency(api, admin: AdminClient, shop_a: ShopContext) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    cart_id = cart_with(api, shop_a, variant, 1)
    first = checkout(api, shop_a, cart_id, key="order-key")
    again = checkout(api, shop_a, cart_id, key="order-key")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert_problem(checkout(api, shop_a, cart_id, key="order-key", email="other@example.com"), 422)
    use_shop(shop_a.shop)
    assert Order.objects.count() == 1
    use_public()
    missing = storefront(api, shop_a, "post", "checkout", {"cart": cart_id})
    assert assert_problem(missing, 428)["code"] == "idempotency_key_required"


@pytest.mark.django_db
def test_a_declined_card_is_402_cancels_its_order_and_gives_stock_and_cart_back(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    cart_id = cart_with(api, shop_a, variant, 2)
    body = assert_problem(checkout(api, shop_a, cart_id, payment=DECLINED), 402)
    assert body["code"] == "payment_declined"
    assert variant_stock(shop_a, variant) == 5
    use_shop(shop_a.shop)
    # The first step committed a pending order; the third recorded the refusal.
    failed = Order.objects.get()
    assert (failed.status, failed.payment_status, failed.cart_hash) == ("cancelled", "failed", None)
    assert list(failed.payments.values_list("kind", "status")) == [("charge", "failed")]
    assert list(failed.events.values_list("type", flat=True)) == ["placed", "payment_failed"]
    types = list(OutboxEvent.objects.filter(type__startswith="order.").values_list("type", flat=True))
    assert sorted(types) == ["order.cancelled", "order.created"]
    use_public()
    assert len(storefront(api, shop_a, "get", f"carts/{cart_id}").json()["lines"]) == 1  # the cart is back
    again = checkout(api, shop_a, cart_id)  # and can be paid with another card
    assert again.status_code == 201 and again.json()["payment_status"] == "paid"
    assert again.json()["number"] != failed.number
    assert variant_stock(shop_a, variant) == 3


@pytest.mark.django_db
def test_manual_payment_leaves_the_order_pending(api, admin: AdminClient, shop_a: ShopContext) -> None:
    variant = sellable_product(admin)["variants"][0]["id"]
    manual_payment_on(admin)
    order = checkout(api, shop_a, cart_with(api, shop_a, variant), payment=MANUAL).json()
    assert order["status"] == "pending" and order["payments"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"email": "not-an-email"},
        {"shipping_address": {"name": "x"}},
        {
            "shipping_address": {
                "name": "A",
                "line1": "B",
                "city": "C",
                "postal_code": "D",
                "country": "germany",
            }
        },
        {"payment_method": {"provider": "bitcoin"}},
        {"payment_method": {"provider": "test"}},
        {"payment_method": {"provider": "test", "card_number": "abc"}},
        {"cart": "nope"},
        {"cart": 42},
    ],
)
def test_bad_checkout_input_changes_nothing(api, admin: AdminClient, shop_a: ShopContext, overrides) -> None:
    variant = sellable_product(admin, stock=3)["variants"][0]["id"]
    cart_id = cart_with(api, shop_a, variant)
    response = checkout(api, shop_a, cart_id, **overrides)
    assert 400 <= response.status_code < 500 and response["Content-Type"] == "application/problem+json"
    assert variant_stock(shop_a, variant) == 3


@pytest.mark.django_db
def test_empty_unknown_and_sold_out_carts(api, admin: AdminClient, shop_a: ShopContext) -> None:
    empty = storefront(api, shop_a, "post", "carts").json()["id"]
    assert assert_problem(checkout(api, shop_a, empty), 409)["code"] == "cart_empty"
    assert_problem(checkout(api, shop_a, "f" * 32), 404)
    product = sellable_product(admin, stock=2)
    variant = product["variants"][0]["id"]
    cart_id = cart_with(api, shop_a, variant, 2)
    admin.post("inventory/adjustments", {"variant": variant, "delta": -1, "reason": "damaged"})
    assert assert_problem(checkout(api, shop_a, cart_id), 409)["code"] == "insufficient_stock"
    admin.patch(f"products/{product['id']}", {"status": "draft"})
    assert assert_problem(checkout(api, shop_a, cart_id), 409)["code"] == "variant_unavailable"


def test_no_oversell_under_concurrent_checkouts(committed_shop: ShopContext, django_db_blocker) -> None:
    """Thirty shoppers race for five units on real connections: exactly five orders, stock zero."""
    with django_db_blocker.unblock():
        admin = AdminClient(APIClient(), committed_shop)
        variant = sellable_product(admin, stock=5)["variants"][0]["id"]
        carts = [cart_with(APIClient(), committed_shop, variant, 1) for _ in range(30)]
        barrier = threading.Barrier(len(carts))
        statuses: list[int] = []
        lock = threading.Lock()

        def buy(shopper: int, cart_id: str) -> None:
            try:
                barrier.wait(10)
                address = f"198.51.100.{shopper}"  # thirty shoppers, each within their checkout budget
                status = checkout(
                    APIClient(), committed_shop, cart_id, key=uuid.uuid4().hex, remote_addr=address
                ).status_code
                with lock:
                    statuses.append(status)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=buy, args=pair) for pair in enumerate(carts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        assert sorted(statuses) == [201] * 5 + [409] * 25
        use_shop(committed_shop.shop)
        assert Variant.objects.get(pk=variant).stock == 0
        assert Order.objects.count() == 5
        use_public()


@pytest.mark.django_db
def test_checkout_statement_budget_and_one_dispatch_per_order(
    api,
    admin: AdminClient,
    shop_a: ShopContext,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
    monkeypatch,
) -> None:
    """Checkout is the hot write: its statements are pinned, and its events wake one dispatch."""
    from tenants.outbox import tasks

    queued: list[str] = []
    monkeypatch.setattr(
        tasks.outbox_dispatch,
        "apply_async",
        lambda headers, **options: queued.append(headers["_schema_name"]),
    )
    first, second = (sellable_product(admin, stock=9)["variants"][0]["id"] for _ in range(2))
    cart_id = cart_with(api, shop_a, first, 1)
    storefront(api, shop_a, "post", f"carts/{cart_id}/items", {"variant": second, "quantity": 2})
    # SET search_path; then the first transaction: the idempotency key's lock and look-up (one
    # SELECT), the cart taken (locked, emptied and its lines returned by one UPDATE), two
    # conditional stock UPDATEs, the ledger INSERT, the plan read with its subscription locked
    # and this month's order count (one upsert), one INSERT each for customer, order, lines,
    # the pending charge, the timeline, the audit entry and the outbox event, and the one
    # SELECT of the shop's pricing settings (orders.quoting): 16. Between them, outside any
    # transaction: the shop's payment settings (capture now, or only authorize for the
    # merchant to capture) and the test provider's own books (one INSERT: what a remote
    # provider's round trip stands for): 2. The second transaction: the order and the charge marked
    # paid (two UPDATEs), one INSERT each for timeline, audit entry and outbox event, and
    # the INSERT that stores the idempotent response: 6. 24 in all; the test's own
    # transaction turns each of the request's two into a savepoint (+4).
    with django_capture_on_commit_callbacks(execute=True), django_assert_max_num_queries(28):
        response = checkout(api, shop_a, cart_id)
    assert response.status_code == 201, response.content
    use_shop(shop_a.shop)
    events = list(OutboxEvent.objects.filter(type__startswith="order.").order_by("created_at"))
    use_public()
    assert queued == [shop_a.shop.schema_name]
    assert [event.type for event in events] == ["order.created", "order.paid"]
