"""What orders do with their own events, in a worker, after they commit: the e-mails and the sales report."""

from __future__ import annotations

import logging

from orders import emails, reports
from orders.errors import OrderNotFound
from orders.models import Order
from orders.selectors import access_order_by_number
from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import event_handler

logger = logging.getLogger(__name__)


def _order_of(event: OutboxEvent) -> Order | None:
    try:
        return access_order_by_number(number=int(event.payload["number"]))
    except OrderNotFound:
        # Orders are never deleted; a missing one has nothing to say, and raising would retry forever.
        logger.error("Event %s names an order this shop does not have", event)
        return None


@event_handler("order.created")
def send_order_created_emails(event: OutboxEvent) -> None:
    """
    E-mail the shopper their confirmation and each owner and admin a new-order
    notice (once per event and recipient).
    """
    order = _order_of(event)
    if order is not None:
        emails.order_created_emails_send(event_id=event.pk, order=order)


@event_handler("order.fulfilled")
def send_shipping_notice(event: OutboxEvent) -> None:
    """E-mail the shopper that their order has shipped (once per event and recipient)."""
    order = _order_of(event)
    if order is not None:
        emails.shipping_notice_send(event_id=event.pk, order=order)


@event_handler(*reports.MONEY_EVENTS)
def refresh_sales_report(event: OutboxEvent) -> None:
    """Keep the sales report within seconds of the orders (one refresh per shop every few seconds)."""
    reports.sales_refresh_soon()
