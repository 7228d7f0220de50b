"""
Invoices: the plan fee plus overage lines from metered usage, issued once per
shop and period (beat task, `manage.py issue_invoices`), listed with their
lines, and the running period's preview computed the same way.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from billing import metering
from billing.invoicing import invoice_issue
from billing.models import Invoice, Plan, PlanChange, UsagePeriod
from billing.periods import period_before, period_bounds, period_label, period_of
from billing.tasks import invoices_issue_due
from billing.usage.models import OrderCount
from tenants.models import Membership
from tenants.schemas import use_public, use_shop
from tests.billing.helpers import PlatformClient
from tests.conftest import assert_problem, make_user

pytestmark = pytest.mark.django_db

LAST = period_before(period_of())


def on_plan_since(ctx, code: str, since: dt.datetime) -> None:
    """Rewrite the shop's plan history: on `code` since `since`."""
    plan = Plan.objects.get(code=code)
    PlanChange.objects.filter(shop=ctx.shop).update(plan=plan, changed_at=since)
    ctx.shop.subscription.plan = plan
    ctx.shop.subscription.save(update_fields=["plan"])


def used(ctx, period: dt.date, *, orders: int, api_calls: int) -> None:
    # Orders are counted in the shop's schema (what checkout's limit check moves).
    use_shop(ctx.shop)
    OrderCount.objects.update_or_create(period=period, defaults={"orders": orders})
    use_public()
    start, _end = period_bounds(period)
    metering.api_call_record(
        schema=ctx.shop.schema_name, count=api_calls, moment=start + dt.timedelta(days=2)
    )


def issue(period: dt.date = LAST) -> str:
    out = StringIO()
    call_command("issue_invoices", period=period_label(period), stdout=out)
    return out.getvalue()


def test_invoice_arithmetic_with_overage(shop_a) -> None:
    start, _end = period_bounds(LAST)
    on_plan_since(shop_a, "pro", start - dt.timedelta(days=3))
    used(shop_a, LAST, orders=2_500, api_calls=1_234_567)

    assert "1 issued, 0 already issued, 0 failed" in issue()
    invoice = Invoice.objects.get(shop=shop_a.shop, period=LAST)
    lines = [(line.kind, line.quantity, line.unit_amount, line.amount) for line in invoice.lines.all()]
    assert lines == [
        ("plan", 1, Decimal("29.00"), Decimal("29.00")),
        ("orders_overage", 500, Decimal("0.10"), Decimal("50.00")),  # 2,500 - 2,000 included
        ("api_calls_overage", 235, Decimal("0.50"), Decimal("117.50")),  # 234,567 over → 235 started 1,000s
    ]
    assert invoice.total_amount == Decimal("196.50") and invoice.currency == "USD"
    assert invoice.status == Invoice.Status.OPEN and invoice.paid_at is None
    assert invoice.number == f"SF-{LAST:%Y%m}-{shop_a.shop.pk:06d}"
    # Issuing keeps the billed usage in public: the orders counted in the shop's schema too.
    copied = UsagePeriod.objects.get(shop=shop_a.shop, period=LAST)
    assert (copied.orders, copied.api_calls) == (2_500, 1_234_567)


def test_issuing_twice_issues_nothing_twice(shop_a) -> None:
    on_plan_since(shop_a, "pro", period_bounds(LAST)[0])
    assert "1 issued" in issue()
    assert "0 issued, 1 already issued" in issue()
    assert invoices_issue_due() == 0  # the beat task for the same period
    assert invoice_issue(shop=shop_a.shop, period=LAST) is None
    assert Invoice.objects.filter(shop=shop_a.shop).count() == 1
    # The database refuses a second invoice for the same shop and period outright.
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(
            number="SF-DUPLICATE", shop=shop_a.shop, shop_slug="alpha", shop_name="Alpha",
            plan=Plan.objects.get(code="pro"), period=LAST, currency="USD",
        )  # fmt: skip


def test_the_beat_task_issues_last_months_invoices(shop_a) -> None:
    on_plan_since(shop_a, "pro", period_bounds(LAST)[0])
    assert invoices_issue_due() == 1
    assert Invoice.objects.get(shop=shop_a.shop).period == LAST


def test_a_free_invoice_is_settled_at_once_and_new_shops_are_not_billed(shop_a, shop_b) -> None:
    on_plan_since(shop_a, "free", period_bounds(LAST)[0])
    used(shop_a, LAST, orders=100, api_calls=500_000)  # free has no overage prices
    # shop_b was created this month: nothing to bill for last month.
    assert "1 issued" in issue()
    invoice = Invoice.objects.get(shop=shop_a.shop)
    assert invoice.total_amount == Decimal("0.00") and invoice.status == Invoice.Status.PAID
    assert [line.kind for line in invoice.lines.all()] == ["plan"]
    assert not Invoice.objects.filter(shop=shop_b.shop).exists()


def test_the_plan_in_effect_at_the_periods_end_is_charged(shop_a) -> None:
    start, end = period_bounds(LAST)
    on_plan_since(shop_a, "enterprise", start)
    PlanChange.objects.create(shop=shop_a.shop, plan=Plan.objects.get(code="free"), changed_at=end)
    issue()
    assert Invoice.objects.get(shop=shop_a.shop).plan.code == "enterprise"


@pytest.mark.parametrize("period", ["2026-13", "26-01", "abc", "", "1999-12"])
def test_bad_periods_are_refused(db, period) -> None:
    with pytest.raises(CommandError):
        call_command("issue_invoices", period=period, stdout=StringIO())


def test_a_period_that_has_not_ended_is_refused(shop_a) -> None:
    with pytest.raises(CommandError, match="not ended"):
        issue(period_of())
    assert not Invoice.objects.exists()


def test_invoices_endpoint_lists_lines_and_status(api, shop_a, shop_b) -> None:
    on_plan_since(shop_a, "pro", period_bounds(LAST)[0])
    used(shop_a, LAST, orders=2_001, api_calls=0)
    issue()
    response = PlatformClient(api, shop_a).get("invoices")
    assert response.status_code == 200
    (invoice,) = response.json()["results"]
    assert (
        invoice["period"] == period_label(LAST) and invoice["status"] == "open" and invoice["plan"] == "pro"
    )
    assert invoice["total"] == {"amount": "29.10", "currency": "USD"}
    assert [(line["kind"], line["quantity"], line["amount"]["amount"]) for line in invoice["lines"]] == [
        ("plan", 1, "29.00"),
        ("orders_overage", 1, "0.10"),
    ]
    # Only this shop's invoices, only for owners.
    assert PlatformClient(api, shop_b).get("invoices").json()["results"] == []
    admin = make_user("admin@example.com")
    Membership.objects.create(user=admin, shop=shop_a.shop, role="admin")
    assert_problem(PlatformClient(api, shop_a, admin).get("invoices"), 403)
    assert_problem(PlatformClient(api, shop_a, admin).get("invoices/upcoming"), 403)
    assert_problem(PlatformClient(api, shop_a, shop_b.owner).get("invoices"), 404)
    assert_problem(PlatformClient(api, shop_a).get("invoices?cursor=bad!"), 400)
    assert_problem(PlatformClient(api, shop_a).get("invoices?limit=abc"), 400)


def test_upcoming_invoice_previews_the_running_period_with_the_same_lines(api, shop_a) -> None:
    assert PlatformClient(api, shop_a).put("subscription", {"plan": "pro"}).status_code == 200
    used(shop_a, period_of(), orders=2_100, api_calls=1_000_001)
    body = PlatformClient(api, shop_a).get("invoices/upcoming").json()
    assert body["period"] == period_label(period_of()) and body["plan"] == "pro"
    assert [(line["kind"], line["quantity"], line["amount"]["amount"]) for line in body["lines"]] == [
        ("plan", 1, "29.00"),
        ("orders_overage", 100, "10.00"),
        ("api_calls_overage", 1, "0.50"),
    ]
    assert body["total"] == {"amount": "39.50", "currency": "USD"}
    assert body["usage"] == {"orders": 2_100, "api_calls": 1_000_001}
    assert not Invoice.objects.exists()  # a preview issues nothing


def test_a_shop_that_cannot_be_invoiced_now_is_retried_later(shop_a, shop_b, monkeypatch) -> None:
    for ctx in (shop_a, shop_b):
        on_plan_since(ctx, "pro", period_bounds(LAST)[0])
    real = metering.api_calls_in_period

    def flaky(*, schema: str, period: dt.date) -> int:
        if schema == shop_a.shop.schema_name:
            raise ConnectionError("redis is down")
        return real(schema=schema, period=period)

    monkeypatch.setattr(metering, "api_calls_in_period", flaky)
    with pytest.raises(CommandError, match="1 invoice"):
        issue()
    assert list(Invoice.objects.values_list("shop__slug", flat=True)) == ["bravo"]
    monkeypatch.setattr(metering, "api_calls_in_period", real)
    assert "1 issued, 1 already issued, 0 failed" in issue()
    assert Invoice.objects.count() == 2
