"""Seed the free, pro and enterprise plans; put every existing shop on free."""

from decimal import Decimal

from django.db import migrations
from django.utils import timezone

MB = 1024 * 1024
GB = 1024 * MB

PLANS = [
    {
        "code": "free",
        "name": "Free",
        "position": 0,
        "price_amount": Decimal("0.00"),
        "max_products": 100,
        "max_orders_per_month": 100,
        "max_staff_seats": 2,
        "max_storage_bytes": 100 * MB,
        "api_requests_per_minute": 120,
        "storefront_requests_per_minute": 600,
        "included_orders_per_month": 100,
        "order_overage_amount": Decimal("0.00"),
        "included_api_calls_per_month": 100_000,
        "api_calls_overage_amount": Decimal("0.00"),
    },
    {
        "code": "pro",
        "name": "Pro",
        "position": 1,
        "price_amount": Decimal("29.00"),
        "max_products": 10_000,
        "max_orders_per_month": 10_000,
        "max_staff_seats": 10,
        "max_storage_bytes": 10 * GB,
        "api_requests_per_minute": 600,
        "storefront_requests_per_minute": 3_000,
        "included_orders_per_month": 2_000,
        "order_overage_amount": Decimal("0.10"),
        "included_api_calls_per_month": 1_000_000,
        "api_calls_overage_amount": Decimal("0.50"),
    },
    {
        "code": "enterprise",
        "name": "Enterprise",
        "position": 2,
        "price_amount": Decimal("299.00"),
        "max_products": 1_000_000,
        "max_orders_per_month": 1_000_000,
        "max_staff_seats": 100,
        "max_storage_bytes": 1024 * GB,
        "api_requests_per_minute": 6_000,
        "storefront_requests_per_minute": 20_000,
        "included_orders_per_month": 50_000,
        "order_overage_amount": Decimal("0.02"),
        "included_api_calls_per_month": 20_000_000,
        "api_calls_overage_amount": Decimal("0.10"),
    },
]


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    Shop = apps.get_model("tenants", "Shop")
    Subscription = apps.get_model("billing", "Subscription")
    PlanChange = apps.get_model("billing", "PlanChange")
    ShopUsage = apps.get_model("billing", "ShopUsage")
    for fields in PLANS:
        Plan.objects.update_or_create(code=fields["code"], defaults={**fields, "currency": "USD"})
    free = Plan.objects.get(code="free")
    now = timezone.now()
    # Shops made before billing existed start on free. Their product and image
    # counters start at zero; `manage.py usage_recount` sets them from the shops' tables.
    for shop in Shop.objects.filter(subscription__isnull=True):
        Subscription.objects.create(shop=shop, plan=free, started_at=now, plan_changed_at=now)
        PlanChange.objects.create(shop=shop, plan=free, changed_at=now)
        ShopUsage.objects.get_or_create(shop=shop)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("tenants", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
