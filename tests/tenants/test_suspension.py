"""
Suspended shops: platform staff suspend and reactivate; the
Storefront API answers 503 at once, cached or not, in every process; the Admin
API and the Platform API keep working; owners get 403; it is audited.
"""

from __future__ import annotations

import time

import pytest

from tenants import process_cache, routing
from tenants.audit.models import AuditEntry
from tenants.keys import host_cache_channel, redis_client
from tenants.models import Shop
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import PLATFORM, ShopContext, assert_problem, bearer, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    user = make_user("staff@storefleet.example")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def _platform(api, path: str, user_token: str, **kwargs):
    return api.post(f"/api/platform/v1/shops/{path}", **PLATFORM, **bearer(user_token), **kwargs)


def test_suspend_turns_the_storefront_off_cached_or_not_and_leaves_admin_working(
    api, shop_a: ShopContext, staff, django_capture_on_commit_callbacks
) -> None:
    products = "/api/storefront/v1/products"
    assert api.get(products, HTTP_HOST=shop_a.host).status_code == 200
    assert api.get(products, HTTP_HOST=shop_a.host)["X-Cache"] == "hit"  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        response = _platform(api, f"{shop_a.shop.slug}/suspend", shop_a.token(staff))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "suspended"
    for path in (products, "/api/storefront/v1/shop", "/api/storefront/v1/carts"):
        body = assert_problem(api.get(path, HTTP_HOST=shop_a.host), 503)
        assert body["code"] == "shop_unavailable" and "unavailable" in body["detail"]
    assert AdminClient(api, shop_a).get("products").status_code == 200
    owner = api.get(f"/api/platform/v1/shops/{shop_a.shop.slug}", **PLATFORM, **bearer(shop_a.token()))
    assert owner.status_code == 200 and owner.json()["status"] == "suspended"
    use_shop(shop_a.shop)
    entry = AuditEntry.objects.get(action="shop.suspended")
    assert entry.actor_label == staff.email and entry.after == {"status": "suspended"}
    use_public()

    with django_capture_on_commit_callbacks(execute=True):
        response = _platform(api, f"{shop_a.shop.slug}/reactivate", shop_a.token(staff))
    assert response.json()["status"] == "active"
    assert api.get(products, HTTP_HOST=shop_a.host).status_code == 200


def test_only_platform_staff_may_suspend(api, shop_a: ShopContext, shop_b: ShopContext, staff) -> None:
    for action in ("suspend", "reactivate"):
        body = assert_problem(_platform(api, f"{shop_a.shop.slug}/{action}", shop_a.token()), 403)
        assert "staff" in body["detail"]
        # Another shop's owner, and a slug that does not exist, get the same 403: nothing leaks.
        assert_problem(_platform(api, f"{shop_a.shop.slug}/{action}", shop_b.token()), 403)
        assert_problem(_platform(api, f"no-such-shop/{action}", shop_a.token()), 403)
    assert_problem(api.post(f"/api/platform/v1/shops/{shop_a.shop.slug}/suspend", **PLATFORM), 401)
    assert_problem(_platform(api, "no-such-shop/suspend", shop_a.token(staff)), 404)
    shop_a.shop.refresh_from_db()
    assert shop_a.shop.status == Shop.Status.ACTIVE


def test_suspension_reaches_other_processes_at_once(shop_a: ShopContext) -> None:
    """Another process's cached lookup is forgotten through Redis, not after the cache's lifetime."""
    hostname = shop_a.host
    assert routing.shop_for_host(hostname).status == Shop.Status.ACTIVE  # cached, listener started
    assert process_cache.listening.wait(5)
    # As another process would: change the row and broadcast, without touching this process's cache.
    Shop.objects.filter(pk=shop_a.shop.pk).update(status=Shop.Status.SUSPENDED)
    assert routing.shop_for_host(hostname).status == Shop.Status.ACTIVE  # still the cached answer
    redis_client().publish(host_cache_channel(), f"hosts {hostname}")
    deadline = time.monotonic() + 3
    while routing.shop_for_host(hostname).status != Shop.Status.SUSPENDED:
        assert time.monotonic() < deadline, "the broadcast never reached this process's cache"
        time.sleep(0.02)


def test_django_admin_actions_suspend_and_reactivate(client, shop_a: ShopContext, staff) -> None:
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    url = "/admin/tenants/shop/"
    for action, status in (("suspend", "suspended"), ("reactivate", "active")):
        response = client.post(
            url, {"action": action, "_selected_action": [shop_a.shop.pk]}, HTTP_HOST="localhost", follow=True
        )
        assert response.status_code == 200
        shop_a.shop.refresh_from_db()
        assert shop_a.shop.status == status


def test_a_suspended_shop_serves_no_pages_and_no_images(
    api, shop_a: ShopContext, staff, tmp_path, settings, media_root, django_capture_on_commit_callbacks
) -> None:
    from tests.catalog.test_images import local_put, png_bytes

    for app in ("storefront", "admin"):
        (tmp_path / app).mkdir()
        (tmp_path / app / "index.html").write_text(f"<!doctype html><title>{app}</title>")
    settings.SPA_DIST_DIR = tmp_path
    admin = AdminClient(api, shop_a)
    product = admin.post("products", {"title": "Mug", "variants": [{"sku": "M", "price": "5.00"}]}).json()
    image = admin.post(
        f"products/{product['id']}/images", {"filename": "a.png", "content_type": "image/png"}
    ).json()
    local_put(api, image["upload"], png_bytes(20, 20))
    url = admin.post(f"products/{product['id']}/images/{image['id']}/confirm").json()["url"]
    assert api.get(url, HTTP_HOST=shop_a.host).status_code == 200
    assert api.get("/cart", HTTP_HOST=shop_a.host).status_code == 200  # a draft product's page is a 404

    with django_capture_on_commit_callbacks(execute=True):
        assert _platform(api, f"{shop_a.shop.slug}/suspend", shop_a.token(staff)).status_code == 200
    # Before: the storefront's pages and the shop's images were still served (200).
    for path in (url, "/", "/cart", "/products/mug", "/api/docs/"):
        body = assert_problem(api.get(path, HTTP_HOST=shop_a.host), 503)
        assert body["code"] == "shop_unavailable"
    # The merchant can still work on the catalogue, images included.
    assert admin.get(f"products/{product['id']}/images").status_code == 200
    second = admin.post(
        f"products/{product['id']}/images", {"filename": "b.png", "content_type": "image/png"}
    )
    assert local_put(api, second.json()["upload"], png_bytes(10, 10)).status_code == 204
