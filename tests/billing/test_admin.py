"""Django admin for platform staff: billing pages render, plan changes are checked, invoices settle."""

from __future__ import annotations

import pytest
from django.test import Client

from billing.models import Invoice, Plan, Subscription
from billing.periods import period_before, period_of
from tenants.models import User
from tests.billing.helpers import set_limits
from tests.catalog.helpers import AdminClient, product_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(settings) -> Client:
    staff = User.objects.create_superuser(email="staff@storefleet.example", password="x-Secret-42")
    client = Client(HTTP_HOST=settings.PLATFORM_HOST)
    client.force_login(staff)
    return client


def test_billing_pages_render(staff_client, shop_a) -> None:
    subscription = Subscription.objects.get(shop=shop_a.shop)
    for url in (
        "/admin/billing/plan/",
        f"/admin/billing/plan/{Plan.objects.get(code='pro').pk}/change/",
        "/admin/billing/subscription/",
        f"/admin/billing/subscription/{subscription.pk}/change/",
        "/admin/billing/shopusage/",
        "/admin/billing/usageperiod/",
        "/admin/billing/invoice/",
    ):
        assert staff_client.get(url).status_code == 200, url


def test_staff_plan_change_is_checked_against_usage(staff_client, api, shop_a) -> None:
    AdminClient(api, shop_a).post("products", product_body("Counted Shirt"))
    subscription = Subscription.objects.get(shop=shop_a.shop)
    url = f"/admin/billing/subscription/{subscription.pk}/change/"
    enterprise = Plan.objects.get(code="enterprise")
    assert staff_client.post(url, {"plan": enterprise.pk}).status_code == 302
    assert Subscription.objects.get(pk=subscription.pk).plan.code == "enterprise"
    set_limits(max_products=0)
    refused = staff_client.post(url, {"plan": Plan.objects.get(code="free").pk})
    assert refused.status_code == 200 and b"free allows 0 products" in refused.content
    assert Subscription.objects.get(pk=subscription.pk).plan.code == "enterprise"


def test_invoice_actions_mark_paid_and_void(staff_client, shop_a) -> None:
    pro = Plan.objects.get(code="pro")
    common = {"shop": shop_a.shop, "shop_slug": "alpha", "shop_name": "Alpha", "plan": pro, "currency": "USD"}
    due = Invoice.objects.create(number="SF-T-1", period=period_before(period_of()), status="open", **common)
    other = Invoice.objects.create(number="SF-T-2", period=period_of(), status="open", **common)
    staff_client.post("/admin/billing/invoice/", {"action": "mark_paid", "_selected_action": [due.pk]})
    staff_client.post("/admin/billing/invoice/", {"action": "void", "_selected_action": [other.pk, due.pk]})
    due.refresh_from_db()
    other.refresh_from_db()
    assert (due.status, other.status) == ("paid", "void")  # a paid invoice is not voided
    assert due.paid_at is not None and other.voided_at is not None
