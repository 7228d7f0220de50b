"""
Server-side sorting of the admin's product and order lists (`?ordering=`): every
column both ways, page after page and back, ties broken by id, and cursors that
only continue the ordering they came from.
"""

from __future__ import annotations

import base64
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.utils import timezone

from catalog.models import Product
from orders.models import Customer, Order
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem

pytestmark = pytest.mark.django_db

PRODUCT_COLUMNS = ["title", "price", "stock", "updated_at", "created_at"]
ORDER_COLUMNS = ["number", "created_at", "total", "status"]


@pytest.fixture
def admin(api: Any, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


@pytest.fixture
def products(admin: AdminClient, shop_a: ShopContext) -> list[int]:
    """Seven products with ties in every column (two titles, prices, stocks and times alike)."""
    rows = [  # title, variant (price, stock) pairs, day created, day updated
        ("Delta", [("12.50", 3)], 3, 9),
        ("Alpha", [("40.00", 0), ("9.99", 4)], 1, 2),
        ("Charlie", [("12.50", 7)], 3, 2),
        ("Bravo", [("100.00", 0)], 5, 1),
        ("Bravo", [("7.00", 2), ("8.00", 5)], 2, 8),
        ("Echo", [("55.10", 10)], 4, 9),
        ("Foxtrot", [("12.50", 0), ("13.00", 0)], 6, 6),
    ]
    ids = []
    for position, (title, variants, _, _) in enumerate(rows):
        body = {
            "title": title,
            "variants": [
                {"sku": f"S{position}-{index}", "price": price, "stock": stock}
                for index, (price, stock) in enumerate(variants)
            ],
        }
        response = admin.post("products", body)
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    use_shop(shop_a.shop)
    for product_id, (_, _, created, updated) in zip(ids, rows, strict=True):
        Product.objects.filter(pk=product_id).update(created_at=_day(created), updated_at=_day(updated))
    use_public()
    return ids


def _day(day: int) -> datetime:
    return timezone.make_aware(datetime(2026, 11, day, 12, 0), timezone.get_fixed_timezone(0))


@pytest.fixture
def orders(shop_a: ShopContext) -> list[int]:
    """Seven orders with ties in status, total and time."""
    use_shop(shop_a.shop)
    customer = Customer.objects.create(email="ada@example.com", name="Ada")
    rows = [  # status, total, day placed
        ("paid", "19.90", 3),
        ("pending", "5.00", 1),
        ("paid", "250.00", 3),
        ("cancelled", "19.90", 2),
        ("fulfilled", "0.50", 5),
        ("paid", "19.90", 4),
        ("refunded", "42.00", 3),
    ]
    ids = []
    for status, total, day in rows:
        order = Order.objects.create(
            customer=customer,
            email="ada@example.com",
            currency="EUR",
            subtotal=Decimal(total),
            total=Decimal(total),
            status=status,
            shipping_address={"name": "Ada", "line1": "1 Road", "city": "Berlin"},
            payment_provider="test",
            token_hash="0" * 64,
        )
        Order.objects.filter(pk=order.pk).update(placed_at=_day(day))
        ids.append(order.pk)
    use_public()
    return ids


def _path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path.removeprefix('/api/admin/v1/')}?{parts.query}"


def _walk(admin: AdminClient, path: str) -> list[list[dict[str, Any]]]:
    """Every page from the first by `next`, then back to the first by `previous`: the same pages."""
    response = admin.get(path)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["previous"] is None
    pages = [body["results"]]
    while body["next"]:
        body = admin.get(_path_of(body["next"])).json()
        pages.append(body["results"])
    assert body["next"] is None and len(pages) > 2
    back = [body["results"]]
    while body["previous"]:
        body = admin.get(_path_of(body["previous"])).json()
        back.append(body["results"])
    assert back[::-1] == pages, "stepping back gives other pages"
    return pages


def _product_key(column: str, product: dict[str, Any]) -> Any:
    if column == "price":
        return min(Decimal(v["price"]["amount"]) for v in product["variants"])
    if column == "stock":
        return sum(v["stock"] for v in product["variants"])
    return product[column]


def _order_key(column: str, order: dict[str, Any]) -> Any:
    if column == "total":
        return Decimal(order["total"]["amount"] if isinstance(order["total"], dict) else order["total"])
    if column == "created_at":
        return order["placed_at"]
    return order[column]


@pytest.mark.parametrize("column", PRODUCT_COLUMNS)
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_products_sort_by_every_column_across_pages(
    admin: AdminClient, products: list[int], column: str, descending: bool
) -> None:
    ordering = f"-{column}" if descending else column
    pages = _walk(admin, f"products?ordering={ordering}&limit=2")
    seen = [product for page in pages for product in page]
    assert sorted(p["id"] for p in seen) == sorted(products)  # each once: no repeats, none skipped
    expected = sorted(seen, key=lambda p: (_product_key(column, p), p["id"]), reverse=descending)
    assert [p["id"] for p in seen] == [p["id"] for p in expected]


@pytest.mark.parametrize("column", ORDER_COLUMNS)
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_orders_sort_by_every_column_across_pages(
    admin: AdminClient, orders: list[int], column: str, descending: bool
) -> None:
    ordering = f"-{column}" if descending else column
    pages = _walk(admin, f"orders?ordering={ordering}&limit=2")
    seen = [order for page in pages for order in page]
    assert len(seen) == len(orders) and len({o["number"] for o in seen}) == len(orders)
    expected = sorted(seen, key=lambda o: (_order_key(column, o), o["number"]), reverse=descending)
    assert [o["number"] for o in seen] == [o["number"] for o in expected]


def test_default_orderings_are_newest_first(
    admin: AdminClient, products: list[int], orders: list[int]
) -> None:
    listed = admin.get("products").json()["results"]
    assert [p["id"] for p in listed] == [
        p["id"] for p in sorted(listed, key=lambda p: (p["created_at"], p["id"]), reverse=True)
    ]
    numbers = [o["number"] for o in admin.get("orders").json()["results"]]
    assert numbers == sorted(numbers, reverse=True)


def _cursor(tokens: dict[str, str]) -> str:
    return base64.b64encode(urlencode(tokens).encode()).decode()


@pytest.mark.parametrize(
    "query",
    [
        "ordering=bogus",
        "ordering=",
        "ordering=--title",
        "ordering=title%00",
        "ordering=%ED%A0%80",  # a lone surrogate, UTF-8 encoded
        "ordering=title&ordering=price",
        "ordering=id",  # a column, but not one offered
    ],
)
def test_a_bad_ordering_is_a_400_problem(admin: AdminClient, products: list[int], query: str) -> None:
    response = admin.get(f"products?{query}")
    if query == "ordering=title&ordering=price":  # two good values: the last wins, as Django reads them
        assert response.status_code == 200
        return
    body = assert_problem(response, 400)
    assert "ordering" in body["errors"]
    assert_problem(admin.get(f"orders?{query.replace('title', 'number')}"), 400)


def test_a_cursor_only_continues_its_own_ordering(
    admin: AdminClient, products: list[int], orders: list[int]
) -> None:
    following = admin.get("products?ordering=title&limit=2").json()["next"]
    cursor = parse_qs(urlsplit(following).query)["cursor"][0]
    assert admin.get(f"products?ordering=title&limit=2&cursor={cursor}").status_code == 200
    for other in ("-title", "price", "created_at"):
        body = assert_problem(admin.get(f"products?ordering={other}&cursor={cursor}"), 400)
        assert "another ordering" in body["errors"]["cursor"][0]
    # Nor across lists: a product cursor on the orders, an order cursor on the products.
    assert_problem(admin.get(f"orders?ordering=number&cursor={cursor}"), 400)
    order_next = admin.get("orders?limit=2").json()["next"]
    order_cursor = parse_qs(urlsplit(order_next).query)["cursor"][0]
    assert_problem(admin.get(f"products?cursor={order_cursor}"), 400)
    # Without `ordering`, the default one's cursors are those of `-created_at`.
    default_next = admin.get("products?limit=2").json()["next"]
    default_cursor = parse_qs(urlsplit(default_next).query)["cursor"][0]
    assert admin.get(f"products?ordering=-created_at&limit=2&cursor={default_cursor}").status_code == 200


@pytest.mark.parametrize(
    ("ordering", "tokens"),
    [
        ("price", {"k": "sort_price,id", "p": "1e999999", "i": "1"}),  # more digits than a price holds
        ("price", {"k": "sort_price,id", "p": "NaN", "i": "1"}),
        ("price", {"k": "sort_price,id", "p": "12.5", "i": "-1"}),
        ("price", {"k": "sort_price,id", "p": "12.5", "i": str(2**63)}),
        ("price", {"k": "sort_price,id", "p": "12.5"}),  # no id
        ("created_at", {"k": "created_at,id", "p": "not-a-date", "i": "1"}),
        ("created_at", {"k": "created_at,id", "p": "2026-13-45", "i": "1"}),
        ("title", {"k": "title,id", "p": "a\x00b", "i": "1"}),
        ("title", {"k": "title,id", "p": "x" * 300, "i": "1"}),  # longer than a title can be
        ("stock", {"k": "sort_stock,id", "p": str(2**70), "i": "1"}),
        ("title", {"p": "Alpha", "i": "1"}),  # names no ordering
        ("title", {"o": "1", "p": "Alpha"}),  # a cursor of another kind of list
    ],
)
def test_forged_cursors_are_400(
    admin: AdminClient, products: list[int], ordering: str, tokens: dict[str, str]
) -> None:
    body = assert_problem(admin.get(f"products?ordering={ordering}&cursor={_cursor(tokens)}"), 400)
    assert "cursor" in body["errors"]


@pytest.mark.parametrize("cursor", ["%%%", "YQ", "x" * 5000, "ZmFrZQ=="])
def test_malformed_cursors_are_400(admin: AdminClient, orders: list[int], cursor: str) -> None:
    assert_problem(admin.get(f"orders?ordering=status&cursor={cursor}"), 400)


def test_a_forged_but_well_formed_cursor_is_a_position_not_an_error(
    admin: AdminClient, products: list[int]
) -> None:
    # Anything a cursor can say, a client could filter for: it only says where to start.
    cursor = _cursor({"k": "sort_price,id", "p": "12.50", "i": "0"})
    results = admin.get(f"products?ordering=price&cursor={cursor}").json()["results"]
    assert results and all(_product_key("price", p) >= Decimal("12.50") for p in results)


def test_stepping_back_from_a_deleted_first_row_offers_the_first_page(
    admin: AdminClient, products: list[int], shop_a: ShopContext
) -> None:
    first = admin.get("products?ordering=title&limit=2").json()
    following = admin.get(_path_of(first["next"])).json()
    use_shop(shop_a.shop)
    Product.objects.filter(pk__in=[p["id"] for p in first["results"]]).delete()
    use_public()
    back = admin.get(_path_of(following["previous"])).json()
    assert back["results"] == [] and back["previous"] is None
    restart = admin.get(_path_of(back["next"])).json()
    assert [p["title"] for p in restart["results"]] == ["Bravo", "Charlie"]


def test_the_longest_titles_page_on(admin: AdminClient) -> None:
    # A cursor holds the title it stopped at: 255 four-byte characters must still fit in one.
    for index in range(3):
        body = {"title": chr(0x1F600 + index) * 255, "variants": [{"sku": f"EMOJI-{index}", "price": "1.00"}]}
        assert admin.post("products", body).status_code == 201
    pages = _walk(admin, "products?ordering=-title&limit=1")
    assert [page[0]["title"][0] for page in pages] == [chr(0x1F602), chr(0x1F601), chr(0x1F600)]
