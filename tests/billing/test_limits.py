"""
Limits bite where they are crossed: the Nth product, order, staff seat and image
byte is allowed, the one beyond gets a 402 naming the limit and the plan, and
nothing is written. Plans are shrunk per test (set_limits) to keep this fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from billing.models import ShopUsage, UsagePeriod
from billing.periods import period_of
from billing.services import order_counts_collect
from billing.usage.models import OrderCount
from catalog.models import Product, ProductImage
from orders.models import Order
from tenants.models import Membership
from tenants.schemas import use_public, use_shop
from tests.billing.helpers import PlatformClient, set_limits
from tests.catalog.helpers import AdminClient, product_body
from tests.catalog.test_images import local_put, png_bytes, start
from tests.conftest import assert_problem, make_user
from tests.orders.helpers import cart_with, checkout, sellable_product

pytestmark = pytest.mark.django_db


def usage(ctx) -> ShopUsage:
    use_public()
    return ShopUsage.objects.get(shop=ctx.shop)


def assert_limit_problem(response: Any, limit: str, plan: str, allowed: int) -> dict[str, Any]:
    body = assert_problem(response, 402)
    assert body["code"] == "limit_reached"
    assert (body["limit"], body["plan"], body["allowed"]) == (limit, plan, allowed)
    return body


# --- Products -------------------------------------------------------------------------


def test_the_nth_product_is_allowed_and_the_next_refused(api, shop_a) -> None:
    set_limits(max_products=2)
    admin = AdminClient(api, shop_a)
    for title in ("First Shirt", "Second Shirt"):
        assert admin.post("products", product_body(title)).status_code == 201
    body = assert_limit_problem(
        admin.post("products", product_body("Third Shirt")), "max_products", "free", 2
    )
    assert body["detail"].startswith("free allows 2 products")
    use_shop(shop_a.shop)
    assert Product.objects.count() == 2
    assert usage(shop_a).products == 2


def test_deleting_a_product_frees_its_slot(api, shop_a) -> None:
    set_limits(max_products=1)
    admin = AdminClient(api, shop_a)
    first = admin.post("products", product_body("Only Shirt")).json()
    assert_problem(admin.post("products", product_body("Other Shirt")), 402)
    assert admin.delete(f"products/{first['id']}").status_code == 204
    assert usage(shop_a).products == 0
    assert admin.post("products", product_body("Other Shirt")).status_code == 201


def test_a_refused_create_for_another_reason_takes_no_slot(api, shop_a) -> None:
    set_limits(max_products=1)
    admin = AdminClient(api, shop_a)
    bad = product_body("Dup Shirt")
    bad["variants"][1]["sku"] = bad["variants"][0]["sku"]
    assert_problem(admin.post("products", bad), 409)
    assert usage(shop_a).products == 0
    assert admin.post("products", product_body("Good Shirt")).status_code == 201


def test_one_shops_products_do_not_count_against_another(api, shop_a, shop_b) -> None:
    set_limits(max_products=1)
    assert AdminClient(api, shop_a).post("products", product_body("A Shirt")).status_code == 201
    assert AdminClient(api, shop_b).post("products", product_body("B Shirt")).status_code == 201
    assert (usage(shop_a).products, usage(shop_b).products) == (1, 1)


# --- Orders ---------------------------------------------------------------------------


@pytest.fixture
def order_numbers_restarted(shop_a) -> Iterator[None]:
    """
    Sequences ignore rollbacks, and the spare schema behind this test's shop goes
    back to the warm pool for the next test's shop, whose first order must be 1001.
    """
    yield
    use_shop(shop_a.shop)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('orders_order', 'id'), 1, false)")
    use_public()


@pytest.mark.usefixtures("order_numbers_restarted")
def test_the_nth_order_of_the_month_is_allowed_and_the_next_refused(api, shop_a) -> None:
    set_limits(max_orders_per_month=2)
    admin = AdminClient(api, shop_a)
    variant = sellable_product(admin, stock=10)["variants"][0]
    for _ in range(2):
        assert checkout(api, shop_a, cart_with(api, shop_a, variant["id"])).status_code == 201
    refused = checkout(api, shop_a, cart_with(api, shop_a, variant["id"]))
    body = assert_limit_problem(refused, "max_orders_per_month", "free", 2)
    assert "free allows 2 orders a month" in body["detail"]
    use_shop(shop_a.shop)
    assert Order.objects.count() == 2
    # Counted in the shop's own schema; billing's copy in public follows when collected.
    assert OrderCount.objects.get(period=period_of()).orders == 2
    use_public()
    assert order_counts_collect() >= 1
    assert UsagePeriod.objects.get(shop=shop_a.shop, period=period_of()).orders == 2


# --- Staff seats ----------------------------------------------------------------------


def test_the_nth_staff_seat_is_allowed_and_the_next_refused(api, shop_a) -> None:
    set_limits(max_staff_seats=2)  # the owner holds one
    owner = PlatformClient(api, shop_a)
    make_user("second@example.com")
    make_user("third@example.com")
    assert owner.post("members", {"email": "second@example.com", "role": "staff"}).status_code == 201
    refused = owner.post("members", {"email": "third@example.com", "role": "admin"})
    body = assert_limit_problem(refused, "max_staff_seats", "free", 2)
    assert "free allows 2 staff seats" in body["detail"]
    assert Membership.objects.filter(shop=shop_a.shop).count() == 2


# --- Storage --------------------------------------------------------------------------


def test_image_bytes_up_to_the_limit_are_allowed_and_beyond_refused(
    api, shop_a, settings, tmp_path: Path
) -> None:
    settings.STORAGE = "local"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    data = png_bytes(40, 40)
    set_limits(max_storage_bytes=len(data))
    admin = AdminClient(api, shop_a)
    product = admin.post("products", product_body("Pictured Shirt")).json()
    first = start(admin, product["id"])
    assert local_put(api, first["upload"], data).status_code == 204
    assert admin.post(f"products/{product['id']}/images/{first['id']}/confirm").status_code == 200
    assert usage(shop_a).storage_bytes == len(data)

    second = start(admin, product["id"])
    assert local_put(api, second["upload"], data).status_code == 204
    refused = admin.post(f"products/{product['id']}/images/{second['id']}/confirm")
    assert_limit_problem(refused, "max_storage_bytes", "free", len(data))
    use_shop(shop_a.shop)
    pending = ProductImage.objects.get(pk=second["id"])
    assert pending.status == ProductImage.Status.PENDING
    assert not (settings.MEDIA_ROOT / pending.key).exists()  # the refused bytes are not kept
    assert usage(shop_a).storage_bytes == len(data)

    # Announcing a size that cannot fit is refused before any upload.
    assert_limit_problem(
        admin.post(
            f"products/{product['id']}/images",
            {"filename": "big.png", "content_type": "image/png", "size": 10},
        ),
        "max_storage_bytes",
        "free",
        len(data),
    )
    # Deleting the ready image gives its bytes back.
    assert admin.delete(f"products/{product['id']}/images/{first['id']}").status_code == 204
    assert usage(shop_a).storage_bytes == 0
    # The refused upload was removed: upload it again, then it fits.
    assert_problem(admin.post(f"products/{product['id']}/images/{second['id']}/confirm"), 409)
    assert local_put(api, second["upload"], data).status_code == 204
    assert admin.post(f"products/{product['id']}/images/{second['id']}/confirm").status_code == 200
    assert usage(shop_a).storage_bytes == len(data)


def test_usage_recount_sets_the_counters_from_the_catalog(api, shop_a) -> None:
    AdminClient(api, shop_a).post("products", product_body("Recounted Shirt"))
    ShopUsage.objects.filter(shop=shop_a.shop).update(products=40, storage_bytes=7)
    out = StringIO()
    call_command("usage_recount", shop=shop_a.shop.slug, stdout=out)
    assert "alpha: 1 product(s), 0 byte(s)" in out.getvalue()
    assert (usage(shop_a).products, usage(shop_a).storage_bytes) == (1, 0)
