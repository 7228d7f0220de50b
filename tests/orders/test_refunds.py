"""
Refunds that add up: repeated partial refunds until the paid amount is used up,
by amount or by lines and shipping, with optional restock through the stock
ledger; the order keeps its status and fulfilment; the timeline and notes.
"""

from __future__ import annotations

from typing import Any

import pytest

from catalog.models import InventoryAdjustment
from orders.models import Order, OrderEvent, Payment, RefundLine
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem
from tests.orders.helpers import cart_with, checkout, sellable_product, variant_stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(api, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


@pytest.fixture
def paid_order(api, admin: AdminClient, shop_a: ShopContext) -> dict[str, Any]:
    """A paid order of 3 mugs at 20.00 and 1 plate at 15.00 (75.00), fulfilled."""
    mug = sellable_product(admin, stock=10, price="20.00")["variants"][0]["id"]
    plate = sellable_product(admin, stock=10, price="15.00", title="Plate")["variants"][0]["id"]
    cart_id = cart_with(api, shop_a, mug, 3)
    api.post(
        f"/api/storefront/v1/carts/{cart_id}/items",
        {"variant": plate, "quantity": 1},
        format="json",
        HTTP_HOST=shop_a.host,
    )
    order = checkout(api, shop_a, cart_id).json()
    assert order["payment_status"] == "paid", order
    fulfilled = admin.post(f"orders/{order['number']}/fulfill").json()
    lines = {line["sku"]: line for line in fulfilled["lines"]}
    return {"number": order["number"], "mug": mug, "plate": plate, "lines": lines, "order": fulfilled}


def _line(paid_order: dict[str, Any], variant_key: str) -> dict[str, Any]:
    variant = paid_order[variant_key]
    return next(line for line in paid_order["lines"].values() if line["variant"] == variant)


def test_repeated_partial_refunds_by_lines_shipping_and_amount_add_up(
    admin: AdminClient, shop_a: ShopContext, paid_order: dict[str, Any]
) -> None:
    number = paid_order["number"]
    mug = _line(paid_order, "mug")
    # Two mugs back into stock, and 5.00 of shipping (the order has no shipping total yet).
    first = admin.post(
        f"orders/{number}/refund",
        {
            "lines": [{"line": mug["id"], "quantity": 2, "restock": True}],
            "shipping": "5.00",
            "reason": "broken",
        },
    )
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["status"], body["payment_status"], body["fulfillment_status"]) == (
        "fulfilled",
        "partially_refunded",
        "fulfilled",
    )
    assert body["refunded_amount"]["amount"] == "45.00"
    assert next(line for line in body["lines"] if line["id"] == mug["id"])["refunded_quantity"] == 2
    refund = body["payments"][-1]
    assert (
        refund["kind"],
        refund["status"],
        refund["amount"]["amount"],
        refund["shipping_amount"]["amount"],
    ) == (
        "refund",
        "succeeded",
        "45.00",
        "5.00",
    )
    assert variant_stock(shop_a, paid_order["mug"]) == 9  # 10 - 3 sold + 2 returned
    # The last mug without restock, then a plain amount for the rest.
    second = admin.post(f"orders/{number}/refund", {"lines": [{"line": mug["id"], "quantity": 1}]})
    assert second.json()["refunded_amount"]["amount"] == "65.00"
    assert variant_stock(shop_a, paid_order["mug"]) == 9
    third = admin.post(f"orders/{number}/refund", {"amount": "10.00"})
    assert (third.json()["status"], third.json()["payment_status"]) == ("refunded", "refunded")
    assert third.json()["fulfillment_status"] == "fulfilled"
    # Nothing is left: a further refund is refused and changes nothing.
    assert assert_problem(admin.post(f"orders/{number}/refund", {"amount": "0.01"}), 409)["code"] == (
        "illegal_transition"
    )
    use_shop(shop_a.shop)
    order = Order.objects.get()
    assert sum(p.amount for p in order.payments.filter(kind="refund")) == order.total == order.refunded_amount
    assert RefundLine.objects.filter(restocked=True).get().quantity == 2
    returned = InventoryAdjustment.objects.filter(reason="returned").get()
    assert (returned.delta, returned.note) == (2, f"order {number} refunded")
    assert list(
        OutboxEvent.objects.filter(type="order.refunded")
        .order_by("created_at")
        .values_list("payload__payment_status", flat=True)
    ) == ["partially_refunded", "partially_refunded", "refunded"]
    types = list(order.events.order_by("id").values_list("type", flat=True))
    assert types == ["placed", "payment_captured", "fulfilled", "refunded", "refunded", "refunded"]
    use_public()


def test_over_refunds_and_bad_lines_are_refused_and_change_nothing(
    admin: AdminClient, shop_a: ShopContext, paid_order: dict[str, Any], api
) -> None:
    number = paid_order["number"]
    mug = _line(paid_order, "mug")
    before = admin.get(f"orders/{number}").json()
    refused = [
        (admin.post(f"orders/{number}/refund", {"amount": "75.01"}), 409),
        (admin.post(f"orders/{number}/refund", {"amount": "0.00"}), 409),
        (admin.post(f"orders/{number}/refund", {"shipping": "75.01"}), 409),
        (admin.post(f"orders/{number}/refund", {"lines": [{"line": mug["id"], "quantity": 4}]}), 422),
        (admin.post(f"orders/{number}/refund", {"lines": [{"line": 999999, "quantity": 1}]}), 422),
        (
            admin.post(
                f"orders/{number}/refund",
                {"lines": [{"line": mug["id"], "quantity": 1}, {"line": mug["id"], "quantity": 1}]},
            ),
            422,
        ),
        (
            admin.post(
                f"orders/{number}/refund", {"amount": "1.00", "lines": [{"line": mug["id"], "quantity": 1}]}
            ),
            400,
        ),
        (admin.post(f"orders/{number}/refund", {}), 400),
        (admin.post(f"orders/{number}/refund", {"amount": "-1.00"}), 400),
        (admin.post(f"orders/{number}/refund", {"amount": "1" * 400}), 400),
        (admin.post(f"orders/{number}/refund", {"amount": 10}), 400),
        (admin.post(f"orders/{number}/refund", {"amount": "1.00", "reason": "a\x00b"}), 400),
        (admin.post(f"orders/{number}/refund", {"lines": [{"line": mug["id"], "quantity": 10**30}]}), 400),
        (
            admin.post(
                f"orders/{number}/refund", {"lines": [{"line": mug["id"], "quantity": 1, "restock": "yes"}]}
            ),
            400,
        ),
        (admin.post(f"orders/{number}/refund", {"lines": "all"}), 400),
        (admin.post("orders/999999/refund", {"amount": "1.00"}), 404),
    ]
    for response, status in refused:
        assert_problem(response, status)
    assert admin.get(f"orders/{number}").json() == before
    assert variant_stock(shop_a, paid_order["mug"]) == 7
    use_shop(shop_a.shop)
    assert not Payment.objects.filter(kind="refund").exists()
    use_public()


def test_a_line_of_another_order_cannot_be_refunded(
    api, admin: AdminClient, shop_a: ShopContext, paid_order: dict[str, Any]
) -> None:
    other = checkout(api, shop_a, cart_with(api, shop_a, paid_order["plate"], 1)).json()
    foreign = other["lines"][0]["id"]
    response = admin.post(
        f"orders/{paid_order['number']}/refund", {"lines": [{"line": foreign, "quantity": 1}]}
    )
    assert assert_problem(response, 422)["code"] == "refund_line_invalid"


def test_a_refund_with_an_idempotency_key_is_made_once(
    admin: AdminClient, shop_a: ShopContext, paid_order: dict[str, Any]
) -> None:
    number = paid_order["number"]
    first = admin.post(f"orders/{number}/refund", {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY="refund-1")
    again = admin.post(f"orders/{number}/refund", {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY="refund-1")
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert admin.get(f"orders/{number}").json()["refunded_amount"]["amount"] == "10.00"


def test_cancelling_a_partly_refunded_paid_order_refunds_the_rest_without_restocking_twice(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    mug = sellable_product(admin, stock=10, price="20.00")["variants"][0]["id"]
    order = checkout(api, shop_a, cart_with(api, shop_a, mug, 3)).json()
    line = order["lines"][0]["id"]
    admin.post(
        f"orders/{order['number']}/refund", {"lines": [{"line": line, "quantity": 1, "restock": True}]}
    )
    assert variant_stock(shop_a, mug) == 8
    cancelled = admin.post(f"orders/{order['number']}/cancel", {"reason": "fraud"}).json()
    assert (cancelled["status"], cancelled["payment_status"]) == ("cancelled", "refunded")
    assert cancelled["refunded_amount"]["amount"] == "60.00"
    assert [p["status"] for p in cancelled["payments"]] == ["succeeded", "succeeded", "succeeded"]
    assert variant_stock(shop_a, mug) == 10


# --- Timeline and notes ---------------------------------------------------------------------------


def test_the_timeline_shows_events_and_internal_notes(
    admin: AdminClient, shop_a: ShopContext, shop_b: ShopContext, paid_order: dict[str, Any], api
) -> None:
    number = paid_order["number"]
    note = admin.post(f"orders/{number}/notes", {"body": "Customer called: leave at the door."})
    assert note.status_code == 201, note.content
    assert note.json()["type"] == "note" and note.json()["actor"] == shop_a.owner.email
    timeline = admin.get(f"orders/{number}/events?limit=2").json()
    assert [entry["type"] for entry in timeline["results"]] == ["note", "fulfilled"]
    assert timeline["next"]
    rest = admin.get(timeline["next"].split("/api/admin/v1/")[1]).json()
    assert [entry["type"] for entry in rest["results"]] == ["payment_captured", "placed"]
    # Notes are internal: the shopper's view of the order does not carry them.
    assert "leave at the door" not in str(admin.get(f"orders/{number}").json())


def test_notes_and_timeline_bad_input_and_shop_isolation(
    api, admin: AdminClient, shop_a: ShopContext, shop_b: ShopContext, paid_order: dict[str, Any]
) -> None:
    number = paid_order["number"]
    for body in ({"body": ""}, {"body": "a\x00b"}, {"body": "x" * 5001}, {"body": 12}, {}, ["x"]):
        assert_problem(admin.post(f"orders/{number}/notes", body), 400)
    assert_problem(admin.get(f"orders/{number}/events?cursor=forged"), 400)
    assert_problem(admin.get(f"orders/{number}/events?limit=100000000000000000000"), 400)
    # Shop B has no such order: its owner sees neither the timeline nor can write to it.
    other = AdminClient(api, shop_b)
    assert assert_problem(other.get(f"orders/{number}/events"), 404)["code"] == "order_not_found"
    assert (
        assert_problem(other.post(f"orders/{number}/notes", {"body": "hi"}), 404)["code"] == "order_not_found"
    )
    # Shop A's token on shop B's host is refused.
    crossed = api.get(
        f"/api/admin/v1/orders/{number}/events",
        **admin.headers | {"HTTP_HOST": shop_b.host},
    )
    assert crossed.status_code in (401, 403)
    use_shop(shop_a.shop)
    assert not OrderEvent.objects.filter(type="note").exists()
    use_public()
