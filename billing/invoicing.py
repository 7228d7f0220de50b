"""
Monthly invoices: the plan fee plus overage lines from metered usage.

One line computation serves both the issued invoice of an ended period and the
running period's preview (`invoice_preview`). Issuing is idempotent: an invoice
is unique per shop and period, so the beat task, `manage.py issue_invoices` and
a retry racing either can run as often as they like.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import metering, selectors
from billing.errors import PeriodInvalid
from billing.models import Invoice, InvoiceLine, Plan, PlanChange, UsagePeriod
from billing.periods import period_bounds, period_label, period_of
from billing.services import plan_at
from tenants.models import Shop
from tenants.money import Money

logger = logging.getLogger(__name__)

PAYMENT_TERMS = dt.timedelta(days=14)
API_CALLS_BLOCK = 1000


@dataclass(frozen=True)
class LineSpec:
    kind: str
    description: str
    quantity: int
    unit: Money

    @property
    def amount(self) -> Money:
        return self.unit * self.quantity


@dataclass(frozen=True)
class Usage:
    orders: int
    api_calls: int


@dataclass
class Bill:
    """An invoice's content, issued or not: the plan, the usage it counts and its lines."""

    shop: Shop
    period: dt.date
    plan: Plan
    usage: Usage
    lines: list[LineSpec] = field(default_factory=list)

    @property
    def total(self) -> Money:
        return sum((line.amount for line in self.lines), Money(Decimal(0), self.plan.currency))


def _count(number: int) -> str:
    return f"{number:,}"


def lines_compute(*, plan: Plan, period: dt.date, usage: Usage) -> list[LineSpec]:
    """The plan's monthly fee, then overage for orders and Admin API calls beyond the included ones."""
    month = dt.date(period.year, period.month, 1).strftime("%B %Y")
    lines = [LineSpec(InvoiceLine.Kind.PLAN, f"{plan.name} plan, {month}", 1, plan.price)]
    extra_orders = usage.orders - plan.included_orders_per_month
    if extra_orders > 0 and plan.order_overage_amount > 0:
        lines.append(
            LineSpec(
                InvoiceLine.Kind.ORDERS_OVERAGE,
                f"Orders beyond the {_count(plan.included_orders_per_month)} included "
                f"({_count(usage.orders)} placed)",
                extra_orders,
                Money(plan.order_overage_amount, plan.currency),
            )
        )
    extra_calls = usage.api_calls - plan.included_api_calls_per_month
    if extra_calls > 0 and plan.api_calls_overage_amount > 0:
        blocks = math.ceil(extra_calls / API_CALLS_BLOCK)
        lines.append(
            LineSpec(
                InvoiceLine.Kind.API_CALLS_OVERAGE,
                f"Admin API calls beyond the {_count(plan.included_api_calls_per_month)} included "
                f"({_count(usage.api_calls)} made), per started {_count(API_CALLS_BLOCK)}",
                blocks,
                Money(plan.api_calls_overage_amount, plan.currency),
            )
        )
    return lines


def _usage(shop: Shop, period: dt.date) -> Usage:
    row = UsagePeriod.objects.filter(shop=shop, period=period).first()
    counted = metering.api_calls_in_period(schema=shop.schema_name, period=period)
    # The Redis counter expires a while after the period; the copy kept at issue time stays.
    # Orders are counted in the shop's schema, the one count that limits enforce.
    return Usage(
        orders=selectors.shop_orders_in_period(shop, period),
        api_calls=max(counted, row.api_calls if row else 0),
    )


def invoice_preview(*, shop: Shop, period: dt.date | None = None) -> Bill:
    """The running period's invoice as it stands now (the plan in effect now, usage so far)."""
    period = period or period_of()
    plan = plan_at(shop_id=shop.pk, moment=timezone.now() + dt.timedelta(microseconds=1))
    if plan is None:
        raise PeriodInvalid("This shop has no subscription to preview.")
    usage = _usage(shop, period)
    return Bill(
        shop=shop,
        period=period,
        plan=plan,
        usage=usage,
        lines=lines_compute(plan=plan, period=period, usage=usage),
    )


def invoice_number(shop: Shop, period: dt.date) -> str:
    return f"SF-{period:%Y%m}-{shop.pk:06d}"


def invoice_issue(*, shop: Shop, period: dt.date) -> Invoice | None:
    """
    Issue a shop's invoice for an ended period, charging the plan in effect at
    its end; return None if it was issued already (or the shop was not
    subscribed by then). Free invoices are settled at once; others are `open`.
    """
    _start, end = period_bounds(period)
    if end > timezone.now():
        raise PeriodInvalid(f"{period_label(period)} has not ended yet.", errors={"period": ["Not ended."]})
    if Invoice.objects.filter(shop=shop, period=period).exists():
        return None
    plan = plan_at(shop_id=shop.pk, moment=end)
    if plan is None:
        return None
    usage = _usage(shop, period)
    lines = lines_compute(plan=plan, period=period, usage=usage)
    total = sum((line.amount for line in lines), Money(Decimal(0), plan.currency))
    now = timezone.now()
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                number=invoice_number(shop, period),
                shop=shop,
                shop_slug=shop.slug,
                shop_name=shop.name,
                plan=plan,
                period=period,
                status=Invoice.Status.PAID if total.amount == 0 else Invoice.Status.OPEN,
                currency=plan.currency,
                total_amount=total.amount,
                issued_at=now,
                due_at=now + PAYMENT_TERMS,
                paid_at=now if total.amount == 0 else None,
            )
            InvoiceLine.objects.bulk_create(
                InvoiceLine(
                    invoice=invoice,
                    position=index,
                    kind=line.kind,
                    description=line.description,
                    quantity=line.quantity,
                    unit_amount=line.unit.amount,
                    amount=line.amount.amount,
                )
                for index, line in enumerate(lines)
            )
            UsagePeriod.objects.update_or_create(
                shop=shop, period=period, defaults={"orders": usage.orders, "api_calls": usage.api_calls}
            )
    except IntegrityError:
        # Another run issued it between our check and our insert.
        return None
    return invoice


@dataclass(frozen=True)
class IssueRun:
    issued: int
    already_issued: int
    failed: int


def invoices_issue(*, period: dt.date) -> IssueRun:
    """Issue every subscribed shop's invoice for an ended period; a shop already invoiced is skipped."""
    _start, end = period_bounds(period)
    if end > timezone.now():
        raise PeriodInvalid(f"{period_label(period)} has not ended yet.", errors={"period": ["Not ended."]})
    shop_ids = (
        PlanChange.objects.filter(changed_at__lt=end).values_list("shop_id", flat=True).distinct().order_by()
    )
    invoiced = Invoice.objects.filter(period=period, shop__isnull=False).values_list("shop_id", flat=True)
    already = invoiced.count()
    due = Shop.objects.filter(pk__in=shop_ids).exclude(pk__in=invoiced).order_by("pk")
    issued = failed = 0
    for shop in due.iterator():
        try:
            invoice = invoice_issue(shop=shop, period=period)
        except Exception:
            # One shop's trouble (Redis down, say) must not stop the others; the next run retries.
            logger.exception("Could not issue the %s invoice of %s", period_label(period), shop.slug)
            failed += 1
            continue
        if invoice is None:
            already += 1
        else:
            issued += 1
    return IssueRun(issued=issued, already_issued=already, failed=failed)


def invoice_mark_paid(*, invoice: Invoice) -> Invoice:
    if invoice.status == Invoice.Status.OPEN:
        invoice.status = Invoice.Status.PAID
        invoice.paid_at = timezone.now()
        invoice.save(update_fields=["status", "paid_at"])
    return invoice


def invoice_void(*, invoice: Invoice) -> Invoice:
    if invoice.status in (Invoice.Status.DRAFT, Invoice.Status.OPEN):
        invoice.status = Invoice.Status.VOID
        invoice.voided_at = timezone.now()
        invoice.save(update_fields=["status", "voided_at"])
    return invoice
