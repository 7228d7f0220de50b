"""
Orders in the shop's schema: customers, orders with lines that snapshot what was
bought, and the payments and refunds that moved money.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from catalog.models import price_field

ORDER_NUMBER_OFFSET = 1000


class Customer(models.Model):
    """A shopper who ordered, known by e-mail."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    orders_count = models.PositiveIntegerField(default=0)
    first_order_at = models.DateTimeField(null=True)
    last_order_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.email


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        PAID = "paid"
        FULFILLED = "fulfilled"
        CANCELLED = "cancelled"
        REFUNDED = "refunded"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    email = models.EmailField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    currency = models.CharField(max_length=3)
    subtotal = price_field()
    total = price_field()
    refunded_amount = price_field(default=0)
    shipping_address = models.JSONField()
    payment_provider = models.CharField(max_length=32)
    # The shopper's secret to view the order; only its hash is kept.
    token_hash = models.CharField(max_length=64)
    placed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(null=True)
    fulfilled_at = models.DateTimeField(null=True)
    cancelled_at = models.DateTimeField(null=True)
    refunded_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("total")), name="order_refund_within_total"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.number}"

    @property
    def number(self) -> int:
        """The shop's order number (1001, 1002, ...): ids are per shop, as each shop has its own table."""
        return ORDER_NUMBER_OFFSET + int(self.pk)


class OrderLine(models.Model):
    """What was bought, as it was at checkout: SKU, title and unit price are copied, not referenced."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", null=True, on_delete=models.SET_NULL, related_name="+")
    product_id = models.BigIntegerField(null=True)
    sku = models.CharField(max_length=64)
    title = models.CharField(max_length=255)
    variant_title = models.CharField(max_length=255, blank=True)
    unit_price = price_field()
    quantity = models.PositiveIntegerField()
    line_total = price_field()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class Payment(models.Model):
    class Kind(models.TextChoices):
        CHARGE = "charge"
        REFUND = "refund"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    provider = models.CharField(max_length=32)
    amount = price_field()
    reference = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} via {self.provider}"
