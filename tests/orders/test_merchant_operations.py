"""
Merchants' day-to-day order work in the Admin API: finding orders (number,
e-mail, name, days, status, total), tracking on fulfilment (in the shipping
e-mail and the webhook event), a customer's detail and notes, the dashboard.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from orders.models import Order
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem
from tests.orders.helpers import ADDRESS, MANUAL, cart_with, checkout, manual_payment_on, sellable_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(api: Any, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


@pytest.fixture
def place(api: Any, shop_a: ShopContext, admin: AdminClient):
    manual_payment_on(admin)
    variant = sellable_product(admin, stock=100, price="25.00")["variants"][0]["id"]

    def placed(
        payment: dict[str, Any] | None = None,
        quantity: int = 1,
        email: str = "ada@example.com",
        name: str = "",
    ) -> int:
        cart_id = cart_with(api, shop_a, variant, quantity)
        address = {**ADDRESS, "name": name or ADDRESS["name"]}
        extra = {"payment": payment} if payment else {}
        response = checkout(api, shop_a, cart_id, email=email, shipping_address=address, **extra)
        assert response.status_code == 201, response.content
        return int(response.json()["number"])

    return placed


def numbers(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [order["number"] for order in response.json()["results"]]


def test_orders_are_found_by_number_email_name_days_status_and_total(
    admin: AdminClient, shop_a, place
) -> None:
    first = place(email="ada@example.com", name="Ada Lovelace")
    second = place(MANUAL, quantity=3, email="grace@navy.example", name="Grace Hopper")
    third = place(quantity=2, email="alan@example.com", name="Alan Turing")
    use_shop(shop_a.shop)
    Order.objects.filter(pk=first - 1000).update(placed_at=timezone.now() - timedelta(days=3))
    use_public()

    assert numbers(admin.get("orders", data={"q": str(second)})) == [second]
    assert numbers(admin.get("orders", data={"q": f"#{third}"})) == [third]
    assert numbers(admin.get("orders", data={"q": "NAVY.example"})) == [second]
    assert numbers(admin.get("orders", data={"q": "hopper"})) == [second]
    assert numbers(admin.get("orders", data={"q": "99999"})) == []
    assert numbers(admin.get("orders", data={"q": "9" * 40})) == []
    today = timezone.now().date().isoformat()
    assert numbers(admin.get("orders", data={"from": today})) == [third, second]
    three_days_ago = (timezone.now() - timedelta(days=3)).date().isoformat()
    assert numbers(admin.get("orders", data={"to": three_days_ago})) == [first]
    assert numbers(admin.get("orders", data={"status": "pending"})) == [second]
    assert numbers(admin.get("orders", data={"total_min": "50", "total_max": "60"})) == [third]
    assert numbers(admin.get("orders", data={"total_min": "70"})) == [second]
    assert numbers(admin.get("orders", data={"q": "example.com", "status": "paid", "from": today})) == [third]


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-13-01"},
        {"to": "yesterday"},
        {"total_min": "-1"},
        {"total_min": "1e400"},
        {"total_max": "99999999999999999999"},
        {"total_min": "abc"},
        {"q": "x" * 201},
        {"q": "a\x00b"},
        {"from": "99999-01-01"},
    ],
)
def test_bad_order_searches_are_refused(admin: AdminClient, query: dict[str, str]) -> None:
    assert_problem(admin.get("orders", data=query), 400)


def test_fulfil_with_tracking_reaches_the_shipping_email_and_the_event(
    admin: AdminClient, shop_a, place, django_capture_on_commit_callbacks
) -> None:
    number = place()
    tracking = {
        "tracking_number": "1Z999AA10123456784",
        "carrier": "UPS",
        "tracking_url": "https://ups.example/t/1Z9",
    }
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"orders/{number}/fulfill", tracking)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "fulfilled"
    use_shop(shop_a.shop)
    order = Order.objects.get(pk=number - 1000)
    assert (order.tracking_number, order.carrier, order.tracking_url) == tuple(tracking.values())
    event = OutboxEvent.objects.get(type="order.fulfilled")
    assert event.payload["tracking"] == {
        "number": "1Z999AA10123456784",
        "carrier": "UPS",
        "url": tracking["tracking_url"],
    }
    use_public()
    (notice,) = [message for message in mail.outbox if "has shipped" in message.subject]
    assert "UPS 1Z999AA10123456784" in notice.body and tracking["tracking_url"] in notice.body
    html = notice.alternatives[0][0]
    assert "1Z999AA10123456784" in html and 'href="https://ups.example/t/1Z9"' in html


def test_fulfil_without_tracking_still_works(admin: AdminClient, shop_a, place) -> None:
    number = place()
    assert admin.post(f"orders/{number}/fulfill").json()["status"] == "fulfilled"
    use_shop(shop_a.shop)
    event = OutboxEvent.objects.get(type="order.fulfilled")
    assert event.payload["tracking"] == {"number": "", "carrier": "", "url": ""}


@pytest.mark.parametrize(
    "body",
    [
        {"tracking_url": "javascript:alert(1)"},
        {"tracking_url": "ftp://example.com/x"},
        {"tracking_number": 12345},
        {"tracking_number": "x" * 101},
        {"carrier": ["UPS"]},
        [],
    ],
)
def test_bad_tracking_is_refused_and_changes_nothing(admin: AdminClient, shop_a, place, body: object) -> None:
    number = place()
    assert_problem(admin.post(f"orders/{number}/fulfill", body), 400)
    assert admin.get(f"orders/{number}").json()["status"] == "paid"


def test_a_customer_shows_addresses_orders_total_spent_and_notes(admin: AdminClient, shop_a, place) -> None:
    first = place(quantity=2, name="Ada Lovelace")
    second = place(quantity=1, name="Ada King")
    place(MANUAL, quantity=5)  # unpaid: not spent
    admin.post(f"orders/{second}/refund", {"amount": "5.00"})
    customers = admin.get("customers").json()["results"]
    (ada,) = [customer for customer in customers if customer["email"] == "ada@example.com"]
    detail = admin.get(f"customers/{ada['id']}").json()
    assert [order["number"] for order in detail["orders"]][1:] == [second, first]
    assert detail["total_spent"] == [{"amount": "70.00", "currency": "EUR"}]
    assert [address["name"] for address in detail["addresses"]] == ["Ada Lovelace", "Ada King"]
    assert detail["note"] == ""
    changed = admin.patch(f"customers/{ada['id']}", {"note": "Prefers DHL.\nVIP."})
    assert changed.status_code == 200 and changed.json()["note"] == "Prefers DHL.\nVIP."
    assert admin.get(f"customers/{ada['id']}").json()["note"] == "Prefers DHL.\nVIP."
    audit = admin.get("audit-log", data={"action": "customer.note_changed"}).json()["results"]
    assert audit[0]["after"] == {"note": "Prefers DHL.\nVIP."}


@pytest.mark.parametrize("body", [{"note": 5}, {"note": "x" * 5001}, {}, {"note": None}])
def test_bad_customer_notes_are_refused(admin: AdminClient, place, body: object) -> None:
    place()
    (customer,) = admin.get("customers").json()["results"]
    assert_problem(admin.patch(f"customers/{customer['id']}", body), 400)
    assert admin.get(f"customers/{customer['id']}").json()["note"] == ""


def test_another_shop_cannot_see_or_change_this_shops_orders_and_customers(
    api: Any, admin: AdminClient, shop_a: ShopContext, shop_b: ShopContext, place
) -> None:
    number = place()
    (customer,) = admin.get("customers").json()["results"]
    # Shop B's owner on shop A's host: refused outright.
    foreign = AdminClient(api, shop_a, authorization=f"Bearer {shop_b.token()}")
    assert_problem(foreign.get(f"customers/{customer['id']}"), 403)
    assert_problem(foreign.post(f"orders/{number}/fulfill", {"carrier": "UPS"}), 403)
    # Shop B's owner on shop B's host: shop A's ids are not there.
    other = AdminClient(api, shop_b)
    assert_problem(other.patch(f"customers/{customer['id']}", {"note": "x"}), 404)
    assert_problem(other.post(f"orders/{number}/fulfill", {"carrier": "UPS"}), 404)
    assert numbers(other.get("orders", data={"q": str(number)})) == []
    assert admin.get(f"orders/{number}").json()["status"] == "paid"


def test_the_dashboard_counts_today_and_the_todos_and_says_when(admin: AdminClient, shop_a, place) -> None:
    before = timezone.now()
    place(quantity=2)
    place(MANUAL)
    fulfilled = place()
    admin.post(f"orders/{fulfilled}/fulfill")
    low = sellable_product(admin, stock=1, title="Last One")
    response = admin.get("dashboard")
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["today"]["orders_placed"] == 3
    assert body["today"]["orders_paid"] == 2
    assert body["today"]["revenue"] == {"amount": "75.00", "currency": "EUR"}
    assert body["today"]["visitors"] is None
    assert body["todo"] == {"unfulfilled_orders": 1, "low_stock_variants": 1, "failed_webhooks": 0}
    assert low["variants"][0]["stock"] == 1
    assert before.isoformat() <= body["as_of"].replace("Z", "+00:00")
    assert "sales_report_as_of" in body


def test_the_dashboard_counts_only_its_own_shop(
    api: Any, admin: AdminClient, shop_a: ShopContext, shop_b: ShopContext, place
) -> None:
    place(quantity=2)
    other = AdminClient(api, shop_b).get("dashboard").json()
    assert other["today"]["orders_placed"] == 0
    assert other["today"]["revenue"] == {"amount": "0.00", "currency": "USD"}
    assert other["todo"] == {"unfulfilled_orders": 0, "low_stock_variants": 0, "failed_webhooks": 0}
    foreign = AdminClient(api, shop_a, authorization=f"Bearer {shop_b.token()}")
    assert_problem(foreign.get("dashboard"), 403)
