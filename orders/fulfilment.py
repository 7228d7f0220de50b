"""
Fulfilments: an order ships in one or more parcels, as on Shopify and Saleor.
Each fulfilment is a record (`Fulfillment`) of units of the order's lines with
its tracking; the order is `partially_fulfilled` until every unit to ship has
shipped, then `fulfilled` (its `status` too). Units refunded and put back into
stock are not shipped. Each fulfilment is one transaction under the order's row
lock, so two racing for the last unit cannot both take it, and records its
timeline entry, audit entry and outbox event (`order.partially_fulfilled` or
`order.fulfilled`, which send the shipping e-mail and the live update).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from orders.errors import FulfillmentLineInvalid, IllegalTransition, NothingToFulfill
from orders.models import Fulfillment, FulfillmentLine, Order, OrderEvent, OrderLine
from orders.services import FS, S, _locked, _status_set, _timeline, order_lines_check
from tenants.audit.services import Actor
from tenants.outbox.events import EventType


@dataclass(frozen=True)
class FulfillmentLineRequest:
    line: int  # the OrderLine's id
    quantity: int


def unfulfilled_quantity(line: OrderLine) -> int:
    """Units of `line` still to ship: ordered, less shipped, less refunded into stock."""
    return max(0, line.quantity - line.fulfilled_quantity - line.restocked_quantity)


def order_fulfill(
    *,
    actor: Actor,
    order: Order,
    lines: Sequence[FulfillmentLineRequest] = (),
    tracking_number: str = "",
    carrier: str = "",
    tracking_url: str = "",
) -> Fulfillment:
    """
    Ship units of a paid order (its payment may since have been partly refunded):
    the `lines` asked, or without them every unit still to ship, with the
    parcel's tracking. Refuses an order not paid (pending, cancelled, refunded in
    full), a line of another order or named twice, and more units than are left.
    Return the fulfilment.
    """
    with transaction.atomic():
        order = _locked(order)
        if order.status != S.PAID:
            raise IllegalTransition(f"Only paid orders can be fulfilled; this one is {order.status}.")
        by_id = {line.pk: line for line in OrderLine.objects.filter(order=order).order_by("id")}
        shipping = _units_to_ship(order, by_id, lines)
        fulfillment = Fulfillment.objects.create(
            order=order,
            tracking_number=tracking_number,
            carrier=carrier,
            tracking_url=tracking_url,
            actor=actor.label[:255],
        )
        FulfillmentLine.objects.bulk_create(
            FulfillmentLine(fulfillment=fulfillment, order_line=by_id[line_id], quantity=quantity)
            for line_id, quantity in shipping.items()
        )
        for line_id, quantity in shipping.items():
            by_id[line_id].fulfilled_quantity += quantity
        OrderLine.objects.bulk_update([by_id[line_id] for line_id in shipping], ["fulfilled_quantity"])
        complete = all(unfulfilled_quantity(line) == 0 for line in by_id.values())
        order.fulfillment_status = FS.FULFILLED if complete else FS.PARTIALLY_FULFILLED
        order.tracking_number, order.carrier, order.tracking_url = tracking_number, carrier, tracking_url
        units = sum(shipping.values())
        shipped = [{"line": line_id, "quantity": quantity} for line_id, quantity in shipping.items()]
        _timeline(
            order,
            OrderEvent.Type.FULFILLED if complete else OrderEvent.Type.PARTIALLY_FULFILLED,
            actor,
            f"Shipped {units} unit{'s' if units != 1 else ''}"
            + (f" with {carrier}" if carrier else "")
            + (f", tracking {tracking_number}" if tracking_number else "")
            + ("." if complete else "; more to ship."),
            fulfillment=fulfillment.pk,
            lines=shipped,
        )
        _status_set(
            order,
            S.FULFILLED if complete else S.PAID,
            actor=actor,
            fields=["fulfillment_status", "tracking_number", "carrier", "tracking_url"],
            event=EventType.ORDER_FULFILLED if complete else EventType.ORDER_PARTIALLY_FULFILLED,
            **fulfillment_event_data(fulfillment, shipped),
        )
    return fulfillment


def fulfillment_event_data(fulfillment: Fulfillment, lines: list[dict[str, int]]) -> dict[str, Any]:
    """What the fulfilment's event carries besides the order: the parcel and its tracking."""
    tracking = {
        "number": fulfillment.tracking_number,
        "carrier": fulfillment.carrier,
        "url": fulfillment.tracking_url,
    }
    return {"tracking": tracking, "fulfillment": {"id": fulfillment.pk, "lines": lines, "tracking": tracking}}


def _units_to_ship(
    order: Order,
    by_id: dict[int, OrderLine],
    lines: Sequence[FulfillmentLineRequest],
) -> dict[int, int]:
    """{order line id: units} this fulfilment ships, checked against what is left of each line."""
    if not lines:
        remaining = {line_id: unfulfilled_quantity(line) for line_id, line in by_id.items()}
        everything = {line_id: units for line_id, units in remaining.items() if units}
        if not everything:
            raise NothingToFulfill(f"Every unit of order #{order.number} has shipped already.")
        return everything
    order_lines_check(
        order,
        by_id,
        [(asked.line, asked.quantity) for asked in lines],
        left=unfulfilled_quantity,
        invalid=FulfillmentLineInvalid,
        to="ship",
    )
    return {asked.line: asked.quantity for asked in lines}
