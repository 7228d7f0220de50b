"""Admin API bulk data: product CSV import (dry run, all or nothing, guards), exports, bulk edit."""

from __future__ import annotations

import csv
import hashlib
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billing.models import ShopUsage
from catalog import import_write
from catalog.models import Category, InventoryAdjustment, PriceChange, Product, ProductImport, Variant
from catalog.product_csv import COLUMNS
from tenants.audit.models import AuditEntry
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_shop
from tenants.storage import object_url
from tests.catalog.conftest import png_bytes
from tests.catalog.helpers import AdminClient, product_body
from tests.conftest import ShopContext, assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(api, shop_a: ShopContext, media_root) -> AdminClient:
    return AdminClient(api, shop_a)


@pytest.fixture
def run_now(eager_tasks, django_capture_on_commit_callbacks):
    """Jobs queued on commit run at once, in this process."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def csv_file(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns))
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode()


def upload(admin: AdminClient, data: bytes, *, dry_run: bool = False, name: str = "products.csv"):
    return admin.api.post(
        "/api/admin/v1/products/import",
        {"file": io.BytesIO(data), "dry_run": "true" if dry_run else "false"},
        format="multipart",
        **admin.headers,
    )


def imported(admin: AdminClient, run_now, data: bytes, *, dry_run: bool = False) -> dict[str, Any]:
    response = run_now(lambda: upload(admin, data, dry_run=dry_run))
    assert response.status_code == 202, response.content
    body = admin.get(f"imports/{response.json()['id']}").json()
    assert body["status"] in ("done", "failed"), body
    return body


SHIRT_ROWS = [
    {
        "Handle": "oxford-shirt",
        "Title": "Oxford Shirt",
        "Body (HTML)": "<p>Cotton.</p>",
        "Type": "Apparel > Shirts",
        "Option1 Name": "Size",
        "Option1 Value": "M",
        "Variant SKU": "OX-M",
        "Variant Price": "39.90",
        "Variant Compare At Price": "49.90",
        "Variant Inventory Qty": "10",
        "Status": "active",
    },
    {"Handle": "oxford-shirt", "Option1 Value": "L", "Variant SKU": "OX-L", "Variant Price": "42.00"},
    {
        "Handle": "mug",
        "Title": "Mug",
        "Variant SKU": "MUG",
        "Variant Price": "9.00",
        "Variant Inventory Qty": "3",
    },
]


def catalog_of(ctx: ShopContext, media: Path | None = None) -> list[dict[str, Any]]:
    """A shop's catalog as the CSV carries it, keyed by what a merchant sees (no ids); images by content."""
    use_shop(ctx.shop)
    categories = {c.pk: c for c in Category.objects.all()}
    products = []
    for product in Product.objects.order_by("slug").prefetch_related("variants", "images"):
        path: list[str] = []
        node = product.category
        while node is not None:
            path.insert(0, node.name)
            node = categories.get(node.parent_id) if node.parent_id else None
        products.append(
            {
                "slug": product.slug,
                "title": product.title,
                "description": product.description,
                "status": product.status,
                "category": path,
                "attributes": product.attributes,
                "vendor": product.vendor,
                "tags": product.tags,
                "images": [
                    (
                        hashlib.sha256((media / image.key).read_bytes()).hexdigest() if media else image.key,
                        image.alt,
                        image.position,
                        image.status,
                    )
                    for image in product.images.order_by("position")
                ],
                "variants": sorted(
                    (v.sku, v.title, v.options, v.price, v.compare_at_price, v.stock)
                    for v in product.variants.all()
                ),
            }
        )
    return products


# --- Import -------------------------------------------------------------------------


def test_import_creates_products_with_variants_categories_ledger_and_events(admin, shop_a, run_now) -> None:
    body = imported(admin, run_now, csv_file(SHIRT_ROWS))
    assert body["status"] == "done" and body["errors"] == []
    assert (body["products_created"], body["variants_created"]) == (2, 3)
    assert body["progress"] == {"phase": "done", "done": 3, "total": 3, "percent": 100}
    use_shop(shop_a.shop)
    shirt = Product.objects.get(slug="oxford-shirt")
    assert shirt.status == "active" and shirt.description == "<p>Cotton.</p>"
    assert shirt.category is not None and shirt.category.name == "Shirts"
    assert shirt.category.parent is not None and shirt.category.parent.name == "Apparel"
    m = Variant.objects.get(sku="OX-M")
    assert (m.options, m.price, m.compare_at_price, m.stock) == (
        {"Size": "M"},
        Decimal("39.9"),
        Decimal("49.9"),
        10,
    )
    assert Product.objects.get(slug="mug").status == "draft"  # no Status: a draft, not for sale yet
    assert InventoryAdjustment.objects.filter(reason="initial").count() == 2
    # Each product's prices go to the price history's worker too (one event per product).
    events = set(OutboxEvent.objects.values_list("type", flat=True))
    assert events == {"product.created", "variant.price_changed"}
    assert AuditEntry.objects.filter(action="products.imported").count() == 1
    assert ShopUsage.objects.get(shop_id=shop_a.shop.pk).products == 2  # the plan's slots, taken once


def test_import_updates_by_handle_and_sku_through_the_ledger(admin, shop_a, run_now) -> None:
    imported(admin, run_now, csv_file(SHIRT_ROWS))
    changed = [
        {
            "Handle": "oxford-shirt",
            "Title": "Oxford Shirt II",
            "Variant SKU": "OX-M",
            "Variant Price": "35.00",
            "Variant Inventory Qty": "4",
        },
        {
            "Handle": "oxford-shirt",
            "Option1 Name": "Size",
            "Option1 Value": "XL",
            "Variant SKU": "OX-XL",
            "Variant Price": "44.00",
        },
    ]
    body = imported(admin, run_now, csv_file(changed))
    assert body["status"] == "done", body["errors"]
    assert (body["products_updated"], body["variants_updated"], body["variants_created"]) == (1, 1, 1)
    use_shop(shop_a.shop)
    m = Variant.objects.get(sku="OX-M")
    assert (m.price, m.stock, m.product.title) == (Decimal("35"), 4, "Oxford Shirt II")
    assert m.compare_at_price == Decimal("49.9")  # left blank: left as it was
    assert InventoryAdjustment.objects.filter(variant=m).order_by("id").last().delta == -6
    assert PriceChange.objects.filter(variant=m).count() == 2
    assert Variant.objects.filter(product__slug="oxford-shirt").count() == 3


def test_dry_run_reports_every_row_error_and_writes_nothing(admin, shop_a, run_now) -> None:
    rows = [
        {"Handle": "a", "Title": "A", "Variant SKU": "A-1", "Variant Price": "1e400"},
        {"Handle": "b", "Title": "B", "Variant SKU": "B-1", "Variant Price": "12.345"},
        {
            "Handle": "c",
            "Title": "C",
            "Variant SKU": "C-1",
            "Variant Price": "1",
            "Variant Inventory Qty": "99999999999",
        },
        {"Handle": "d", "Title": "D", "Variant SKU": "", "Variant Price": "1"},
        {"Handle": "e", "Title": "E", "Variant SKU": "A-1", "Variant Price": "1"},
        {"Handle": "f", "Title": "F", "Variant SKU": "F-1", "Variant Price": "1", "Status": "published"},
        {"Handle": "no good!", "Title": "G", "Variant SKU": "G-1", "Variant Price": "1"},
        {"Handle": "h", "Variant SKU": "H-1", "Variant Price": "1"},
        {"Handle": "i", "Title": "I", "Variant SKU": "I-1", "Variant Price": "NaN"},
        {"Handle": "j", "Title": "J", "Variant SKU": "J-1", "Variant Price": "1", "Attributes (JSON)": "[1]"},
        {"Handle": "ok", "Title": "Fine", "Variant SKU": "OK-1", "Variant Price": "1"},
    ]
    body = imported(admin, run_now, csv_file(rows), dry_run=True)
    assert body["status"] == "failed"
    by_line = {(e["line"], e["column"]) for e in body["errors"]}
    assert by_line == {
        (2, "Variant Price"),
        (3, "Variant Price"),
        (4, "Variant Inventory Qty"),
        (5, "Variant SKU"),
        (6, "Variant SKU"),
        (7, "Status"),
        (8, "Handle"),
        (9, "Title"),
        (10, "Variant Price"),
        (11, "Attributes (JSON)"),
    }
    assert body["products_created"] == 0
    use_shop(shop_a.shop)
    assert Product.objects.count() == 0 and Category.objects.count() == 0


def test_dry_run_of_a_good_file_counts_what_it_would_do_and_writes_nothing(admin, shop_a, run_now) -> None:
    body = imported(admin, run_now, csv_file(SHIRT_ROWS), dry_run=True)
    assert body["status"] == "done" and body["dry_run"] is True
    assert (body["products_created"], body["variants_created"]) == (2, 3)
    use_shop(shop_a.shop)
    assert Product.objects.count() == 0 and Category.objects.count() == 0 and OutboxEvent.objects.count() == 0


def test_an_import_refused_while_writing_leaves_nothing_behind(admin, shop_a, run_now, monkeypatch) -> None:
    from catalog.errors import SkuTaken

    calls = {"n": 0}
    real = import_write.attributes_check

    def second_fails(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # the second product of the file, the mug
            raise SkuTaken("Taken meanwhile.", errors={"sku": ["'MUG' is in use."]})
        return real(*args)

    monkeypatch.setattr(import_write, "attributes_check", second_fails)
    body = imported(admin, run_now, csv_file(SHIRT_ROWS))
    assert body["status"] == "failed"
    assert body["errors"] == [{"line": 4, "column": None, "message": "sku: 'MUG' is in use."}]
    assert body["products_created"] == 0
    use_shop(shop_a.shop)
    assert Product.objects.count() == 0 and Category.objects.count() == 0
    assert not AuditEntry.objects.exists() and not OutboxEvent.objects.exists()
    assert ShopUsage.objects.get(shop_id=shop_a.shop.pk).products == 0  # given back with the rollback


def test_import_respects_the_plan_product_limit(admin, shop_a, run_now) -> None:
    rows = [
        {"Handle": f"p{i}", "Title": f"P{i}", "Variant SKU": f"S{i}", "Variant Price": "1"}
        for i in range(101)
    ]
    body = imported(admin, run_now, csv_file(rows))
    assert body["status"] == "failed"
    assert body["errors"][0]["column"] == "Handle" and "101 new products" in body["errors"][0]["message"]
    use_shop(shop_a.shop)
    assert Product.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"Handle,Title\r\nx,\x00bad\r\n", 400),  # NUL
        (b"Handle,Title\r\nx,\xed\xa0\x80\r\n", 400),  # a lone surrogate's UTF-8 bytes
        (b"Handle,Title\r\nx,\xff\r\n", 400),  # not UTF-8
        (b"Title,Price\r\nx,1\r\n", 400),  # no Handle column
        (b"", 400),  # empty
        (b'Handle,Title\r\nx,"unclosed\r\n', 400),
    ],
)
def test_unreadable_files_are_refused_at_once_and_nothing_is_stored(admin, shop_a, data, status) -> None:
    body = assert_problem(upload(admin, data), status)
    assert body["code"] == "csv_invalid"
    use_shop(shop_a.shop)
    assert not ProductImport.objects.exists()


def test_too_large_files_are_refused(admin, shop_a, settings) -> None:
    settings.PRODUCT_IMPORT_MAX_ROWS = 2
    body = assert_problem(upload(admin, csv_file(SHIRT_ROWS)), 413)
    assert body["code"] == "csv_too_large"
    settings.PRODUCT_IMPORT_MAX_BYTES = 100
    assert assert_problem(upload(admin, csv_file(SHIRT_ROWS)), 413)["code"] == "csv_too_large"
    use_shop(shop_a.shop)
    assert not ProductImport.objects.exists()


def test_an_import_with_an_idempotency_key_is_replayed_not_queued_twice(admin, shop_a) -> None:
    data = csv_file(SHIRT_ROWS)

    def send(body: bytes):
        return admin.api.post(
            "/api/admin/v1/products/import",
            {"file": io.BytesIO(body), "dry_run": "true"},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="import-once",
            **admin.headers,
        )

    first, again = send(data), send(data)
    assert first.status_code == again.status_code == 202
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert_problem(send(data + b"other,row\r\n"), 422)  # the same key with another file
    use_shop(shop_a.shop)
    assert ProductImport.objects.count() == 1


def test_import_bad_requests(admin: AdminClient) -> None:
    assert_problem(admin.post("products/import", {"file": "x"}), 415)  # JSON, not multipart
    no_file = admin.api.post(
        "/api/admin/v1/products/import", {"dry_run": "true"}, format="multipart", **admin.headers
    )
    assert assert_problem(no_file, 400)["code"] == "validation_failed"
    assert_problem(admin.get("imports/not-a-uuid"), 404)
    assert_problem(admin.get("imports/00000000-0000-0000-0000-000000000000"), 404)
    assert admin.api.options("/api/admin/v1/products/import", **admin.headers).status_code == 200


def test_imports_and_exports_stay_in_their_shop(api, admin, shop_b, run_now) -> None:
    job = run_now(lambda: upload(admin, csv_file(SHIRT_ROWS), dry_run=True)).json()
    export = run_now(lambda: admin.post("products/export")).json()
    other = AdminClient(api, shop_b)
    assert_problem(other.get(f"imports/{job['id']}"), 404)
    assert_problem(other.get(f"product-exports/{export['id']}"), 404)
    # Shop A's token on shop B's host is refused outright.
    cross = AdminClient(api, shop_b, authorization=f"Bearer {admin.ctx.token()}")
    assert_problem(cross.get(f"imports/{job['id']}"), 403)
    assert_problem(upload(cross, csv_file(SHIRT_ROWS)), 403)


def test_import_needs_catalog_write(api, admin) -> None:
    key = admin.post("api-keys", {"name": "reader", "scopes": ["catalog:read"]}).json()["key"]
    reader = AdminClient(api, admin.ctx, authorization=f"Api-Key {key}")
    assert_problem(upload(reader, csv_file(SHIRT_ROWS)), 403)
    assert reader.post("products/export").status_code == 202


# --- Export and round trip ------------------------------------------------------------


def exported_csv(admin: AdminClient, run_now) -> bytes:
    export = run_now(lambda: admin.post("products/export"))
    assert export.status_code == 202, export.content
    body = admin.get(f"product-exports/{export.json()['id']}").json()
    assert body["status"] == "done" and body["progress"]["percent"] == 100, body
    download = admin.api.get(body["download_url"], HTTP_HOST=admin.ctx.host)
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    return b"".join(download.streaming_content)


def test_round_trip_export_then_import_into_another_shop_gives_the_same_catalog(
    api, admin, shop_a, shop_b, run_now, image_server, media_root, settings
) -> None:
    # The export's image URLs are where shop A's images are served: the test server, here.
    image_server.folder = media_root
    settings.MEDIA_URL = image_server.url("/media/")
    image_server.files["/one.png"] = (200, "image/png", png_bytes(colour="green"))
    image_server.files["/two.png"] = (200, "image/png", png_bytes((3, 9), colour="white"))
    shirt_rows = [
        {
            **SHIRT_ROWS[0],
            "Vendor": "Acme, Ltd",
            "Tags": "cotton, =sale",
            "Image Src": image_server.url("/one.png"),
            "Image Alt Text": "Front",
        },
        SHIRT_ROWS[1],
        {"Handle": "oxford-shirt", "Image Src": image_server.url("/two.png"), "Image Alt Text": "Back"},
        SHIRT_ROWS[2],
    ]
    admin.post(
        "categories",
        {
            "name": "Home",
            "attribute_schema": {"type": "object", "properties": {"material": {"type": "string"}}},
        },
    )
    assert imported(admin, run_now, csv_file(shirt_rows))["status"] == "done"
    use_shop(shop_a.shop)
    home = Category.objects.get(name="Home").pk
    admin.post(
        "products",
        product_body(
            '=HYPERLINK("http://evil")',
            category=home,
            attributes={"material": "oak"},
            description='Line one,\n"quoted"',
            variants=[
                {
                    "sku": "-SKU",
                    "price": "0.50",
                    "stock": 0,
                    "options": {"Colour": "Red", "Size": "S"},
                    "title": "+Red",
                }
            ],
        ),
    )
    data = exported_csv(admin, run_now)
    text = data.decode()
    assert "'=HYPERLINK" in text and "'-SKU" in text and "'+Red" in text  # no cell starts a formula
    other = AdminClient(api, shop_b)
    # Shop B has a category named like A's, without its schema: the import finds it by name.
    image_server.requests.clear()
    body = imported(other, run_now, data)
    assert body["status"] == "done", body["errors"]
    assert len(image_server.requests) == 2 and all(p.startswith("/media/") for p in image_server.requests)
    a, b = catalog_of(shop_a, media_root), catalog_of(shop_b, media_root)
    assert b == a
    shirt = next(product for product in a if product["slug"] == "oxford-shirt")
    assert shirt["vendor"] == "Acme, Ltd" and shirt["tags"] == ["cotton", "=sale"]
    assert [(alt, position) for _, alt, position, _ in shirt["images"]] == [("Front", 0), ("Back", 1)]


def test_order_export_with_date_filters(admin, shop_a, shop_b, api, run_now) -> None:
    from tests.orders.helpers import cart_with, checkout, sellable_product

    product = sellable_product(admin)
    order = checkout(api, shop_a, cart_with(api, shop_a, product["variants"][0]["id"], 2))
    assert order.status_code == 201, order.content
    assert_problem(admin.post("orders/export", {"from": "2026-02-01", "to": "2026-01-01"}), 400)
    assert_problem(admin.post("orders/export", {"from": "yesterday"}), 400)
    assert_problem(admin.post("orders/export", {"from": "2026-01-01\x00"}), 400)
    empty = run_now(lambda: admin.post("orders/export", {"to": "2000-01-01"})).json()
    assert admin.get(f"order-exports/{empty['id']}").json()["rows_total"] == 0
    export = run_now(lambda: admin.post("orders/export", {"from": "2000-01-01"})).json()
    body = admin.get(f"order-exports/{export['id']}").json()
    assert body["status"] == "done" and body["filters"] == {"from": "2000-01-01"}
    download = admin.api.get(body["download_url"], HTTP_HOST=admin.ctx.host)
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [(r["Name"], r["Lineitem quantity"], r["Email"]) for r in rows] == [
        (f"#{order.json()['number']}", "2", "ada@example.com")
    ]
    # A product export's id is not an order export's; another shop has neither.
    assert_problem(admin.get(f"product-exports/{export['id']}"), 404)
    assert_problem(AdminClient(api, shop_b).get(f"order-exports/{export['id']}"), 404)
    key = admin.post("api-keys", {"name": "catalog", "scopes": ["catalog:read"]}).json()["key"]
    assert_problem(AdminClient(api, shop_a, authorization=f"Api-Key {key}").post("orders/export", {}), 403)


# --- Bulk edit ------------------------------------------------------------------------


def test_bulk_edit_status_price_and_stock_in_one_audited_transaction(admin, shop_a) -> None:
    first = admin.post("products", product_body("First")).json()
    second = admin.post("products", product_body("Second")).json()
    use_shop(shop_a.shop)
    events_before = OutboxEvent.objects.count()
    response = admin.post(
        "products/bulk-edit",
        {
            "products": [first["id"], second["id"]],
            "status": "archived",
            "price_change_percent": "-10",
            "stock": 3,
        },
    )
    assert response.status_code == 200, response.content
    use_shop(shop_a.shop)
    assert set(Product.objects.values_list("status", flat=True)) == {"archived"}
    assert sorted(Variant.objects.values_list("price", flat=True)) == [
        Decimal("35.91"),
        Decimal("35.91"),
        Decimal("37.8"),
        Decimal("37.8"),
    ]
    assert set(Variant.objects.values_list("stock", flat=True)) == {3}
    assert InventoryAdjustment.objects.filter(reason="correction").count() == 4
    assert AuditEntry.objects.filter(action="variant.updated").count() == 4
    assert AuditEntry.objects.filter(action="product.updated").count() == 2
    assert OutboxEvent.objects.count() > events_before


def test_bulk_edit_refusals_change_nothing(api, admin, shop_a, shop_b) -> None:
    product = admin.post("products", product_body()).json()
    theirs = AdminClient(api, shop_b).post("products", product_body("Theirs")).json()
    for body in (
        {"products": [product["id"], theirs["id"] + 1000], "status": "archived"},  # one not in this shop
        {"products": [], "status": "archived"},
        {"products": [product["id"]]},  # nothing to change
        {"products": [product["id"]], "price": "1.00", "price_change_percent": "5"},
        {"products": [product["id"]], "stock": 1, "stock_delta": 1},
        {"products": [product["id"]], "price": "1e400"},
        {"products": [product["id"]], "price": 10},
        {"products": [product["id"]], "stock_delta": -11},  # below zero for one variant
        {"products": [2**70], "status": "archived"},
        {"products": [product["id"]], "status": "gone"},
        {"products": "1", "status": "archived"},
    ):
        response = admin.post("products/bulk-edit", body)
        assert 400 <= response.status_code < 500, (body, response.content)
    # Ids are per shop: shop A's second product has no namesake in shop B, which refuses it.
    second = admin.post(
        "products", product_body("Second", variants=[{"sku": "SECOND", "price": "1.00"}])
    ).json()
    cross = AdminClient(api, shop_b)
    assert_problem(cross.post("products/bulk-edit", {"products": [second["id"]], "status": "archived"}), 400)
    use_shop(shop_a.shop)
    assert set(Product.objects.values_list("status", flat=True)) == {"active"}
    assert sorted(Variant.objects.values_list("stock", flat=True)) == [0, 0, 10]
    assert not AuditEntry.objects.exclude(action__in=["product.created", "api_key.created"]).exists()


# --- Vendor, tags and images ------------------------------------------------------------


def stored_objects(root) -> list[str]:
    return sorted(
        str(path.relative_to(root)) for path in root.rglob("*") if path.is_file() and "products" in path.parts
    )


def test_import_reads_vendor_tags_and_downloads_images_through_the_upload_path(
    api, admin, shop_a, run_now, image_server, media_root, settings
) -> None:
    red, blue = png_bytes(colour="red"), png_bytes((12, 6), colour="blue")
    image_server.files["/red.png"] = (200, "image/png", red)
    image_server.files["/blue.png"] = (200, "image/png", blue)
    rows = [
        {
            **SHIRT_ROWS[0],
            "Vendor": "Acme Mills",
            "Tags": "cotton, summer ,cotton,,sale",
            "Image Src": image_server.url("/blue.png"),
            "Image Position": "2",
            "Image Alt Text": "Blue back",
        },
        {
            **SHIRT_ROWS[1],
            "Image Src": image_server.url("/red.png"),
            "Image Position": "1",
            "Image Alt Text": "Red",
        },
        {"Handle": "oxford-shirt", "Image Src": image_server.url("/red.png")},  # the same URL: one image
        SHIRT_ROWS[2],
    ]
    body = imported(admin, run_now, csv_file(rows))
    assert body["status"] == "done", body["errors"]
    assert sorted(image_server.requests) == ["/blue.png", "/red.png"]  # each URL downloaded once
    use_shop(shop_a.shop)
    shirt = Product.objects.get(slug="oxford-shirt")
    assert shirt.vendor == "Acme Mills" and shirt.tags == ["cotton", "summer", "sale"]
    images = list(shirt.images.order_by("position"))
    assert [(i.alt, i.position, i.status, i.content_type) for i in images] == [
        ("Red", 0, "ready", "image/png"),
        ("Blue back", 1, "ready", "image/png"),
    ]
    assert (media_root / images[0].key).read_bytes() == red
    assert all(image.thumbnail_key and (media_root / image.thumbnail_key).is_file() for image in images)
    assert AuditEntry.objects.filter(action="product.image_added", object_id=shirt.pk).count() == 2
    assert ShopUsage.objects.get(shop_id=shop_a.shop.pk).storage_bytes == len(red) + len(blue)
    # The Admin API filters by tag and vendor, and shows both; so does the storefront.
    assert [p["slug"] for p in admin.get("products?tag=summer").json()["results"]] == ["oxford-shirt"]
    assert admin.get("products?tag=summe").json()["results"] == []
    assert [p["slug"] for p in admin.get("products?vendor=Acme%20Mills").json()["results"]] == [
        "oxford-shirt"
    ]
    shown = api.get("/api/storefront/v1/products/oxford-shirt", HTTP_HOST=shop_a.host).json()
    assert shown["vendor"] == "Acme Mills" and shown["tags"] == ["cotton", "summer", "sale"]
    # Imported again (an export of it, say): its own images are not downloaded and added twice.
    settings.MEDIA_URL = image_server.url("/media/")
    image_server.requests.clear()
    again = [{**rows[0], "Image Src": object_url(images[0].key)}]
    assert imported(admin, run_now, csv_file(again))["status"] == "done"
    assert image_server.requests == [] and shirt.images.count() == 2


def test_a_dry_run_checks_image_urls_by_their_form_only(admin, shop_a, run_now, image_server) -> None:
    image_server.files["/ok.png"] = (200, "image/png", png_bytes())
    rows = [
        {**SHIRT_ROWS[0], "Image Src": "ftp://example.com/a.png"},
        {**SHIRT_ROWS[1], "Image Src": "not a url"},
        {**SHIRT_ROWS[2], "Image Src": image_server.url("/ok.png"), "Image Position": "first"},
        {"Handle": "vase", "Title": "Vase", "Variant SKU": "V", "Variant Price": "3", "Tags": "x" * 65},
        {
            "Handle": "cup",
            "Title": "Cup",
            "Variant SKU": "C",
            "Variant Price": "3",
            "Image Src": image_server.url("/ok.png"),
        },
    ]
    body = imported(admin, run_now, csv_file(rows), dry_run=True)
    assert body["status"] == "failed"
    assert [(e["line"], e["column"]) for e in body["errors"]] == [
        (2, "Image Src"),
        (3, "Image Src"),
        (4, "Image Position"),
        (5, "Tags"),
    ]
    assert image_server.requests == []  # nothing downloaded by a dry run
    good = imported(admin, run_now, csv_file([rows[4]]), dry_run=True)
    assert good["status"] == "done" and image_server.requests == []
    use_shop(shop_a.shop)
    assert not Product.objects.exists()


def _failed_import(admin, run_now, media_root, shop_a, src: str) -> dict[str, Any]:
    rows = [
        {**SHIRT_ROWS[2], "Vendor": "V", "Tags": "t"},
        {"Handle": "vase", "Title": "Vase", "Variant SKU": "VASE", "Variant Price": "3", "Image Src": src},
    ]
    body = imported(admin, run_now, csv_file(rows))
    assert body["status"] == "failed" and body["products_created"] == 0
    assert [(e["line"], e["column"]) for e in body["errors"]] == [(3, "Image Src")], body["errors"]
    use_shop(shop_a.shop)
    assert not Product.objects.exists() and not OutboxEvent.objects.exists()
    assert stored_objects(media_root) == []
    assert ShopUsage.objects.get(shop_id=shop_a.shop.pk).storage_bytes == 0
    return body


def test_a_private_address_is_refused_before_connecting(
    admin, shop_a, run_now, image_server, media_root, settings
) -> None:
    image_server.files["/a.png"] = (200, "image/png", png_bytes())
    settings.IMAGE_IMPORT_ALLOW_PRIVATE_URLS = False  # the default
    body = _failed_import(admin, run_now, media_root, shop_a, image_server.url("/a.png"))
    assert "loopback" in body["errors"][0]["message"]
    body = _failed_import(admin, run_now, media_root, shop_a, "http://localhost/a.png")
    assert "localhost" in body["errors"][0]["message"]
    # Link-local (cloud metadata) stays refused even with the switch on.
    settings.IMAGE_IMPORT_ALLOW_PRIVATE_URLS = True
    body = _failed_import(admin, run_now, media_root, shop_a, "http://169.254.169.254/latest/meta-data")
    assert "link-local" in body["errors"][0]["message"]
    assert image_server.requests == []


@pytest.mark.parametrize(
    ("served", "message"),
    [
        ((404, "text/plain", b"gone"), "answered 404"),
        ((302, "image/png", b""), "answered 302"),
        ((200, "text/html", b"<html>not an image</html>"), "Not an accepted image"),
        ((200, "image/jpeg", png_bytes()), "its bytes are image/png"),
        ((200, "image/png", b""), "empty"),
        ((200, "image/png", png_bytes((200, 200)) + b"\0" * 4000), "Larger than images may be"),
    ],
)
def test_a_failed_download_fails_the_whole_file(
    admin, shop_a, run_now, image_server, media_root, settings, served, message
) -> None:
    settings.IMAGE_MAX_BYTES = 4000
    image_server.files["/a.png"] = served
    body = _failed_import(admin, run_now, media_root, shop_a, image_server.url("/a.png"))
    assert message in body["errors"][0]["message"]


def test_an_image_refused_while_writing_removes_the_images_already_stored(
    admin, shop_a, run_now, image_server, media_root, monkeypatch
) -> None:
    from catalog.errors import ImageRefused

    image_server.files["/a.png"] = (200, "image/png", png_bytes())
    image_server.files["/b.png"] = (200, "image/png", png_bytes(colour="blue"))
    real = import_write.image_import
    calls = {"n": 0}

    def second_refused(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ImageRefused("Changed its mind.")
        return real(**kwargs)

    monkeypatch.setattr(import_write, "image_import", second_refused)
    rows = [
        {**SHIRT_ROWS[2], "Image Src": image_server.url("/a.png")},
        {
            "Handle": "vase",
            "Title": "Vase",
            "Variant SKU": "VASE",
            "Variant Price": "3",
            "Image Src": image_server.url("/b.png"),
        },
    ]
    body = imported(admin, run_now, csv_file(rows))
    assert body["status"] == "failed" and body["errors"][0]["line"] == 3
    use_shop(shop_a.shop)
    assert not Product.objects.exists() and stored_objects(media_root) == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"tags": ["a,b"]}',
        b'{"tags": ["nul\\u0000"]}',
        b'{"tags": ["lone \\ud800"]}',
        b'{"tags": ["' + b"x" * 65 + b'"]}',
        b'{"tags": [' + b",".join(b'"t%d"' % i for i in range(51)) + b"]}",
        b'{"tags": "sale"}',
        b'{"tags": [1]}',
        b'{"tags": null}',
        b'{"vendor": "' + b"v" * 256 + b'"}',
        b'{"vendor": "nul\\u0000"}',
        b'{"vendor": "\\udfff"}',
        b'{"vendor": 12}',
    ],
)
def test_bad_tags_and_vendors_are_refused_and_change_nothing(api, admin, shop_a, raw) -> None:
    created = admin.post("products", product_body(vendor="Acme", tags=["sale"]))
    assert created.status_code == 201 and created.json()["tags"] == ["sale"]
    path = f"/api/admin/v1/products/{created.json()['id']}"
    response = api.generic("PATCH", path, raw, content_type="application/json", **admin.headers)
    assert_problem(response, 400)
    assert_problem(admin.get("products?tag=" + "x" * 65), 400)
    assert_problem(admin.get("products?vendor=%00"), 400)
    shown = api.get(path, **admin.headers).json()
    assert shown["tags"] == ["sale"] and shown["vendor"] == "Acme"


def test_tags_and_vendor_are_edited_through_the_admin_api_and_stay_in_their_shop(api, admin, shop_b) -> None:
    product_id = admin.post("products", product_body()).json()["id"]
    changed = admin.patch(f"products/{product_id}", {"tags": [" new ", "new", "Sale"], "vendor": "Ikea"})
    assert changed.status_code == 200
    assert changed.json()["tags"] == ["new", "Sale"] and changed.json()["vendor"] == "Ikea"
    other = AdminClient(api, shop_b)
    assert other.get("products?tag=new").json()["results"] == []
    assert_problem(other.patch(f"products/{product_id}", {"tags": ["x"]}), 404)
    use_shop(admin.ctx.shop)
    entry = AuditEntry.objects.filter(action="product.updated", object_id=product_id).latest("id")
    assert entry.after["tags"] == ["new", "Sale"] and entry.before["tags"] == []
