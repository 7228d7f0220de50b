"""
The shop document's `webhooks` section is the contract for what receivers get:
bodies of real events, made through the API (a product created, updated and
deleted, low stock, an order placed, paid, fulfilled, refunded and cancelled, a
discount created, updated and deleted),
validate against the schema published for their type.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

from orders import services as order_services
from tenants.outbox.events import WEBHOOK_EVENTS
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tenants.webhooks.services import delivery_body
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext
from tests.orders.helpers import MANUAL, cart_with, checkout, manual_payment_on, sellable_product

DOCUMENT_URI = "urn:storefleet:shop-document"


def _no_remote(uri: str) -> Resource:
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # never fetched from the network


@pytest.mark.django_db
def test_delivered_bodies_match_the_documented_payloads(api, shop_a: ShopContext) -> None:
    document = json.loads(
        api.get("/api/schema/", HTTP_HOST=shop_a.host, HTTP_ACCEPT="application/json").content
    )
    registry = Registry(retrieve=_no_remote).with_resource(  # type: ignore[call-arg]
        DOCUMENT_URI, DRAFT202012.create_resource(document)
    )
    admin = AdminClient(api, shop_a)
    product = sellable_product(admin, stock=10)
    variant = product["variants"][0]
    assert admin.patch(f"products/{product['id']}", {"title": "Renamed"}).status_code == 200
    adjust = {"variant": variant["id"], "delta": -8, "reason": "damaged"}
    assert admin.post("inventory/adjustments", adjust).status_code == 201, "low stock"
    paid = checkout(api, shop_a, cart_with(api, shop_a, variant["id"], 2)).json()
    first_parcel = {"lines": [{"line": paid["lines"][0]["id"], "quantity": 1}], "carrier": "UPS"}
    assert admin.post(f"orders/{paid['number']}/fulfill", first_parcel).status_code == 200
    assert admin.post(f"orders/{paid['number']}/fulfill").status_code == 200
    assert (
        admin.post(f"orders/{paid['number']}/refund", {"amount": "5.00", "reason": "dent"}).status_code == 200
    )
    manual_payment_on(admin)
    other = sellable_product(admin, title="Other")
    pending = checkout(api, shop_a, cart_with(api, shop_a, other["variants"][0]["id"]), payment=MANUAL).json()
    assert admin.post(f"orders/{pending['number']}/cancel", {"reason": "changed mind"}).status_code == 200
    spare = sellable_product(admin, title="Spare")
    assert admin.delete(f"products/{spare['id']}").status_code == 204
    unpaid = sellable_product(admin, title="Unpaid")
    checkout(api, shop_a, cart_with(api, shop_a, unpaid["variants"][0]["id"]), payment=MANUAL)
    use_shop(shop_a.shop)
    assert order_services.orders_expire_due(now=timezone.now() + dt.timedelta(days=2)) == 1
    use_public()
    # A shop that captures cards by hand: one captured in part (`order.paid` with `capture`), one voided.
    assert admin.patch("payment-settings", {"card_capture": "manual"}).status_code == 200
    held = sellable_product(admin, title="Held")["variants"][0]["id"]
    for action, asked in (("capture", {"amount": "5.00"}), ("void", None)):
        authorized = checkout(api, shop_a, cart_with(api, shop_a, held)).json()
        assert authorized["payment_status"] == "authorized"
        assert admin.post(f"orders/{authorized['number']}/{action}", asked).status_code == 200
    discount = admin.post("discounts", {"code": "HOOK", "kind": "percentage", "value": "10"}).json()
    assert admin.patch(f"discounts/{discount['id']}", {"active": False}).status_code == 200
    assert admin.delete(f"discounts/{discount['id']}").status_code == 204

    events = list(
        OutboxEvent.objects.filter(schema_name=shop_a.shop.schema_name, type__in=WEBHOOK_EVENTS).order_by(
            "id"
        )
    )
    seen: set[str] = set()
    for event in events:
        body: dict[str, Any] = json.loads(json.dumps(delivery_body(event), default=str))
        pointer = f"#/webhooks/{event.type}/post/requestBody/content/application~1json/schema"
        schema = {"$ref": f"{DOCUMENT_URI}{pointer}"}
        errors = list(Draft202012Validator(schema, registry=registry).iter_errors(body))
        assert not errors, (event.type, body, [e.message for e in errors])
        seen.add(event.type)
    assert seen == set(WEBHOOK_EVENTS), sorted(set(WEBHOOK_EVENTS) - seen)
