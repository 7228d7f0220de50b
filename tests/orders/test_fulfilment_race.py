"""Two fulfilments racing for an order's last unit, on real connections (nothing wraps the test)."""

from __future__ import annotations

import threading
import uuid

from django.db import connections
from rest_framework.test import APIClient

from orders.models import Fulfillment, FulfillmentLine, OrderLine
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext
from tests.orders.helpers import checkout, sellable_product, storefront


def test_two_fulfilments_racing_for_the_last_unit_ship_it_once(
    committed_shop: ShopContext, django_db_blocker
) -> None:
    """Two merchants ship the order's one unit at the same moment, on real connections: one wins."""
    with django_db_blocker.unblock():
        admin = AdminClient(APIClient(), committed_shop)
        variant = sellable_product(admin, stock=5, price="10.00")["variants"][0]["id"]
        cart_id = storefront(APIClient(), committed_shop, "post", "carts").json()["id"]
        storefront(
            APIClient(), committed_shop, "post", f"carts/{cart_id}/items", {"variant": variant, "quantity": 1}
        )
        placed = checkout(APIClient(), committed_shop, cart_id, key=uuid.uuid4().hex).json()
        line = placed["lines"][0]["id"]
        barrier = threading.Barrier(2)
        statuses: list[int] = []
        lock = threading.Lock()

        merchants = {name: AdminClient(APIClient(), committed_shop) for name in ("A", "B")}

        def ship(parcel: str) -> None:
            try:
                barrier.wait(20)
                response = merchants[parcel].post(
                    f"orders/{placed['number']}/fulfill",
                    {"lines": [{"line": line, "quantity": 1}], "tracking_number": parcel},
                )
                with lock:
                    statuses.append(response.status_code)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=ship, args=(name,)) for name in ("A", "B")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        # The loser read the order after the winner committed: shipped in full, so not `paid` any more.
        assert sorted(statuses) == [200, 409]
        use_shop(committed_shop.shop)
        assert Fulfillment.objects.count() == 1 and FulfillmentLine.objects.get().quantity == 1
        assert OrderLine.objects.get(pk=line).fulfilled_quantity == 1
        assert OutboxEvent.objects.filter(type="order.fulfilled").count() == 1
        use_public()
