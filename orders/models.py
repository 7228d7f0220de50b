"""
Orders in the shop's schema: customers, orders with lines that snapshot what was
bought, and the payments and refunds that moved money.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.models import price_field
from tenants.models import SentEmailRecord

ORDER_NUMBER_OFFSET = 1000


class Customer(models.Model):
    """
    A shopper of this shop, known by e-mail: one who ordered as a guest, or one
    who signed up (a password is set) for an account, or both. The same e-mail
    in another shop is another customer, in that shop's schema. A guest's orders
    show in the account of the same e-mail only once the e-mail is verified.
    """

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    # A database default: the checkout writes customers (and orders) in hand-written SQL.
    note = models.TextField(
        blank=True,
        default="",
        db_default="",
        help_text="The merchant's internal notes; never shown to the shopper.",
    )
    orders_count = models.PositiveIntegerField(default=0)
    first_order_at = models.DateTimeField(null=True)
    last_order_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Empty for a guest: no account. A Django password hash once signed up.
    password = models.CharField(max_length=128, blank=True, default="", db_default="")
    signed_up_at = models.DateTimeField(null=True, blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # Sign-in JWTs carry the generation they were issued in; a password reset moves it on,
    # and every token issued before is refused.
    token_generation = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.email

    @property
    def has_account(self) -> bool:
        return bool(self.password)

    # Idempotency keys of a signed-in customer are theirs (tenants.conventions.idempotency).
    principal_kind = "customer"

    @property
    def is_authenticated(self) -> bool:
        """What DRF's IsAuthenticated asks of `request.user`: a customer signed in with a token is."""
        return True


class CustomerAddress(models.Model):
    """An address a signed-in customer saved for checkout."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    name = models.CharField(max_length=200)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True, default="")
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_default=True), name="customer_one_default_address"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.city}"


class CustomerRefreshSpent(models.Model):
    """
    A customer's refresh token that was used: each is good for one refresh (the
    answer carries its successor), so a stolen one dies the first time either
    holder uses it. Kept until it would have expired anyway.
    """

    jti = models.CharField(max_length=64, primary_key=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.jti


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        PAID = "paid"
        FULFILLED = "fulfilled"
        CANCELLED = "cancelled"
        REFUNDED = "refunded"

    class PaymentStatus(models.TextChoices):
        """Where the order's money stands, kept beside its `status` (where the order itself stands)."""

        PENDING = "pending"  # not paid yet: manual, or the card's answer is still awaited
        AUTHORIZED = "authorized"
        PAID = "paid"
        PARTIALLY_REFUNDED = "partially_refunded"
        REFUNDED = "refunded"
        FAILED = "failed"  # the provider refused: the order was cancelled, its stock returned
        EXPIRED = "expired"  # never paid and cancelled (its time ran out, or the merchant cancelled it)

    class FulfillmentStatus(models.TextChoices):
        UNFULFILLED = "unfulfilled"
        PARTIALLY_FULFILLED = "partially_fulfilled"
        FULFILLED = "fulfilled"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    email = models.EmailField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    fulfillment_status = models.CharField(
        max_length=20, choices=FulfillmentStatus.choices, default=FulfillmentStatus.UNFULFILLED
    )
    currency = models.CharField(max_length=3)
    # The breakdown (orders.pricing): subtotal - discount + shipping (+ tax unless the
    # prices include it) = total. What each rate and discount came to is snapshotted below.
    subtotal = price_field()
    shipping = price_field(default=0, db_default=0)
    discount = price_field(default=0, db_default=0)
    tax = price_field(default=0, db_default=0)
    total = price_field()
    prices_include_tax = models.BooleanField(default=False, db_default=False)
    # [{name, rate, amount}]: the tax by rate, as shown to the shopper.
    tax_lines = models.JSONField(default=list, db_default=[])
    # [{id, code, kind, value, amount}]: the discounts applied (code null for automatic ones).
    discounts = models.JSONField(default=list, db_default=[])
    # {id, name, price, min_days, max_days, pickup} as quoted; null when nothing shipped.
    shipping_method = models.JSONField(null=True, blank=True)
    refunded_amount = price_field(default=0)
    shipping_address = models.JSONField()
    payment_provider = models.CharField(max_length=32)
    # Placed by the customer signed in to their account (not a guest who gave the same e-mail):
    # such an order shows in the account before its e-mail is verified.
    placed_signed_in = models.BooleanField(default=False, db_default=False)
    # The shopper's secret to view the order; only its hash is kept.
    token_hash = models.CharField(max_length=64)
    # The hash of the cart it was placed from (Cart.id_hash): unique, so one cart makes one order
    # however many checkouts race or retry. Orders from before carts were kept here have none:
    # NULL, as NULLs never collide in the unique index where empty strings would.
    cart_hash = models.CharField(max_length=64, null=True, unique=True)  # noqa: DJ001
    placed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(null=True)
    # An unpaid order gives its stock back at this moment (orders.expiry); null once
    # paid at checkout, and for orders placed before expiry existed.
    expires_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True)
    # The latest fulfilment's tracking (each fulfilment keeps its own: Fulfillment), kept here
    # so the order's representation and export read it without another query.
    tracking_number = models.CharField(max_length=100, blank=True, default="", db_default="")
    carrier = models.CharField(max_length=100, blank=True, default="", db_default="")
    tracking_url = models.URLField(max_length=500, blank=True, default="", db_default="")
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
        # The sales report counts an order on the day it was paid (orders/reports.py).
        indexes = [
            models.Index(fields=["paid_at"], name="order_paid_at_idx"),
            # The expiry sweep's look-up: the few pending orders that can expire, soonest first.
            models.Index(
                fields=["expires_at"], name="order_pending_expiry_idx", condition=Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number}"

    @property
    def number(self) -> int:
        """The shop's order number (1001, 1002, ...): ids are per shop, as each shop has its own table."""
        return ORDER_NUMBER_OFFSET + int(self.pk)


class Cart(models.Model):
    """
    A shopper's cart, in the shop's schema so it survives a Redis restart and is
    taken by the checkout in the order's own transaction. The id the shopper
    holds (32 hex digits, in the storefront's URLs) is a bearer secret: like an
    order's token, only its SHA-256 is stored. The lines are one JSON object,
    `{"<variant id>": quantity}`, so that every cart operation is one statement
    on one row. Unused for CART_TTL (orders.carts), a cart is gone; a checked-out
    cart is empty and takes no more items.
    """

    id_hash = models.CharField(max_length=64, primary_key=True)
    items = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    # Not indexed: an index on it would be rewritten by every cart change (no HOT updates),
    # while the daily sweep of expired carts reads the shop's whole (small) table anyway.
    touched_at = models.DateTimeField(default=timezone.now)
    checked_out_at = models.DateTimeField(null=True)
    # Where it goes, how, and the code the shopper entered (one at most; automatic
    # promotions need none). Checked again, and re-priced, at checkout.
    shipping_address = models.JSONField(null=True, blank=True)
    shipping_method_id = models.BigIntegerField(null=True, blank=True)
    discount_code = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    def __str__(self) -> str:
        return f"cart {self.id_hash[:8]}"


class PaymentSettings(models.Model):
    """
    The shop's one row of payment settings (created on first read). Manual payment
    (bank transfer, cash) is off until the merchant turns it on: an unpaid order
    holds stock, so a shop that does not expect them must not accept them. Card
    payments are captured at checkout unless the shop captures them by hand: then
    the checkout only authorizes, and the merchant captures or voids from the admin.
    """

    class CardCapture(models.TextChoices):
        AUTOMATIC = "automatic"
        MANUAL = "manual"

    SINGLETON_ID = 1
    MANUAL_EXPIRY_HOURS_MAX = 720  # 30 days

    manual_enabled = models.BooleanField(default=False)
    manual_expiry_hours = models.PositiveIntegerField(
        default=24, help_text="Hours an unpaid manual order holds its stock before it expires."
    )
    card_capture = models.CharField(
        max_length=16, choices=CardCapture.choices, default=CardCapture.AUTOMATIC, db_default="automatic"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "payment settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="payment_settings_singleton"),
            models.CheckConstraint(
                condition=Q(manual_expiry_hours__gte=1, manual_expiry_hours__lte=720),
                name="payment_settings_manual_expiry_range",
            ),
        ]

    def __str__(self) -> str:
        return f"manual {'on' if self.manual_enabled else 'off'}, expires after {self.manual_expiry_hours} h"


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
    # Units refunded so far (refund lines add up to at most `quantity`).
    refunded_quantity = models.PositiveIntegerField(default=0)
    # Units shipped so far (fulfilment lines add up to at most `quantity`).
    fulfilled_quantity = models.PositiveIntegerField(default=0, db_default=0)
    # Of the refunded units, those put back into stock: they never ship (orders.fulfilment).
    restocked_quantity = models.PositiveIntegerField(default=0, db_default=0)
    # Its share of the discounts, and the tax on what was left at the rate applied.
    discount = price_field(default=0, db_default=0)
    tax = price_field(default=0, db_default=0)
    tax_rate = models.DecimalField(max_digits=7, decimal_places=4, default=0, db_default=0)
    tax_name = models.CharField(max_length=100, blank=True, default="", db_default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_quantity__lte=models.F("quantity")),
                name="order_line_refund_within_quantity",
            ),
            models.CheckConstraint(
                condition=Q(fulfilled_quantity__lte=models.F("quantity")),
                name="order_line_fulfilment_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class Payment(models.Model):
    """
    Money moved, or about to be: a charge (the checkout's payment intent, written
    before the provider is asked, then settled) or a refund. A charge's
    `idempotency_key` is what the provider knows it by (the order's id), so a
    retry or the recovery sweep asks about the same payment and never takes the
    money twice.
    """

    class Kind(models.TextChoices):
        CHARGE = "charge"
        REFUND = "refund"

    class Status(models.TextChoices):
        PENDING = "pending"  # written, the provider's answer not known yet
        REQUIRES_ACTION = "requires_action"  # the shopper must confirm (3-D Secure, a redirect)
        AUTHORIZED = "authorized"
        SUCCEEDED = "succeeded"  # captured (a charge) or paid back (a refund)
        FAILED = "failed"
        VOIDED = "voided"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUCCEEDED)
    provider = models.CharField(max_length=32)
    amount = price_field()
    # Of a refund: the part of `amount` that pays back shipping (the rest is its lines').
    shipping_amount = price_field(default=0)
    reference = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)
    # Where the shopper goes to confirm a payment that requires action.
    action_url = models.CharField(max_length=2000, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        # The sales report subtracts refunds on the day they were made; refunds are few.
        indexes = [
            models.Index(fields=["created_at"], name="payment_refund_day_idx", condition=Q(kind="refund"))
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} via {self.provider}"


class RefundLine(models.Model):
    """Units of an order line a refund paid back, and whether they went back into stock."""

    refund = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="refund_lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="refund_lines")
    quantity = models.PositiveIntegerField()
    amount = price_field()
    restocked = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} x line {self.order_line_id}"


class Fulfillment(models.Model):
    """
    A shipment of some of an order's units (Shopify's and Saleor's fulfilment):
    its lines, its tracking, who sent it. An order is `partially_fulfilled` until
    every unit that is to ship has shipped.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fulfillments")
    tracking_number = models.CharField(max_length=100, blank=True, default="")
    carrier = models.CharField(max_length=100, blank=True, default="")
    tracking_url = models.URLField(max_length=500, blank=True, default="")
    actor = models.CharField(max_length=255, help_text="Who shipped it: a member's e-mail, an API key.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"fulfilment {self.pk} of order {self.order_id}"


class FulfillmentLine(models.Model):
    """Units of one order line a fulfilment shipped."""

    fulfillment = models.ForeignKey(Fulfillment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="fulfillment_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="fulfillment_line_quantity")]

    def __str__(self) -> str:
        return f"{self.quantity} x line {self.order_line_id}"


class OrderEvent(models.Model):
    """
    One entry of an order's timeline, kept as long as the order (the audit log is
    purged by retention): what happened, who did it, and a merchant's internal
    notes. Written by the service that made the change, in its transaction.
    """

    class Type(models.TextChoices):
        PLACED = "placed"
        PAYMENT_ACTION_REQUIRED = "payment_action_required"
        PAYMENT_AUTHORIZED = "payment_authorized"
        PAYMENT_CAPTURED = "payment_captured"
        PAYMENT_FAILED = "payment_failed"
        PAYMENT_VOIDED = "payment_voided"
        MARKED_PAID = "marked_paid"
        FULFILLED = "fulfilled"
        PARTIALLY_FULFILLED = "partially_fulfilled"
        CANCELLED = "cancelled"
        EXPIRED = "expired"
        REFUNDED = "refunded"
        NOTE = "note"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=32, choices=Type.choices)
    actor = models.CharField(
        max_length=255, help_text="Who: a member's e-mail, an API key, the shopper, system."
    )
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["order", "id"], name="order_event_timeline_idx")]

    def __str__(self) -> str:
        return f"{self.type} on order {self.order_id}"


class TestProviderPayment(models.Model):
    """
    The `test` payment provider's own books (orders.payments.TestProvider): what a
    remote provider would keep on its side, one row per idempotency key, written
    outside the shop's transactions as a remote call would be. Kept in PostgreSQL
    so the simulated provider survives a Redis outage and a killed web process.
    """

    key = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=8, default="charge")
    status = models.CharField(max_length=16)
    reference = models.CharField(max_length=100)
    amount = price_field()
    currency = models.CharField(max_length=3)
    capture = models.BooleanField(default=True)
    action_url = models.CharField(max_length=2000, blank=True)
    message = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"test provider {self.kind} {self.key}: {self.status}"


def sales_amount_field(**kwargs: object) -> models.DecimalField:
    """Sums of prices over a day: room for a busy shop's day, same three decimal places as prices."""
    return models.DecimalField(max_digits=18, decimal_places=3, default=0, **kwargs)  # type: ignore[arg-type]


class DailySales(models.Model):
    """
    One day's sales (UTC) in one currency, recomputed from the orders by
    `orders.reports`: orders paid that day, what they came to less the refunds made
    that day, and units sold. A shop that changed its currency has a row per
    currency its orders were placed in: amounts in two currencies never add up.
    """

    date = models.DateField()
    currency = models.CharField(max_length=3, help_text="The currency the orders counted were placed in.")
    orders = models.PositiveIntegerField(default=0)
    revenue = sales_amount_field(help_text="Totals of the orders paid that day, less refunds made that day.")
    refunds = sales_amount_field()
    # Of the orders paid that day: what their discounts took off, the tax and the shipping they
    # collected (orders.pricing snapshots each on the order).
    discounts = sales_amount_field(db_default=0)
    tax = sales_amount_field(db_default=0)
    shipping = sales_amount_field(db_default=0)
    items_sold = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date", "currency"]
        verbose_name_plural = "daily sales"
        constraints = [
            # PostgreSQL's own name for it (see DailyProductSales).
            models.UniqueConstraint(fields=["date", "currency"], name="orders_dailysales_date_currency_key")
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.orders} orders, {self.revenue} {self.currency}"

    @property
    def gross(self) -> Decimal:
        """What the day's paid orders came to, before refunds."""
        return self.revenue + self.refunds


class DailyProductSales(models.Model):
    """One product's units and line totals in the orders paid on a day (UTC), per currency."""

    date = models.DateField()
    currency = models.CharField(max_length=3, help_text="The currency the orders counted were placed in.")
    product_id = models.BigIntegerField()
    title = models.CharField(max_length=255, help_text="The title it was sold under that day.")
    quantity = models.PositiveIntegerField(default=0)
    revenue = sales_amount_field()

    class Meta:
        ordering = ["date", "currency", "product_id"]
        verbose_name_plural = "daily product sales"
        constraints = [
            # PostgreSQL's own name for it: django-tenants' clone_schema, which copies the template
            # into new shops, re-creates multi-column UNIQUE constraints under that name, so any
            # other name would differ between shops and break a later migration that drops it.
            models.UniqueConstraint(
                fields=["date", "currency", "product_id"],
                name="orders_dailyproductsales_date_currency_product_id_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.quantity} x product {self.product_id}"


class SentEmail(SentEmailRecord):
    """An order e-mail sent for an event of the shop (orders.emails)."""

    class Kind(models.TextChoices):
        ORDER_CONFIRMATION = "order_confirmation"
        NEW_ORDER_NOTICE = "new_order_notice"
        SHIPPING_NOTICE = "shipping_notice"
        CUSTOMER_VERIFICATION = "customer_verification"
        CUSTOMER_PASSWORD_RESET = "customer_password_reset"
        CUSTOMER_EMAIL_CHANGE = "customer_email_change"
        CUSTOMER_EMAIL_CHANGED = "customer_email_changed"
        ORDER_LINK = "order_link"

    kind = models.CharField(max_length=32, choices=Kind.choices)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "kind", "recipient"], name="sent_email_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} for {self.event_id}"


# --- Selling: shipping, taxes, discounts (orders.pricing computes with them) ------------------


def rate_field(**kwargs: object) -> models.DecimalField:
    """A tax rate in percent (19, 5.5, 8.875), at most 100."""
    return models.DecimalField(max_digits=7, decimal_places=4, **kwargs)  # type: ignore[arg-type]


class ShippingZone(models.Model):
    """
    Where a shop ships: a set of countries (ISO 3166-1 alpha-2), optionally only
    postal codes starting with given prefixes. A country belongs to one zone at most.
    """

    name = models.CharField(max_length=100)
    countries = ArrayField(models.CharField(max_length=2))
    postal_code_prefixes = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [GinIndex(fields=["countries"], name="shipping_zone_countries_gin")]

    def __str__(self) -> str:
        return self.name


class ShippingMethod(models.Model):
    """A way to ship to a zone: a flat rate or weight bands, free above a subtotal, or pickup."""

    class RateType(models.TextChoices):
        FLAT = "flat"
        WEIGHT = "weight"

    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="methods")
    name = models.CharField(max_length=100)
    rate_type = models.CharField(max_length=8, choices=RateType.choices, default=RateType.FLAT)
    price = price_field(default=0)
    free_over = price_field(null=True, blank=True)
    # [{"up_to_grams": 1000, "price": "4.90"}, ...], ascending; heavier carts get no quote.
    weight_bands = models.JSONField(default=list, blank=True)
    min_days = models.PositiveSmallIntegerField(null=True, blank=True)
    max_days = models.PositiveSmallIntegerField(null=True, blank=True)
    pickup = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="shipping_method_price_not_negative"),
            models.CheckConstraint(
                condition=Q(free_over__gte=0), name="shipping_method_free_over_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TaxSettings(models.Model):
    """
    The shop's one row of tax settings (the defaults until saved): whether prices
    are entered with tax, whether shipping is taxed, and the rates, most specific
    first: a category override for the country, the region's rate, the country's,
    then the default. `rates` is [{country, region, rate, name}], `category_overrides`
    [{category, country, rate, name}], rates as decimal strings in percent.
    """

    SINGLETON_ID = 1

    prices_include_tax = models.BooleanField(default=False)
    shipping_taxable = models.BooleanField(default=True)
    default_rate = rate_field(default=0)
    rates = models.JSONField(default=list, blank=True)
    category_overrides = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "tax settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="tax_settings_singleton"),
            models.CheckConstraint(
                condition=Q(default_rate__gte=0, default_rate__lte=100),
                name="tax_settings_default_rate_range",
            ),
        ]

    def __str__(self) -> str:
        return f"default {self.default_rate}%"


class Discount(models.Model):
    """
    A code the shopper enters, or, without a code, an automatic promotion. It takes
    a percentage or a fixed amount off the lines it applies to (all of them, or
    those of some products or categories), or makes shipping free. `times_used`
    only grows through one conditional UPDATE at checkout, so it never passes
    `usage_limit` however many checkouts race.
    """

    class Kind(models.TextChoices):
        PERCENTAGE = "percentage"
        FIXED = "fixed"
        FREE_SHIPPING = "free_shipping"

    # Stored upper-case: codes are matched without regard to case. NULL: automatic.
    code = models.CharField(max_length=64, null=True, blank=True, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = price_field(null=True, blank=True, help_text="Percent for percentage, amount for fixed.")
    product_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    category_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    min_subtotal = price_field(null=True, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    usage_limit_per_customer = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    times_used = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(times_used__lte=models.F("usage_limit")),
                name="discount_used_within_limit",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="discount_value_not_negative"),
        ]

    def __str__(self) -> str:
        return self.code or f"automatic {self.kind} #{self.pk}"


class DiscountUse(models.Model):
    """One use of a discount by an order, for the per-customer limit (by e-mail)."""

    discount = models.ForeignKey(Discount, on_delete=models.CASCADE, related_name="uses")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["discount", "email"], name="discount_use_customer_idx")]

    def __str__(self) -> str:
        return f"{self.discount_id} by {self.email}"
