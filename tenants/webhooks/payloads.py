"""
What a receiver gets for each event type: the JSON Schema of the delivery body
and of its `data`, published in the OpenAPI documents' `webhooks` section.
A test holds real deliveries to these schemas.
"""

from __future__ import annotations

from typing import Any

from tenants.outbox.events import WEBHOOK_EVENTS, EventType

MONEY_REF = {"$ref": "#/components/schemas/Money"}

_TAX_LINE = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "rate": {"type": "string", "description": "Percent, as a decimal string.", "examples": ["19"]},
        "amount": MONEY_REF,
    },
    "required": ["name", "rate", "amount"],
}
_APPLIED_DISCOUNT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "code": {"type": ["string", "null"], "description": "null for an automatic promotion."},
        "kind": {"type": "string", "enum": ["percentage", "fixed", "free_shipping"]},
        "value": {"type": "string"},
        "amount": MONEY_REF,
    },
    "required": ["id", "code", "kind", "value", "amount"],
}
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
        "totals": {
            "type": "object",
            "description": "subtotal - discount + shipping (+ tax unless prices include it) = total.",
            "properties": {name: MONEY_REF for name in ("subtotal", "shipping", "discount", "tax", "total")},
            "required": ["subtotal", "shipping", "discount", "tax", "total"],
        },
        "prices_include_tax": {"type": "boolean"},
        "tax_lines": {"type": "array", "items": _TAX_LINE},
        "discounts": {"type": "array", "items": _APPLIED_DISCOUNT},
        "shipping_method": {
            "type": ["object", "null"],
            "description": "The method as quoted at checkout (null when nothing shipped).",
        },
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
        "totals",
        "prices_include_tax",
        "tax_lines",
        "discounts",
        "shipping_method",
    ],
}
_DISCOUNT = {
    "type": "object",
    "properties": {
        "discount_id": {"type": "integer"},
        "code": {"type": ["string", "null"], "description": "null for an automatic promotion."},
        "kind": {"type": "string", "enum": ["percentage", "fixed", "free_shipping"]},
        "actor": {"type": "string", "description": "Who made the change."},
    },
    "required": ["discount_id", "code", "kind", "actor"],
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


def _tracking() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The parcel's tracking.",
        "properties": {
            "number": {"type": "string"},
            "carrier": {"type": "string"},
            "url": {"type": "string", "description": "An http(s) link, or empty."},
        },
        "required": ["number", "carrier", "url"],
    }


def _fulfillment() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The parcel this event reports: its units of the order's lines and its tracking.",
        "properties": {
            "id": {"type": "integer"},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "line": {"type": "integer", "description": "The order line's id."},
                        "quantity": {"type": "integer", "minimum": 1},
                    },
                    "required": ["line", "quantity"],
                },
            },
            "tracking": _tracking(),
        },
        "required": ["id", "lines", "tracking"],
    }


EVENT_DATA: dict[str, tuple[str, dict[str, Any]]] = {
    EventType.ORDER_CREATED: (
        "An order was placed: paid by `order.paid` once its provider answers, or cancelled with "
        "`payment_status: failed` if the card is refused; a manual order waits for the merchant.",
        _with(_ORDER, expires_at=dict(_EXPIRES_AT, optional=True)),
    ),
    EventType.ORDER_PAID: (
        "An order's payment was captured (at checkout, or by the merchant: then with `capture`), or it "
        "was marked paid.",
        _with(
            _ORDER,
            capture={
                "type": "object",
                "optional": True,
                "description": "A capture of an authorized card by the merchant: what was taken and what "
                "was released.",
                "properties": {
                    "amount": {"type": "string", "pattern": r"^\d+(\.\d+)?$"},
                    "released": {"type": "string", "pattern": r"^\d+(\.\d+)?$"},
                    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                },
                "required": ["amount", "released", "currency"],
            },
        ),
    ),
    EventType.ORDER_PARTIALLY_FULFILLED: (
        "Some of an order's units were shipped (`fulfillment`), more are to ship: `fulfillment_status` "
        "is `partially_fulfilled`.",
        _with(_ORDER, tracking=_tracking(), fulfillment=_fulfillment()),
    ),
    EventType.ORDER_FULFILLED: (
        "An order's last units were shipped (`fulfillment`, with its tracking; empty strings when the "
        "merchant gave none): every unit to ship has.",
        _with(_ORDER, tracking=_tracking(), fulfillment=_fulfillment()),
    ),
    EventType.ORDER_CANCELLED: (
        "An order was cancelled: its stock went back and a paid order was refunded in full; `reason` "
        "`payment_failed` when its provider refused the payment, `payment_voided` when the merchant voided "
        "its authorized card payment.",
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
    EventType.DISCOUNT_CREATED: ("A discount code or automatic promotion was created.", _DISCOUNT),
    EventType.DISCOUNT_UPDATED: ("A discount was changed.", _DISCOUNT),
    EventType.DISCOUNT_DELETED: ("A discount was deleted (orders keep their snapshot of it).", _DISCOUNT),
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


assert set(EVENT_DATA) == set(WEBHOOK_EVENTS), "every webhook event has a payload schema"
