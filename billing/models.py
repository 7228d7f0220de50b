"""
Billing in the public schema: plans and their limits, each shop's subscription,
its usage counters, and monthly invoices with their lines.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tenants.models import Shop, User
from tenants.money import Money


class Plan(models.Model):
    """
    A price list entry: a monthly fee and the limits it buys.

    `max_*` limits are hard: crossing one is refused with a 402. Orders and Admin
    API calls also have an included allowance; beyond it each order (and each
    started 1,000 API calls) is billed as overage on the month's invoice.
    """

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(unique=True, help_text="Cheapest first in price lists.")
    price_amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="Monthly fee.")
    currency = models.CharField(max_length=3, default="USD")
    max_products = models.PositiveIntegerField()
    max_orders_per_month = models.PositiveIntegerField()
    max_staff_seats = models.PositiveIntegerField(help_text="Memberships of the shop, owners included.")
    max_storage_bytes = models.PositiveBigIntegerField(help_text="Bytes of uploaded product images.")
    api_requests_per_minute = models.PositiveIntegerField(help_text="Admin API budget per shop.")
    storefront_requests_per_minute = models.PositiveIntegerField(
        help_text="Storefront API budget per client address per shop."
    )
    included_orders_per_month = models.PositiveIntegerField(default=0)
    order_overage_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    included_api_calls_per_month = models.PositiveBigIntegerField(default=0)
    api_calls_overage_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=0, help_text="Per started 1,000 calls over the allowance."
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.currency)


class Subscription(models.Model):
    """The plan a shop is on. Created with the shop, in the same transaction."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="subscription")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    started_at = models.DateTimeField(default=timezone.now)
    plan_changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.shop} on {self.plan.code}"


class PlanChange(models.Model):
    """Each plan a shop was put on, and when: a period's invoice charges the plan in effect at its end."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="plan_changes")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    previous_plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["shop", "changed_at"], name="planchange_shop_at_idx")]

    def __str__(self) -> str:
        return f"{self.shop} → {self.plan.code} at {self.changed_at:%Y-%m-%d %H:%M}"


class ShopUsage(models.Model):
    """
    The shop's running totals that limits compare against, kept by the services
    that change them (catalog counts products and image bytes). Changed only by
    conditional UPDATEs, so concurrent creates cannot overshoot a limit.
    """

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, primary_key=True, related_name="usage")
    products = models.PositiveIntegerField(default=0)
    storage_bytes = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "shop usage"

    def __str__(self) -> str:
        return f"usage of {self.shop}"


class UsagePeriod(models.Model):
    """What a shop used in one billing period (a calendar month, UTC): orders placed, API calls."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="usage_periods")
    period = models.DateField(help_text="First day of the month.")
    orders = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveBigIntegerField(
        default=0, help_text="Admin API calls, copied from Redis when the period's invoice is issued."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "period"], name="usageperiod_shop_period_unique")
        ]
        ordering = ["-period"]

    def __str__(self) -> str:
        return f"{self.shop} {self.period:%Y-%m}"


class Invoice(models.Model):
    """One shop's bill for one period; issuing twice is impossible (unique shop and period)."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        OPEN = "open"
        PAID = "paid"
        VOID = "void"

    number = models.CharField(max_length=32, unique=True)
    # Invoices outlive a deleted shop: the row keeps the shop's slug and name.
    shop = models.ForeignKey(Shop, null=True, on_delete=models.SET_NULL, related_name="invoices")
    shop_slug = models.CharField(max_length=40)
    shop_name = models.CharField(max_length=120)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    period = models.DateField(help_text="First day of the billed month.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3)
    total_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    issued_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "period"], name="invoice_shop_period_unique")]
        ordering = ["-period", "-id"]

    def __str__(self) -> str:
        return self.number

    @property
    def total(self) -> Money:
        return Money(self.total_amount, self.currency)


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        PLAN = "plan"
        ORDERS_OVERAGE = "orders_overage"
        API_CALLS_OVERAGE = "api_calls_overage"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.CharField(max_length=200)
    quantity = models.PositiveBigIntegerField(default=1)
    unit_amount = models.DecimalField(max_digits=12, decimal_places=2)
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description
