"""
What a receiver gets for each event type: the JSON Schema of the delivery body
and of its `data`, published in the OpenAPI documents' `webhooks` section.
A test holds real deliveries to these schemas.
"""

from __future__ import annotations

from typing import Any

from tenants.webhooks.models import EventType

MONEY_REF = {"$ref": "#/components/schemas/Money"}

_ORDER = {
    "type": "object",
    "properties": {
        "order_id": {"type": "integer"},
        "number": {"type": "integer", "description": "The order number shoppers see."},
        "status": {"type": "string", "enum": ["pending", "paid", "fulfilled", "cancelled", "refunded"]},
        "payment_status": {
            "type": "string",
            "enum": [
                "pending",
                "authorized",
                "paid",
                "partially_refunded",
                "refunded",
                "failed",
                "expired",
            ],
        },
        "fulfillment_status": {"type": "string", "enum": ["unfulfilled", "partially_fulfilled", "fulfilled"]},
        "email": {"type": "string", "format": "email"},
        "total": MONEY_REF,
        "refunded_amount": MONEY_REF,
    },
    "required": [
        "order_id",
        "number",
        "status",
        "payment_status",
        "fulfillment_status",
        "email",
        "total",
        "refunded_amount",
    ],
}
_PRODUCT = {
    "type": "object",
    "properties": {
        "product_id": {"type": "integer"},
        "actor": {
            "type": "string",
            "description": "Who made the change: a member's e-mail, an API key or `system`.",
        },
    },
    "required": ["product_id", "actor"],
}
_INVENTORY_LOW = {
    "type": "object",
    "properties": {
        "variant_id": {"type": "integer"},
        "product_id": {"type": "integer"},
        "sku": {"type": "string"},
        "stock": {"type": "integer", "description": "Stock after the change that crossed the threshold."},
        "low_stock_threshold": {"type": "integer"},
    },
    "required": ["variant_id", "product_id", "sku", "stock", "low_stock_threshold"],
}


_EXPIRES_AT = {
    "type": "string",
    "format": "date-time",
    "description": "When an unpaid order gives its stock back (UTC).",
}


def _with(base: dict[str, Any], **properties: Any) -> dict[str, Any]:
    required = [name for name, schema in properties.items() if not schema.pop("optional", False)]
    return {
        **base,
        "properties": {**base["properties"], **properties},
        "required": [*base["required"], *required],
    }


EVENT_DATA: dict[str, tuple[str, dict[str, Any]]] = {
    EventType.ORDER_CREATED: (
        "An order was placed: paid by `order.paid` once its provider answers, or cancelled with "
        "`payment_status: failed` if the card is refused; a manual order waits for the merchant.",
        _with(_ORDER, expires_at=dict(_EXPIRES_AT, optional=True)),
    ),
    EventType.ORDER_PAID: ("An order's payment was captured, or it was marked paid.", _ORDER),
    EventType.ORDER_FULFILLED: (
        "An order was shipped, with its tracking (empty strings when the merchant gave none).",
        _with(
            _ORDER,
            tracking={
                "type": "object",
                "properties": {
                    "number": {"type": "string"},
                    "carrier": {"type": "string"},
                    "url": {"type": "string", "description": "An http(s) link, or empty."},
                },
                "required": ["number", "carrier", "url"],
            },
        ),
    ),
    EventType.ORDER_CANCELLED: (
        "An order was cancelled: its stock went back and a paid order was refunded in full; `reason` "
        "`payment_failed` when its provider refused the payment.",
        _with(_ORDER, reason={"type": "string"}),
    ),
    EventType.ORDER_REFUNDED: (
        "Part of an order's payment was refunded (repeatable until all of it is: then `status` is "
        "`refunded`).",
        _with(
            _ORDER,
            refund={
                "type": "object",
                "properties": {
                    "amount": {"type": "string", "pattern": r"^\d+(\.\d+)?$"},
                    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                    "reason": {"type": "string"},
                },
                "required": ["amount", "currency", "reason"],
            },
        ),
    ),
    EventType.ORDER_EXPIRED: (
        "An unpaid order passed its time: it was cancelled and its stock went back.",
        _with(_ORDER, expires_at=dict(_EXPIRES_AT)),
    ),
    EventType.PRODUCT_CREATED: ("A product was created.", _PRODUCT),
    EventType.PRODUCT_UPDATED: ("A product, its variants or its images changed.", _PRODUCT),
    EventType.PRODUCT_DELETED: ("A product was deleted.", _PRODUCT),
    EventType.INVENTORY_LOW: ("A variant's stock fell to or below its low-stock threshold.", _INVENTORY_LOW),
}


def event_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of a delivery body for `event_type`."""
    _summary, data = EVENT_DATA[event_type]
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "The event's id: the same on every delivery of it."},
            "type": {"type": "string", "const": str(event_type)},
            "created_at": {"type": "string", "format": "date-time"},
            "data": data,
        },
        "required": ["id", "type", "created_at", "data"],
    }


assert set(EVENT_DATA) == set(EventType.values), "every event type has a payload schema"
