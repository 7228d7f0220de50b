"""
Every event type the outbox carries: the one list that emitters, handlers, the
webhook subscriptions and the OpenAPI `webhooks` section all read, so an event
cannot be emitted under one name and listened for under another.
"""

from django.db import models


class EventType(models.TextChoices):
    """An outbox event's type: `<subject>.<what happened>`."""

    ORDER_CREATED = "order.created"
    ORDER_PAID = "order.paid"
    ORDER_FULFILLED = "order.fulfilled"
    ORDER_PARTIALLY_FULFILLED = "order.partially_fulfilled"  # some units shipped, more to come
    ORDER_CANCELLED = "order.cancelled"
    ORDER_EXPIRED = "order.expired"  # unpaid past its time: cancelled, its stock returned
    ORDER_REFUNDED = "order.refunded"
    PRODUCT_CREATED = "product.created"
    PRODUCT_UPDATED = "product.updated"
    PRODUCT_DELETED = "product.deleted"
    INVENTORY_LOW = "inventory.low"
    DISCOUNT_CREATED = "discount.created"
    DISCOUNT_UPDATED = "discount.updated"
    DISCOUNT_DELETED = "discount.deleted"
    # Internal: a variant's new prices, for the worker's daily price figures.
    VARIANT_PRICE_CHANGED = "variant.price_changed"
    # The ones below only drive e-mails (sign-up, reset, invitation links); webhooks never see them.
    ORDER_LINK_REQUESTED = "order.link_requested"
    CUSTOMER_SIGNED_UP = "customer.signed_up"
    CUSTOMER_VERIFICATION_REQUESTED = "customer.verification_requested"
    CUSTOMER_PASSWORD_RESET_REQUESTED = "customer.password_reset_requested"
    CUSTOMER_EMAIL_CHANGE_REQUESTED = "customer.email_change_requested"
    CUSTOMER_EMAIL_CHANGED = "customer.email_changed"
    ACCOUNT_PASSWORD_RESET_REQUESTED = "account.password_reset_requested"
    ACCOUNT_EMAIL_CHANGE_REQUESTED = "account.email_change_requested"
    INVITATION_SENT = "invitation.sent"


# The events a shop can subscribe a webhook endpoint to, each with a published payload schema.
WEBHOOK_EVENTS: tuple[EventType, ...] = (
    EventType.ORDER_CREATED,
    EventType.ORDER_PAID,
    EventType.ORDER_FULFILLED,
    EventType.ORDER_PARTIALLY_FULFILLED,
    EventType.ORDER_CANCELLED,
    EventType.ORDER_EXPIRED,
    EventType.ORDER_REFUNDED,
    EventType.PRODUCT_CREATED,
    EventType.PRODUCT_UPDATED,
    EventType.PRODUCT_DELETED,
    EventType.INVENTORY_LOW,
    EventType.DISCOUNT_CREATED,
    EventType.DISCOUNT_UPDATED,
    EventType.DISCOUNT_DELETED,
)
