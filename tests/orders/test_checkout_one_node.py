"""
A checkout writes only its shop's schema: its outbox events, idempotency record
and order count are there, so on Citus its transaction stays on the shop's
node and needs no two-phase commit (docs/scaling.md).
"""

from __future__ import annotations

import pytest
from django.db import connection

from tenants.schemas import use_public
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext
from tests.orders.helpers import MANUAL, cart_with, checkout, manual_payment_on, sellable_product

pytestmark = pytest.mark.django_db


def _writes_by_schema() -> dict[tuple[str, str], int]:
    """Rows inserted, updated or deleted so far in this transaction, by (schema, table)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT schemaname, relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables"
        )
        return {(schema, table): count for schema, table, count in cursor.fetchall() if count}


def _written_during(action) -> dict[tuple[str, str], int]:
    """The tables `action` wrote to (the test's transaction holds the checkout's as a savepoint)."""
    before = _writes_by_schema()
    action()
    after = _writes_by_schema()
    return {key: count - before.get(key, 0) for key, count in after.items() if count != before.get(key, 0)}


@pytest.mark.parametrize("payment", ["card", "manual"])
def test_a_checkout_writes_no_public_table(api, shop_a: ShopContext, payment: str) -> None:
    admin = AdminClient(api, shop_a)
    if payment == "manual":
        manual_payment_on(admin)
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    cart_id = cart_with(api, shop_a, variant, 2)
    use_public()
    answers = []

    def place() -> None:
        # With an Idempotency-Key: the stored answer is one of the rows that used to be public.
        extra = {"payment": MANUAL} if payment == "manual" else {}
        answers.append(checkout(api, shop_a, cart_id, key=f"one-node-{payment}", **extra))

    written = _written_during(place)
    assert answers[0].status_code == 201, answers[0].content
    schema = shop_a.shop.schema_name
    assert {table for (where, table) in written if where == "public"} == set()
    # What used to be public is now written in the shop's own schema, with the order itself
    # (a card order counts against the month's orders at checkout, a manual one once paid).
    expected = {"orders_order", "outbox_outboxevent", "tenants_idempotencyrecord"}
    if payment == "card":
        expected.add("billing_usage_ordercount")
    assert {table for (where, table) in written if where == schema} >= expected
    assert {where for (where, _table) in written} == {schema}

    if payment == "manual":
        # Marking it paid counts it for the month, in the shop's schema too.
        number = answers[0].json()["number"]
        paid = []
        written = _written_during(lambda: paid.append(admin.post(f"orders/{number}/mark-paid", {})))
        assert paid[0].status_code == 200, paid[0].content
        assert {where for (where, _table) in written} == {schema}
        assert "billing_usage_ordercount" in {table for (_where, table) in written}
