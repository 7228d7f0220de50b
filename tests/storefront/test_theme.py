"""The theme and content pages: edited by the Admin API, shown by the Storefront API; bad input, isolation."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from rest_framework.test import APIClient

from catalog.storefront.models import ContentPage, Theme
from catalog.storefront.services import contrast_ratio
from tenants.audit.models import AuditEntry
from tenants.schemas import use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem, bearer

pytestmark = pytest.mark.django_db


def png_bytes(width: int = 2400, height: int = 900) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (31, 95, 191)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def admin(api: APIClient, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


def storefront_get(api: APIClient, ctx: ShopContext, path: str) -> Any:
    return api.get(f"/api/storefront/v1/{path}", HTTP_HOST=ctx.host)


def put_image(
    api: APIClient, ctx: ShopContext, slot: str, data: bytes, content_type: str = "image/png"
) -> Any:
    return api.generic(
        "PUT",
        f"/api/admin/v1/theme/images/{slot}",
        data,
        content_type=content_type,
        HTTP_HOST=ctx.host,
        **bearer(ctx.token()),
    )


def test_defaults_until_the_merchant_saves_a_theme(api: APIClient, shop_a: ShopContext) -> None:
    theme = storefront_get(api, shop_a, "theme").json()
    assert theme["brand_color"] == "#1f5fbf"
    assert theme["font"] == "system"
    assert theme["logo_url"] is None
    assert theme["hero"] == {"title": "", "text": "", "image": []}
    assert theme["pages"] == []


def test_the_merchant_brands_the_shop_and_shoppers_see_it(
    admin: AdminClient, api: APIClient, shop_a: ShopContext
) -> None:
    response = admin.patch(
        "theme",
        {
            "brand_color": "#7A1F5C",
            "accent_color": "#20323f",
            "font": "serif",
            "hero_title": "Teas from small gardens",
            "hero_text": "Picked by hand, shipped in a week.",
            "announcement": "Free shipping over €50",
            "payment_instructions": "IBAN DE89 3704 0044 0532 0130 00",
        },
    )
    assert response.status_code == 200, response.content
    theme = storefront_get(api, shop_a, "theme").json()
    assert theme["brand_color"] == "#7a1f5c"
    assert theme["font"] == "serif"
    assert theme["hero"]["title"] == "Teas from small gardens"
    assert theme["announcement"] == "Free shipping over €50"
    assert theme["payment_instructions"].startswith("IBAN")
    use_shop(shop_a.shop)
    assert AuditEntry.objects.filter(action="theme.updated").count() == 1


def test_colours_white_text_cannot_be_read_on_are_refused(admin: AdminClient) -> None:
    body = assert_problem(admin.patch("theme", {"brand_color": "#ffd700", "accent_color": "#000000"}), 400)
    assert body["code"] == "theme_invalid"
    assert "brand_color" in body["errors"] and "accent_color" not in body["errors"]
    assert admin.get("theme").json()["accent_color"] == "#1d2330"  # nothing changed
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21)
    assert contrast_ratio("#1f5fbf", "#ffffff") >= 4.5


@pytest.mark.parametrize(
    "body",
    [
        {"brand_color": "blue"},
        {"brand_color": "#12345"},
        {"brand_color": 123456},
        {"font": "comic-sans"},
        {"hero_title": "x" * 121},
        {"hero_title": 42},
        {"announcement": ["a"]},
        {"payment_instructions": "x" * 1001},
    ],
)
def test_bad_theme_input_is_a_problem_and_changes_nothing(admin: AdminClient, body: dict[str, Any]) -> None:
    assert_problem(admin.patch("theme", body), 400)
    assert admin.get("theme").json()["brand_color"] == "#1f5fbf"


def test_nul_bytes_and_lone_surrogates_are_refused(
    admin: AdminClient, api: APIClient, shop_a: ShopContext
) -> None:
    for raw in (b'{"hero_title": "a\\u0000b"}', b'{"hero_title": "a\\ud800b"}', b'{"hero_title": '):
        response = api.generic(
            "PATCH", "/api/admin/v1/theme", raw, content_type="application/json", **admin.headers
        )
        assert_problem(response, 400)
    assert admin.get("theme").json()["hero"]["title"] == ""


def test_logo_and_hero_images_are_stored_as_webp_at_their_sizes(
    api: APIClient, shop_a: ShopContext, media_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    response = put_image(api, shop_a, "logo", png_bytes(1200, 400))
    assert response.status_code == 200, response.content
    logo_url = response.json()["logo_url"]
    assert logo_url.endswith(".webp") and f"tenants/{shop_a.shop.schema_name}/theme/logo-" in logo_url
    response = put_image(api, shop_a, "hero", png_bytes())
    assert response.status_code == 200, response.content
    sizes = response.json()["hero"]["image"]
    assert [size["width"] for size in sizes] == [640, 1280, 1920]
    stored = sorted(media_root.rglob("*.webp"))
    assert len(stored) == 4
    widths = sorted(Image.open(path).width for path in stored if "hero-" in path.name)
    assert widths == [640, 1280, 1920]
    with Image.open(next(path for path in stored if "logo-" in path.name)) as logo:
        assert logo.size == (600, 200)

    # A new logo replaces the old file; removing the hero removes its files.
    with django_capture_on_commit_callbacks(execute=True):
        put_image(api, shop_a, "logo", png_bytes(300, 100))
        response = api.delete(
            "/api/admin/v1/theme/images/hero", HTTP_HOST=shop_a.host, **bearer(shop_a.token())
        )
    assert response.status_code == 204
    assert storefront_get(api, shop_a, "theme").json()["hero"]["image"] == []
    assert [path.name.split("-")[0] for path in media_root.rglob("*.webp")] == ["logo"]


def test_what_is_not_an_image_is_refused_and_changes_nothing(
    api: APIClient, shop_a: ShopContext, media_root: Path
) -> None:
    body = assert_problem(put_image(api, shop_a, "logo", b"\x89PNG\r\n\x1a\nnot really"), 400)
    assert body["code"] == "theme_image_refused"
    assert_problem(put_image(api, shop_a, "logo", b"{}", content_type="application/json"), 415)
    assert_problem(put_image(api, shop_a, "logo", b"", content_type="image/png"), 400)
    assert_problem(put_image(api, shop_a, "banner", png_bytes(10, 10)), 400)
    assert storefront_get(api, shop_a, "theme").json()["logo_url"] is None
    assert not list(media_root.rglob("*.webp"))


def test_content_pages_are_written_shown_listed_and_removed(
    admin: AdminClient, api: APIClient, shop_a: ShopContext
) -> None:
    response = api.put(
        "/api/admin/v1/pages/returns",
        {"title": "Returns", "body": "Send it back within 30 days.\n\nWe refund in a week."},
        format="json",
        **admin.headers,
    )
    assert response.status_code == 200, response.content
    page = storefront_get(api, shop_a, "pages/returns").json()
    assert page["title"] == "Returns" and page["body"].startswith("Send it back")
    assert storefront_get(api, shop_a, "theme").json()["pages"] == [{"kind": "returns", "title": "Returns"}]
    assert [p["kind"] for p in admin.get("pages").json()] == ["returns"]
    # Writing it again replaces it.
    api.put(
        "/api/admin/v1/pages/returns",
        {"title": "Returns policy", "body": "30 days."},
        format="json",
        **admin.headers,
    )
    assert storefront_get(api, shop_a, "pages/returns").json()["title"] == "Returns policy"
    assert admin.delete("pages/returns").status_code == 204
    assert_problem(storefront_get(api, shop_a, "pages/returns"), 404)
    assert_problem(admin.delete("pages/returns"), 404)


def test_bad_page_input_is_a_problem(admin: AdminClient, api: APIClient, shop_a: ShopContext) -> None:
    assert_problem(storefront_get(api, shop_a, "pages/blog"), 404)
    assert_problem(
        api.put("/api/admin/v1/pages/blog", {"title": "x", "body": "y"}, format="json", **admin.headers), 404
    )
    for body in (
        {"title": "", "body": "y"},
        {"title": "x"},
        {"title": "x", "body": 5},
        {"title": "x", "body": "y" * 20001},
    ):
        assert_problem(api.put("/api/admin/v1/pages/about", body, format="json", **admin.headers), 400)
    use_shop(admin.ctx.shop)
    assert not ContentPage.objects.exists()


def test_methods_and_options(admin: AdminClient, api: APIClient, shop_a: ShopContext) -> None:
    assert_problem(api.post("/api/storefront/v1/theme", {}, format="json", HTTP_HOST=shop_a.host), 405)
    assert api.options("/api/storefront/v1/theme", HTTP_HOST=shop_a.host).status_code == 200
    assert api.options("/api/admin/v1/theme", **admin.headers).status_code == 200
    assert_problem(api.get("/api/admin/v1/theme", HTTP_HOST=shop_a.host), 401)


def test_each_shop_has_its_own_theme_and_pages(
    admin: AdminClient, api: APIClient, shop_a: ShopContext, shop_b: ShopContext
) -> None:
    admin.patch("theme", {"hero_title": "Alpha teas"})
    api.put(
        "/api/admin/v1/pages/about",
        {"title": "About Alpha", "body": "Alpha."},
        format="json",
        **admin.headers,
    )
    assert storefront_get(api, shop_b, "theme").json()["hero"]["title"] == ""
    assert_problem(storefront_get(api, shop_b, "pages/about"), 404)
    # Shop A's owner cannot edit shop B's theme.
    response = api.patch(
        "/api/admin/v1/theme",
        {"hero_title": "taken"},
        format="json",
        HTTP_HOST=shop_b.host,
        **bearer(shop_a.token()),
    )
    assert response.status_code in (401, 403)
    use_shop(shop_b.shop)
    assert not Theme.objects.exists()
