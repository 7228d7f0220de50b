"""The order lifecycle in the Admin API: legal transitions, 409 for the rest, stock and money follow."""

from __future__ import annotations

import pytest

from catalog.models import Variant
from orders.models import Order, Payment
from tenants.audit.models import AuditEntry
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem
from tests.orders.helpers import MANUAL, PAYS, cart_with, checkout, manual_payment_on, sellable_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(api, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


@pytest.fixture
def place(api, admin: AdminClient, shop_a: ShopContext):
    variant = sellable_product(admin, stock=10, price="25.00")["variants"][0]["id"]
    manual_payment_on(admin)

    def place_order(payment=PAYS, quantity: int = 2) -> int:
        response = checkout(api, shop_a, cart_with(api, shop_a, variant, quantity), payment=payment)
        assert response.status_code == 201, response.content
        return int(response.json()["number"])

    place_order.variant = variant
    return place_order


def _stock(ctx: ShopContext, variant: int) -> int:
    use_shop(ctx.shop)
    value = Variant.objects.get(pk=variant).stock
    use_public()
    return value


def test_manual_order_paid_fulfilled_refunded_in_parts(
    admin: AdminClient, shop_a: ShopContext, place
) -> None:
    number = place(MANUAL)
    paid = admin.post(f"orders/{number}/mark-paid", {"reference": "bank transfer 42"})
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert admin.post(f"orders/{number}/fulfill").json()["status"] == "fulfilled"
    first = admin.post(f"orders/{number}/refund", {"amount": "10.00", "reason": "scratched"})
    assert first.status_code == 200, first.content
    # A partial refund keeps the order fulfilled; its payment says what happened.
    assert (first.json()["status"], first.json()["payment_status"]) == ("fulfilled", "partially_refunded")
    assert first.json()["fulfillment_status"] == "fulfilled"
    assert first.json()["refunded_amount"]["amount"] == "10.00"
    second = admin.post(f"orders/{number}/refund", {"amount": "40.00"})
    assert second.json()["refunded_amount"]["amount"] == "50.00"
    assert (second.json()["status"], second.json()["payment_status"]) == ("refunded", "refunded")
    assert second.json()["fulfillment_status"] == "fulfilled"
    # Everything is paid back: the order takes no more refunds.
    body = assert_problem(admin.post(f"orders/{number}/refund", {"amount": "0.01"}), 409)
    assert body["code"] == "illegal_transition"
    use_shop(shop_a.shop)
    order = Order.objects.get()
    assert [p.kind for p in order.payments.order_by("id")] == ["charge", "refund", "refund"]
    types = list(
        OutboxEvent.objects.filter(type__startswith="order.")
        .order_by("created_at")
        .values_list("type", flat=True)
    )
    assert types == ["order.created", "order.paid", "order.fulfilled", "order.refunded", "order.refunded"]
    actions = list(
        AuditEntry.objects.filter(object_type="order").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["order.created", "order.paid", "order.fulfilled", "order.refunded", "order.refunded"]


def test_cancelling_returns_stock_and_refunds_a_paid_order(
    admin: AdminClient, shop_a: ShopContext, place
) -> None:
    number = place(PAYS, quantity=3)
    assert _stock(shop_a, place.variant) == 7
    cancelled = admin.post(f"orders/{number}/cancel", {"reason": "changed mind"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["refunded_amount"]["amount"] == "75.00"
    assert _stock(shop_a, place.variant) == 10
    use_shop(shop_a.shop)
    assert Payment.objects.filter(kind="refund").get().amount == 75


@pytest.mark.parametrize(
    ("payment", "steps", "illegal"),
    [
        (MANUAL, [], ["fulfill", "refund"]),  # pending: cannot ship or refund
        (PAYS, [], ["mark-paid"]),  # paid: cannot be paid again
        (PAYS, ["fulfill"], ["cancel", "mark-paid", "fulfill"]),  # fulfilled
        (PAYS, ["cancel"], ["cancel", "fulfill", "refund", "mark-paid"]),  # cancelled is final
        (MANUAL, ["cancel"], ["mark-paid", "refund"]),
    ],
)
def test_illegal_transitions_are_409_and_change_nothing(
    admin: AdminClient, place, payment, steps, illegal
) -> None:
    number = place(payment)
    for step in steps:
        assert admin.post(f"orders/{number}/{step}", {}).status_code == 200
    before = admin.get(f"orders/{number}").json()
    for action in illegal:
        body = {"amount": "1.00"} if action == "refund" else {}
        assert assert_problem(admin.post(f"orders/{number}/{action}", body), 409)["code"] in (
            "illegal_transition",
            "refund_too_large",
        )
    assert admin.get(f"orders/{number}").json() == before


def test_orders_list_filters_and_customers(admin: AdminClient, place) -> None:
    paid = place(PAYS)
    pending = place(MANUAL)
    listed = admin.get("orders").json()["results"]
    assert [o["number"] for o in listed] == [pending, paid]
    assert [o["number"] for o in admin.get("orders?status=pending").json()["results"]] == [pending]
    assert len(admin.get("orders?email=ADA@example.com").json()["results"]) == 2
    assert admin.get("orders?placed_from=2999-01-01T00:00:00Z").json()["results"] == []
    customers = admin.get("customers").json()["results"]
    assert [(c["email"], c["orders_count"]) for c in customers] == [("ada@example.com", 2)]
    detail = admin.get(f"customers/{customers[0]['id']}").json()
    assert [o["number"] for o in detail["orders"]] == [pending, paid]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("refund", {"amount": "-5.00"}),
        ("refund", {"amount": 5}),
        ("refund", {}),
        ("cancel", {"reason": ["x"]}),
    ],
)
def test_bad_action_input_is_400(admin: AdminClient, place, path: str, body) -> None:
    number = place(PAYS)
    assert_problem(admin.post(f"orders/{number}/{path}", body), 400)
    assert admin.get(f"orders/{number}").json()["status"] == "paid"


def test_unknown_orders_and_other_shops(api, admin: AdminClient, shop_b: ShopContext, place) -> None:
    number = place(PAYS)
    assert_problem(admin.get("orders/424242"), 404)
    assert_problem(admin.post("orders/424242/fulfill"), 404)
    other = AdminClient(api, shop_b)
    assert_problem(other.get(f"orders/{number}"), 404)
    assert_problem(other.post(f"orders/{number}/refund", {"amount": "1.00"}), 404)
    assert_problem(admin.get("orders?status=shipped"), 400)
    assert_problem(admin.get("orders?placed_from=yesterday"), 400)


def test_order_scopes(api, admin: AdminClient, place) -> None:
    number = place(PAYS)
    reader = admin.post("api-keys", {"name": "r", "scopes": ["orders:read"]}).json()["key"]
    client = AdminClient(api, admin.ctx, authorization=f"Api-Key {reader}")
    assert client.get(f"orders/{number}").status_code == 200
    assert_problem(client.post(f"orders/{number}/fulfill"), 403)
    catalog_key = admin.post("api-keys", {"name": "c", "scopes": ["catalog:read"]}).json()["key"]
    assert_problem(AdminClient(api, admin.ctx, authorization=f"Api-Key {catalog_key}").get("orders"), 403)


def test_the_written_out_order_rendering_equals_the_declared_fields(
    admin: AdminClient, shop_a: ShopContext, place
) -> None:
    """OrderOutput renders by hand for speed; DRF's generic rendering of its declared fields must agree."""
    from rest_framework import serializers

    from orders.api.serializers import OrderOutput
    from orders.selectors import orders_for_admin

    pending = place(MANUAL)
    refunded = place()
    admin.post(f"orders/{refunded}/fulfill")
    admin.post(f"orders/{refunded}/refund", {"amount": "10.00", "reason": "scratched"})
    cancelled = place()
    admin.post(f"orders/{cancelled}/cancel", {"reason": "changed mind"})
    use_shop(shop_a.shop)
    orders = list(orders_for_admin())
    assert {order.number for order in orders} == {pending, refunded, cancelled}
    for order in orders:
        output = OrderOutput(order)  # every amount in the order's own currency, no shop context
        generic = serializers.Serializer.to_representation(output, order)
        assert output.data == generic
        assert list(output.data) == list(generic)  # and in the same order
