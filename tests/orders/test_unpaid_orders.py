"""
Unpaid orders cannot lock a shop: manual payment is off until the merchant turns
it on, unpaid orders expire and give their stock back (`order.expired`), the
month's order limit counts paid orders, and checkout has its own per-client budget.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from billing import ratelimits
from billing.selectors import shop_orders_in_period
from catalog.models import InventoryAdjustment, Variant
from orders import services, tasks
from orders.models import ORDER_NUMBER_OFFSET, Order
from tenants.audit.models import AuditEntry
from tenants.models import Membership
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tests.billing.helpers import set_limits
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem, bearer, make_user
from tests.orders.helpers import (
    MANUAL,
    PAYS,
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


def _order(ctx: ShopContext, number: int) -> Order:
    use_shop(ctx.shop)
    order = Order.objects.get(pk=number - ORDER_NUMBER_OFFSET)
    use_public()
    return order


def _events(ctx: ShopContext, event_type: str) -> list[OutboxEvent]:
    use_shop(ctx.shop)  # a shop's events are in its own schema's outbox
    events = list(OutboxEvent.objects.filter(schema_name=ctx.shop.schema_name, type=event_type))
    use_public()
    return events


def _expire_at(moment: dt.datetime) -> None:
    """What beat does every minute, as if it ran at `moment`."""
    use_public()
    tasks.unpaid_orders_expire.delay(now=moment.isoformat())


# --- Manual payment is off until the merchant turns it on -------------------------------------


@pytest.mark.django_db
def test_manual_payment_is_refused_until_the_merchant_turns_it_on(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    cart_id = cart_with(api, shop_a, variant, 2)
    assert storefront(api, shop_a, "get", "payment-methods").json() == {"providers": ["test"]}
    current = admin.get("payment-settings")
    assert current.status_code == 200
    assert current.json() == {
        "manual_enabled": False,
        "manual_expiry_hours": 24,
        "card_capture": "automatic",
        "card_authorization_expiry_minutes": settings.ORDER_AUTHORIZATION_EXPIRY_MINUTES,
        "providers": ["test"],
        "provider_webhooks": [
            {
                "provider": "test",
                "path": "/api/storefront/v1/payments/test/webhook",
                "secret": current.json()["provider_webhooks"][0]["secret"],
            }
        ],
    }
    assert current.json()["provider_webhooks"][0]["secret"].startswith("whsec_")

    refused = checkout(api, shop_a, cart_id, payment=MANUAL)
    body = assert_problem(refused, 422)
    assert body["code"] == "payment_method_disabled"
    assert "manual payment" in body["detail"]
    assert body["errors"] == {"payment_method.provider": ["Manual payment is turned off in this shop."]}
    assert variant_stock(shop_a, variant) == 5
    use_shop(shop_a.shop)
    assert not Order.objects.exists()
    use_public()

    turned_on = admin.patch("payment-settings", {"manual_enabled": True, "manual_expiry_hours": 48})
    assert turned_on.status_code == 200, turned_on.content
    assert turned_on.json()["manual_enabled"] is True and turned_on.json()["providers"] == ["manual", "test"]
    assert storefront(api, shop_a, "get", "payment-methods").json() == {"providers": ["manual", "test"]}
    before = timezone.now()
    placed = checkout(api, shop_a, cart_id, payment=MANUAL)
    assert placed.status_code == 201, placed.content
    order = placed.json()
    assert order["status"] == "pending" and order["payments"] == []
    expires = dt.datetime.fromisoformat(order["expires_at"])
    assert before + dt.timedelta(hours=48) <= expires <= timezone.now() + dt.timedelta(hours=48)
    assert variant_stock(shop_a, variant) == 3
    (created,) = _events(shop_a, "order.created")
    assert created.payload["expires_at"] == expires.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    use_shop(shop_a.shop)
    entry = AuditEntry.objects.get(action="payment_settings.updated")
    assert entry.before == {"manual_enabled": False, "manual_expiry_hours": 24, "card_capture": "automatic"}
    assert entry.after == {"manual_enabled": True, "manual_expiry_hours": 48, "card_capture": "automatic"}
    use_public()

    assert admin.patch("payment-settings", {"manual_enabled": False}).json()["manual_expiry_hours"] == 48
    other_cart = cart_with(api, shop_a, variant, 1)
    assert assert_problem(checkout(api, shop_a, other_cart, payment=MANUAL), 422)["code"] == (
        "payment_method_disabled"
    )
    # A card order is paid at once and never expires.
    paid = checkout(api, shop_a, other_cart).json()
    assert paid["status"] == "paid" and paid["expires_at"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b'{"manual_expiry_hours": 0}',
        b'{"manual_expiry_hours": 721}',
        b'{"manual_expiry_hours": 1' + b"0" * 40 + b"}",
        b'{"manual_expiry_hours": "\\u0000"}',
        b'{"manual_expiry_hours": "12\\ud800"}',
        b'{"manual_enabled": "maybe"}',
        b'{"manual_enabled": null}',
        b'{"manual_enabled": true, "manual_expiry_hours": "\\u0000"}',
        b"[]",
        b'{"manual_enabled": tru',
    ],
)
def test_bad_payment_settings_are_refused_and_change_nothing(
    api, admin: AdminClient, shop_a: ShopContext, body: bytes
) -> None:
    response = api.patch(
        "/api/admin/v1/payment-settings", data=body, content_type="application/json", **admin.headers
    )
    assert_problem(response, 400)
    assert admin.get("payment-settings").json()["manual_enabled"] is False
    assert admin.get("payment-settings").json()["manual_expiry_hours"] == 24


@pytest.mark.django_db
def test_only_owners_and_admins_change_payment_settings(api, admin: AdminClient, shop_a: ShopContext) -> None:
    staff = make_user("staff@alpha.example")
    Membership.objects.create(user=staff, shop=shop_a.shop, role=Membership.Role.STAFF)
    as_staff = AdminClient(api, shop_a, authorization=bearer(shop_a.token(staff))["HTTP_AUTHORIZATION"])
    assert_problem(as_staff.patch("payment-settings", {"manual_enabled": True}), 403)
    assert_problem(
        api.patch("/api/admin/v1/payment-settings", {"manual_enabled": True}, HTTP_HOST=shop_a.host), 401
    )
    assert_problem(api.options("/api/admin/v1/payment-settings", HTTP_HOST=shop_a.host), 401)
    assert_problem(admin.post("payment-settings", {"manual_enabled": True}), 405)
    assert admin.get("payment-settings").json()["manual_enabled"] is False


# --- Unpaid orders expire and give their stock back ---------------------------------------------


@pytest.mark.django_db
def test_an_unpaid_order_expires_and_the_next_shopper_gets_the_last_unit(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    manual_payment_on(admin, hours=2)
    variant = sellable_product(admin, stock=1)["variants"][0]["id"]
    shopper_cart = cart_with(api, shop_a, variant)  # a paying shopper's cart, filled first
    unpaid = checkout(api, shop_a, cart_with(api, shop_a, variant), payment=MANUAL)
    assert unpaid.status_code == 201, unpaid.content
    number = unpaid.json()["number"]
    assert variant_stock(shop_a, variant) == 0
    assert assert_problem(checkout(api, shop_a, shopper_cart), 409)["code"] == "insufficient_stock"

    _expire_at(timezone.now() + dt.timedelta(minutes=119))  # not yet due
    assert _order(shop_a, number).status == "pending" and variant_stock(shop_a, variant) == 0

    _expire_at(timezone.now() + dt.timedelta(hours=2, minutes=1))
    expired = _order(shop_a, number)
    assert expired.status == "cancelled" and expired.cancelled_at is not None
    assert variant_stock(shop_a, variant) == 1
    use_shop(shop_a.shop)
    restock = InventoryAdjustment.objects.filter(variant_id=variant).order_by("id").last()
    assert restock is not None and (restock.delta, restock.reason) == (1, "restocked")
    assert restock.note == f"order {number} expired unpaid"
    assert AuditEntry.objects.filter(object_type="order", action="order.expired").count() == 1
    use_public()
    (event,) = _events(shop_a, "order.expired")
    assert event.payload["number"] == number and event.payload["status"] == "cancelled"
    assert event.payload["expires_at"] == _events(shop_a, "order.created")[0].payload["expires_at"]
    # The merchant sees it cancelled, and can no longer mark it paid.
    assert admin.get(f"orders/{number}").json()["status"] == "cancelled"
    assert assert_problem(admin.post(f"orders/{number}/mark-paid"), 409)["code"] == "illegal_transition"

    # The paying shopper now gets the unit; a second sweep changes nothing.
    assert checkout(api, shop_a, shopper_cart).status_code == 201
    _expire_at(timezone.now() + dt.timedelta(hours=3))
    assert len(_events(shop_a, "order.expired")) == 1 and variant_stock(shop_a, variant) == 0


@pytest.mark.django_db
def test_a_paid_order_is_never_expired(api, admin: AdminClient, shop_a: ShopContext) -> None:
    manual_payment_on(admin, hours=1)
    variant = sellable_product(admin, stock=4)["variants"][0]["id"]
    number = checkout(api, shop_a, cart_with(api, shop_a, variant, 2), payment=MANUAL).json()["number"]
    paid = admin.post(f"orders/{number}/mark-paid", {"reference": "transfer 7"})
    assert paid.status_code == 200 and paid.json()["expires_at"] is None
    _expire_at(timezone.now() + dt.timedelta(days=2))
    assert _order(shop_a, number).status == "paid"
    assert variant_stock(shop_a, variant) == 2
    assert _events(shop_a, "order.expired") == []


def test_an_order_paid_while_the_sweep_runs_is_not_expired(
    committed_shop: ShopContext, django_db_blocker
) -> None:
    """
    The payment holds the order's row lock when the sweep reaches the order: the
    sweep waits, sees it paid, and leaves it (and its stock) alone.
    """
    with django_db_blocker.unblock():
        admin = AdminClient(APIClient(), committed_shop)
        manual_payment_on(admin, hours=1)
        variant = sellable_product(admin, stock=3)["variants"][0]["id"]
        api = APIClient()
        number = checkout(
            api, committed_shop, cart_with(api, committed_shop, variant), payment=MANUAL
        ).json()["number"]
        order_id = number - ORDER_NUMBER_OFFSET
        schema = committed_shop.shop.schema_name
        params = connection.get_connection_params()
        payer = psycopg.connect(
            host=params.get("host"),
            port=params.get("port"),
            user=params.get("user"),
            dbname=params.get("dbname"),
            password=params.get("password"),
        )
        expired: list[int] = []

        def sweep() -> None:
            try:
                use_shop(committed_shop.shop)
                expired.append(services.orders_expire_due(now=timezone.now() + dt.timedelta(hours=2)))
            finally:
                connections.close_all()

        try:
            with payer.transaction():
                payer.execute(f'SET LOCAL search_path TO "{schema}"')
                payer.execute("SELECT id FROM orders_order WHERE id = %s FOR UPDATE", [order_id])
                sweeper = threading.Thread(target=sweep)
                sweeper.start()
                time.sleep(0.5)  # the sweep is now waiting for the payment's lock
                assert sweeper.is_alive()
                payer.execute(
                    "UPDATE orders_order SET status = 'paid', paid_at = now() WHERE id = %s", [order_id]
                )
            sweeper.join(10)
            assert expired == [0]
            use_shop(committed_shop.shop)
            assert Order.objects.get(pk=order_id).status == "paid"
            assert Variant.objects.get(pk=variant).stock == 2
            use_public()
            assert _events(committed_shop, "order.expired") == []
        finally:
            payer.close()
            use_public()


# --- The month's order limit counts paid orders -----------------------------------------------


@pytest.mark.django_db
def test_unpaid_orders_do_not_use_up_the_months_orders(api, admin: AdminClient, shop_a: ShopContext) -> None:
    set_limits(max_orders_per_month=2)
    manual_payment_on(admin)
    variant = sellable_product(admin, stock=50)["variants"][0]["id"]
    unpaid = [checkout(api, shop_a, cart_with(api, shop_a, variant), payment=MANUAL) for _ in range(4)]
    assert [response.status_code for response in unpaid] == [201] * 4
    card = checkout(api, shop_a, cart_with(api, shop_a, variant), payment=PAYS)
    assert card.status_code == 201, card.content  # four unpaid orders did not fill the month
    use_public()
    assert shop_orders_in_period(shop_a.shop.pk) == 1

    # Marked paid, a manual order counts; the month is then full for new orders of either kind.
    assert admin.post(f"orders/{unpaid[0].json()['number']}/mark-paid").status_code == 200
    use_public()
    assert shop_orders_in_period(shop_a.shop.pk) == 2
    body = assert_problem(checkout(api, shop_a, cart_with(api, shop_a, variant)), 402)
    assert body["code"] == "limit_reached" and body["limit"] == "max_orders_per_month"
    assert_problem(checkout(api, shop_a, cart_with(api, shop_a, variant), payment=MANUAL), 402)
    # An order accepted earlier still records its payment when the money arrives (past the limit).
    assert admin.post(f"orders/{unpaid[1].json()['number']}/mark-paid").status_code == 200
    use_public()
    assert shop_orders_in_period(shop_a.shop.pk) == 3
    # A refund or cancellation does not give the slot back: the order was sold.
    assert admin.post(f"orders/{unpaid[1].json()['number']}/cancel").status_code == 200
    use_public()
    assert shop_orders_in_period(shop_a.shop.pk) == 3


# --- Checkout has its own, tighter budget per client -------------------------------------------


@pytest.fixture
def held_clock(monkeypatch) -> None:
    """The limiter's windows are fixed minutes: hold its clock mid-window so none straddles one."""
    window = ratelimits.WINDOW_SECONDS
    now = time.time() // window * window + window / 2

    class Clock:
        @staticmethod
        def time() -> float:
            return now

        @staticmethod
        def monotonic() -> float:
            return time.monotonic()

    monkeypatch.setattr(ratelimits, "time", Clock)


@pytest.mark.django_db
def test_the_checkout_beyond_the_clients_budget_is_429(
    api, admin: AdminClient, shop_a: ShopContext, held_clock
) -> None:
    quota = settings.RATE_LIMIT_CHECKOUT_PER_MINUTE
    assert 0 < quota < 60  # far tighter than any plan's storefront budget
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    empty = storefront(api, shop_a, "post", "carts").json()["id"]
    for remaining in range(quota - 1, -1, -1):
        tried = checkout(api, shop_a, empty, remote_addr="203.0.113.7")
        assert tried.status_code == 409  # an empty cart, but a checkout all the same
        assert tried["RateLimit-Policy"] == f'"checkout";q={quota};w=60'
        assert tried["RateLimit"].startswith(f'"checkout";r={remaining};t=')

    cart_id = cart_with(api, shop_a, variant, 2)
    refused = checkout(api, shop_a, cart_id, remote_addr="203.0.113.7")
    body = assert_problem(refused, 429)
    assert body["code"] == "rate_limited" and f"{quota} requests" in body["detail"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert variant_stock(shop_a, variant) == 5  # refused before the checkout ran

    # Browsing is not checking out: the storefront budget is untouched; another shopper checks out.
    browsing = storefront(api, shop_a, "get", "products", REMOTE_ADDR="203.0.113.7")
    assert browsing.status_code == 200 and browsing["RateLimit-Policy"].startswith('"storefront"')
    other = checkout(api, shop_a, cart_id, remote_addr="203.0.113.8")
    assert other.status_code == 201, other.content
