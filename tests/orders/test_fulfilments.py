"""Fulfilments by lines: parcels of some units, partially_fulfilled until all shipped, no over-shipping."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from django.core import mail
from django.db import connection

from orders.models import Fulfillment, FulfillmentLine, Order, OrderEvent, OrderLine
from tenants import live
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem
from tests.orders.helpers import checkout, sellable_product, storefront

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(api: Any, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


def _two_line_order(
    api: Any, ctx: ShopContext, admin: AdminClient, *, mugs: int = 3, plates: int = 2
) -> dict:
    """A paid order of `mugs` mugs and `plates` plates (two lines)."""
    mug = sellable_product(admin, stock=100, price="10.00", title="Enamel Mug")["variants"][0]["id"]
    plate = sellable_product(admin, stock=100, price="5.00", title="Tin Plate")["variants"][0]["id"]
    cart_id = storefront(api, ctx, "post", "carts").json()["id"]
    for variant, quantity in ((mug, mugs), (plate, plates)):
        added = storefront(
            api, ctx, "post", f"carts/{cart_id}/items", {"variant": variant, "quantity": quantity}
        )
        assert added.status_code == 201, added.content
    placed = checkout(api, ctx, cart_id)
    assert placed.status_code == 201, placed.content
    return placed.json()


def _lines(order: dict) -> tuple[int, int]:
    mug, plate = (line["id"] for line in order["lines"])
    return mug, plate


def _snapshot(ctx: ShopContext, number: int) -> tuple:
    """Everything a refused fulfilment must leave as it was."""
    use_shop(ctx.shop)
    order = Order.objects.get(pk=number - 1000)
    state = (
        order.status,
        order.fulfillment_status,
        order.tracking_number,
        sorted(OrderLine.objects.filter(order=order).values_list("id", "fulfilled_quantity")),
        Fulfillment.objects.count(),
        FulfillmentLine.objects.count(),
        OrderEvent.objects.filter(order=order).count(),
        OutboxEvent.objects.filter(type__startswith="order.", type__contains="fulfilled").count(),
    )
    use_public()
    return state


def test_partial_then_full_fulfilment_walks_the_statuses(
    api, admin: AdminClient, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    order = _two_line_order(api, shop_a, admin)
    number = order["number"]
    mug, plate = _lines(order)
    mail.outbox.clear()
    parcel = {
        "lines": [{"line": mug, "quantity": 2}],
        "tracking_number": "PARCEL-1",
        "carrier": "DHL",
        "tracking_url": "https://dhl.example/t/1",
    }
    with django_capture_on_commit_callbacks(execute=True):
        first = admin.post(f"orders/{number}/fulfill", parcel)
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["status"], body["fulfillment_status"]) == ("paid", "partially_fulfilled")
    assert body["fulfilled_at"] is None
    assert [line["fulfilled_quantity"] for line in body["lines"]] == [2, 0]
    (shipped,) = body["fulfillments"]
    assert shipped["lines"] == [{"line": mug, "quantity": 2}]
    assert (shipped["tracking_number"], shipped["carrier"], shipped["tracking_url"]) == (
        "PARCEL-1",
        "DHL",
        "https://dhl.example/t/1",
    )

    # The shipping e-mail names this parcel's units and tracking, and says more is to come.
    (notice,) = [message for message in mail.outbox if "has shipped" in message.subject]
    assert "part of your order" in notice.body and "DHL PARCEL-1" in notice.body
    assert "2 x Enamel Mug" in notice.body and "Tin Plate" not in notice.body
    assert "The rest of your order follows" in notice.body
    assert "Part of your order is on its way" in notice.alternatives[0][0]

    # The rest, without lines: everything still to ship.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        second = admin.post(f"orders/{number}/fulfill", {"tracking_number": "PARCEL-2"})
    body = second.json()
    assert (body["status"], body["fulfillment_status"]) == ("fulfilled", "fulfilled")
    assert body["fulfilled_at"] is not None and body["tracking_number"] == "PARCEL-2"
    assert [line["fulfilled_quantity"] for line in body["lines"]] == [3, 2]
    assert [f["lines"] for f in body["fulfillments"]] == [
        [{"line": mug, "quantity": 2}],
        [{"line": mug, "quantity": 1}, {"line": plate, "quantity": 2}],
    ]
    (notice,) = [message for message in mail.outbox if "has shipped" in message.subject]
    assert "1 x Enamel Mug" in notice.body and "2 x Tin Plate" in notice.body
    assert "The rest of your order follows" not in notice.body and "PARCEL-2" in notice.body

    # Nothing left: a third is refused.
    assert assert_problem(admin.post(f"orders/{number}/fulfill"), 409)["code"] == "illegal_transition"

    # Webhook payloads: one event per parcel (tests/webhooks holds them to the published schemas).
    use_shop(shop_a.shop)
    partial = OutboxEvent.objects.get(type="order.partially_fulfilled")
    final = OutboxEvent.objects.get(type="order.fulfilled")
    use_public()
    assert partial.payload["fulfillment"]["lines"] == [{"line": mug, "quantity": 2}]
    assert partial.payload["fulfillment_status"] == "partially_fulfilled"
    assert final.payload["fulfillment"]["tracking"]["number"] == "PARCEL-2"
    assert final.payload["fulfillment"]["lines"] == [
        {"line": mug, "quantity": 1},
        {"line": plate, "quantity": 2},
    ]
    assert final.payload["tracking"] == {"number": "PARCEL-2", "carrier": "", "url": ""}

    # The timeline has both, and the shopper's page shows what shipped.
    timeline = admin.get(f"orders/{number}/events").json()["results"]
    assert [entry["type"] for entry in timeline][:2] == ["fulfilled", "partially_fulfilled"]
    assert "Shipped 2 units with DHL, tracking PARCEL-1; more to ship." in [e["message"] for e in timeline]


def test_the_shoppers_order_page_lists_the_parcels(api, admin: AdminClient, shop_a: ShopContext) -> None:
    mug = sellable_product(admin, stock=10, price="10.00")["variants"][0]["id"]
    cart_id = storefront(api, shop_a, "post", "carts").json()["id"]
    storefront(api, shop_a, "post", f"carts/{cart_id}/items", {"variant": mug, "quantity": 2})
    placed = checkout(api, shop_a, cart_id).json()
    line = placed["lines"][0]["id"]
    admin.post(
        f"orders/{placed['number']}/fulfill", {"lines": [{"line": line, "quantity": 1}], "carrier": "UPS"}
    )
    page = storefront(api, shop_a, "get", f"orders/{placed['number']}?token={placed['token']}").json()
    assert page["fulfillment_status"] == "partially_fulfilled"
    assert page["fulfillments"][0]["lines"] == [{"line": line, "quantity": 1}]
    assert page["fulfillments"][0]["carrier"] == "UPS" and "actor" not in page["fulfillments"][0]
    assert page["lines"][0]["fulfilled_quantity"] == 1


@pytest.mark.parametrize(
    "lines",
    [
        [{"line": "MUG", "quantity": 1}],
        [{"line": 1, "quantity": 0}],
        [{"line": 1, "quantity": -1}],
        [{"line": 1, "quantity": 10**30}],
        [{"line": 10**30, "quantity": 1}],
        [{"line": 1, "quantity": "1\x00"}],
        [{"line": 1}],
        {"line": 1, "quantity": 1},
        "all",
        [None],
        [{"line": 1, "quantity": 1}] * 501,
    ],
)
def test_malformed_lines_are_refused_and_change_nothing(
    api, admin: AdminClient, shop_a: ShopContext, lines: object
) -> None:
    order = _two_line_order(api, shop_a, admin)
    before = _snapshot(shop_a, order["number"])
    assert_problem(admin.post(f"orders/{order['number']}/fulfill", {"lines": lines}), 400)
    assert _snapshot(shop_a, order["number"]) == before


@pytest.mark.parametrize(
    "body",
    [
        {"tracking_number": "PARCEL\x00"},
        {"carrier": "\ud800"},
        {"tracking_url": "javascript:alert(1)"},
        {"tracking_number": "x" * 101},
    ],
)
def test_bad_tracking_with_lines_is_refused(api, admin: AdminClient, shop_a: ShopContext, body: dict) -> None:
    order = _two_line_order(api, shop_a, admin)
    mug, _plate = _lines(order)
    before = _snapshot(shop_a, order["number"])
    raw = json.dumps(
        {"lines": [{"line": mug, "quantity": 1}], **body}
    )  # \ud800 escaped, as a client sends it
    response = admin.api.post(
        f"/api/admin/v1/orders/{order['number']}/fulfill",
        raw,
        content_type="application/json",
        **admin.headers,
    )
    assert_problem(response, 400)
    assert _snapshot(shop_a, order["number"]) == before


def test_over_fulfilment_other_orders_lines_and_repeats_are_refused(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    order = _two_line_order(api, shop_a, admin, mugs=3, plates=2)
    other = _two_line_order(api, shop_a, admin)
    number = order["number"]
    mug, plate = _lines(order)
    before = _snapshot(shop_a, number)

    def refused(lines: list[dict[str, int]]) -> dict:
        response = admin.post(f"orders/{number}/fulfill", {"lines": lines})
        assert _snapshot(shop_a, number) == before
        return assert_problem(response, 422)

    assert refused([{"line": mug, "quantity": 4}])["code"] == "fulfillment_line_invalid"
    assert refused([{"line": mug, "quantity": 1_000_000}])["errors"] == {"lines.0.quantity": ["At most 3."]}
    assert refused([{"line": other["lines"][0]["id"], "quantity": 1}])["errors"] == {
        "lines.0.line": ["Not a line of this order."]
    }
    assert refused([{"line": mug, "quantity": 1}, {"line": mug, "quantity": 1}])["code"] == (
        "fulfillment_line_invalid"
    )
    # Shipped once, the same units cannot ship again.
    assert (
        admin.post(f"orders/{number}/fulfill", {"lines": [{"line": plate, "quantity": 2}]}).status_code == 200
    )
    again = admin.post(f"orders/{number}/fulfill", {"lines": [{"line": plate, "quantity": 1}]})
    assert assert_problem(again, 422)["errors"] == {"lines.0.quantity": ["At most 0."]}


def test_another_shops_order_and_lines_are_out_of_reach(
    api, admin: AdminClient, shop_a: ShopContext, shop_b: ShopContext
) -> None:
    order = _two_line_order(api, shop_a, admin)
    _two_line_order(api, shop_b, AdminClient(api, shop_b))
    theirs = _two_line_order(api, shop_b, AdminClient(api, shop_b))
    before = _snapshot(shop_a, order["number"])
    theirs_before = _snapshot(shop_b, theirs["number"])
    # Shop B's line ids named on shop A's order: no such lines here (ids are per shop).
    foreign_lines = [{"line": theirs["lines"][0]["id"], "quantity": 1}]
    refused = admin.post(f"orders/{order['number']}/fulfill", {"lines": foreign_lines})
    assert assert_problem(refused, 422)["errors"] == {"lines.0.line": ["Not a line of this order."]}
    assert _snapshot(shop_b, theirs["number"]) == theirs_before
    # Shop B's owner cannot fulfil shop A's order on either host.
    other = AdminClient(api, shop_b)
    assert_problem(other.post(f"orders/{order['number'] + 50}/fulfill"), 404)
    foreign = AdminClient(api, shop_a, authorization=f"Bearer {shop_b.token()}")
    assert_problem(foreign.post(f"orders/{order['number']}/fulfill"), 403)
    assert _snapshot(shop_a, order["number"]) == before


def test_unpaid_cancelled_and_refunded_into_stock_units_do_not_ship(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    order = _two_line_order(api, shop_a, admin, mugs=3, plates=2)
    number = order["number"]
    mug, plate = _lines(order)
    # Two plates refunded and put back into stock: they never ship, and the mugs complete the order.
    refund = admin.post(
        f"orders/{number}/refund", {"lines": [{"line": plate, "quantity": 2, "restock": True}]}
    )
    assert refund.status_code == 200, refund.content
    assert assert_problem(
        admin.post(f"orders/{number}/fulfill", {"lines": [{"line": plate, "quantity": 1}]}), 422
    )["errors"] == {"lines.0.quantity": ["At most 0."]}
    done = admin.post(f"orders/{number}/fulfill").json()
    assert (done["status"], done["fulfillment_status"]) == ("fulfilled", "fulfilled")
    assert done["fulfillments"][0]["lines"] == [{"line": mug, "quantity": 3}]

    cancelled = _two_line_order(api, shop_a, admin)
    admin.post(f"orders/{cancelled['number']}/cancel")
    assert (
        assert_problem(admin.post(f"orders/{cancelled['number']}/fulfill"), 409)["code"]
        == "illegal_transition"
    )


def test_a_partially_fulfilled_order_can_still_be_cancelled_refunded_and_is_a_todo(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    order = _two_line_order(api, shop_a, admin)
    mug, _plate = _lines(order)
    admin.post(f"orders/{order['number']}/fulfill", {"lines": [{"line": mug, "quantity": 1}]})
    assert admin.get("dashboard").json()["todo"]["unfulfilled_orders"] == 1
    refunded = admin.post(f"orders/{order['number']}/refund", {"amount": "1.00"}).json()
    assert (refunded["status"], refunded["fulfillment_status"]) == ("paid", "partially_fulfilled")


def test_the_migration_gives_orders_fulfilled_before_one_fulfilment_of_all_lines(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    order = _two_line_order(api, shop_a, admin, mugs=3, plates=2)
    untouched = _two_line_order(api, shop_a, admin)
    mug, plate = _lines(order)
    admin.post(
        f"orders/{order['number']}/refund", {"lines": [{"line": plate, "quantity": 1, "restock": True}]}
    )
    use_shop(shop_a.shop)
    # As the old fulfil left it: the order's status and tracking, no fulfilment, no counts on the lines.
    Order.objects.filter(pk=order["number"] - 1000).update(
        status="fulfilled", fulfillment_status="fulfilled", tracking_number="OLD-1", carrier="DPD"
    )
    OrderLine.objects.update(fulfilled_quantity=0, restocked_quantity=0)
    migration = importlib.import_module("orders.migrations.0012_fulfilments_card_capture")
    with connection.cursor() as cursor:
        for statement in (
            "RESTOCKED_FILL",
            "FULFILMENTS_FILL",
            "FULFILMENT_LINES_FILL",
            "FULFILLED_QUANTITIES_FILL",
        ):
            cursor.execute(getattr(migration, statement))
            cursor.execute(getattr(migration, statement))  # run twice (a resumed rollout): no duplicates
    (fulfillment,) = Fulfillment.objects.all()
    assert (fulfillment.order_id, fulfillment.tracking_number, fulfillment.carrier) == (
        order["number"] - 1000,
        "OLD-1",
        "DPD",
    )
    assert sorted(fulfillment.lines.values_list("order_line_id", "quantity")) == [(mug, 3), (plate, 2)]
    assert dict(OrderLine.objects.values_list("id", "fulfilled_quantity"))[mug] == 3
    assert dict(OrderLine.objects.values_list("id", "restocked_quantity"))[plate] == 1
    assert (
        OrderLine.objects.filter(order_id=untouched["number"] - 1000, fulfilled_quantity__gt=0).count() == 0
    )
    use_public()
    assert admin.get(f"orders/{order['number']}").json()["fulfillments"][0]["tracking_number"] == "OLD-1"


def test_a_partial_shipment_reaches_the_admin_and_the_shoppers_page_live() -> None:
    message = {"id": "e1", "type": "order.partially_fulfilled", "data": {"number": 1001, "status": "paid"}}
    assert "order.partially_fulfilled" in live.ADMIN_EVENTS
    assert live.order_page_view(message, number=1001) == {
        "id": "e1",
        "type": "order.partially_fulfilled",
        "data": {"number": 1001, "status": "paid"},
    }
    assert live.order_page_view(message, number=1002) is None
