"""What orders do with their own events, in a worker, after they commit: the e-mails and the sales report."""

from __future__ import annotations

import logging

from orders import accounts, emails, reports
from orders.models import Customer
from orders.selectors import order_for_link, orders_with_lines
from tenants.outbox.events import EventType
from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import event_handler

logger = logging.getLogger(__name__)


def _with_orders(events: list[OutboxEvent]) -> list[emails.OrderEvent]:
    """(event id, order) for each event, the orders read in one query (with their lines in another)."""
    orders = orders_with_lines(numbers=[int(event.payload["number"]) for event in events])
    found = []
    for event in events:
        order = orders.get(int(event.payload["number"]))
        if order is None:
            # Orders are never deleted; a missing one has nothing to say, and raising would retry forever.
            logger.error("Event %s names an order this shop does not have", event)
            continue
        found.append((event.pk, order))
    return found


@event_handler(EventType.ORDER_CREATED)
def send_order_created_emails(events: list[OutboxEvent]) -> None:
    """
    E-mail each shopper their confirmation and each owner and admin a new-order
    notice (once per event and recipient).
    """
    # A card refused at checkout cancelled its order at once: no confirmation for an order that never was.
    placed = [
        (event_id, order)
        for event_id, order in _with_orders(events)
        if order.payment_status != order.PaymentStatus.FAILED
    ]
    emails.order_created_emails_send(placed=placed)


@event_handler(EventType.ORDER_FULFILLED, EventType.ORDER_PARTIALLY_FULFILLED)
def send_shipping_notices(events: list[OutboxEvent]) -> None:
    """E-mail each shopper what has shipped, parcel by parcel (once per event and recipient)."""
    # Whether more is to come is told as of the event, not as the order is by the time it is sent.
    parcels = {
        event.pk: {**event.payload["fulfillment"], "complete": event.type == EventType.ORDER_FULFILLED}
        if "fulfillment" in event.payload
        else None
        for event in events
    }
    emails.shipping_notices_send(
        fulfilled=[(event_id, order, parcels[event_id]) for event_id, order in _with_orders(events)]
    )


@event_handler(*reports.MONEY_EVENTS)
def refresh_sales_report(events: list[OutboxEvent]) -> None:
    """Keep the sales report within seconds of the orders (one refresh per shop every few seconds)."""
    reports.sales_refresh_soon()


@event_handler(EventType.CUSTOMER_SIGNED_UP, EventType.CUSTOMER_VERIFICATION_REQUESTED)
def send_customer_verifications(events: list[OutboxEvent]) -> None:
    """E-mail each new (or asking) account its verification link, unless verified meanwhile."""
    for event in events:
        customer = accounts.customer_account(customer_id=int(event.payload["customer_id"]))
        if customer is not None and customer.email_verified_at is None:
            emails.customer_verification_send(event_id=event.pk, customer=customer)


@event_handler(EventType.CUSTOMER_PASSWORD_RESET_REQUESTED)
def send_customer_password_resets(events: list[OutboxEvent]) -> None:
    """E-mail a password-reset link to each e-mail that has an account here; nothing to the others."""
    for event in events:
        customer = Customer.objects.filter(email=str(event.payload["email"])).exclude(password="").first()
        if customer is not None:
            emails.customer_password_reset_send(event_id=event.pk, customer=customer)


@event_handler(EventType.CUSTOMER_EMAIL_CHANGE_REQUESTED)
def send_customer_email_change_links(events: list[OutboxEvent]) -> None:
    """E-mail each asked-for address the link that moves the account there (to the new address only)."""
    for event in events:
        customer = accounts.customer_account(customer_id=int(event.payload["customer_id"]))
        if customer is not None:
            emails.customer_email_change_send(
                event_id=event.pk, customer=customer, email=str(event.payload["email"])
            )


@event_handler(EventType.CUSTOMER_EMAIL_CHANGED)
def send_customer_email_changed_notices(events: list[OutboxEvent]) -> None:
    """Tell each old address that its account moved to another e-mail."""
    for event in events:
        customer = accounts.customer_account(customer_id=int(event.payload["customer_id"]))
        if customer is not None:
            emails.customer_email_changed_send(
                event_id=event.pk, customer=customer, old_email=str(event.payload["old_email"])
            )


@event_handler(EventType.ORDER_LINK_REQUESTED)
def send_order_links(events: list[OutboxEvent]) -> None:
    """E-mail the order's link where the number and e-mail asked with match an order; nothing otherwise."""
    for event in events:
        order = order_for_link(number=int(event.payload["number"]), email=str(event.payload["email"]))
        if order is not None:
            emails.order_link_send(event_id=event.pk, order=order)
