"""Carts: lines with current prices, stock and sellability checks, one shop's carts unknown in another."""

from __future__ import annotations

import pytest

from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem
from tests.orders.helpers import sellable_product, storefront

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(api, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


def test_cart_lifecycle_with_current_prices(api, admin: AdminClient, shop_a: ShopContext) -> None:
    product = sellable_product(admin, stock=5, price="12.50")
    variant = product["variants"][0]["id"]
    created = storefront(api, shop_a, "post", "carts")
    assert created.status_code == 201
    cart_id = created.json()["id"]
    assert created.json()["lines"] == [] and created.json()["subtotal"] == {
        "amount": "0.00",
        "currency": "EUR",
    }

    assert (
        storefront(
            api, shop_a, "post", f"carts/{cart_id}/items", {"variant": variant, "quantity": 2}
        ).status_code
        == 201
    )
    storefront(api, shop_a, "post", f"carts/{cart_id}/items", {"variant": variant, "quantity": 1})
    cart = storefront(api, shop_a, "get", f"carts/{cart_id}").json()
    assert [(line["id"], line["quantity"]) for line in cart["lines"]] == [(variant, 3)]
    assert cart["subtotal"] == {"amount": "37.50", "currency": "EUR"}

    admin.patch(f"products/{product['id']}/variants/{variant}", {"price": "10.00"})
    assert storefront(api, shop_a, "get", f"carts/{cart_id}").json()["subtotal"]["amount"] == "30.00"

    changed = storefront(api, shop_a, "patch", f"carts/{cart_id}/items/{variant}", {"quantity": 1})
    assert changed.json()["subtotal"]["amount"] == "10.00"
    removed = storefront(api, shop_a, "delete", f"carts/{cart_id}/items/{variant}")
    assert removed.status_code == 200 and removed.json()["lines"] == []


def test_bad_cart_input(api, admin: AdminClient, shop_a: ShopContext, shop_b: ShopContext) -> None:
    product = sellable_product(admin, stock=2)
    variant = product["variants"][0]["id"]
    draft = admin.post(
        "products", {"title": "Draft", "variants": [{"sku": "DRAFT-1", "price": "1.00", "stock": 5}]}
    ).json()
    cart_id = storefront(api, shop_a, "post", "carts").json()["id"]
    for body, status in [
        ({"variant": 999999, "quantity": 1}, 409),
        ({"variant": variant, "quantity": 0}, 400),
        ({"variant": variant, "quantity": -1}, 400),
        ({"variant": variant, "quantity": 3}, 409),
        ({"variant": draft["variants"][0]["id"], "quantity": 1}, 409),
        ({"variant": "x", "quantity": 1}, 400),
        ({"quantity": 1}, 400),
    ]:
        assert_problem(storefront(api, shop_a, "post", f"carts/{cart_id}/items", body), status)
    assert storefront(api, shop_a, "get", f"carts/{cart_id}").json()["lines"] == []
    # Shop A's variant is not for sale in shop B, and shop A's cart does not exist there.
    other_cart = storefront(api, shop_b, "post", "carts").json()["id"]
    assert_problem(
        storefront(api, shop_b, "post", f"carts/{other_cart}/items", {"variant": variant, "quantity": 1}), 409
    )
    assert_problem(storefront(api, shop_b, "get", f"carts/{cart_id}"), 404)


def test_unknown_carts_and_items_are_404(api, shop_a: ShopContext) -> None:
    assert_problem(storefront(api, shop_a, "get", "carts/" + "0" * 32), 404)
    assert_problem(storefront(api, shop_a, "get", "carts/not-a-cart-id"), 404)
    cart_id = storefront(api, shop_a, "post", "carts").json()["id"]
    assert_problem(storefront(api, shop_a, "patch", f"carts/{cart_id}/items/12345", {"quantity": 1}), 404)
    assert_problem(storefront(api, shop_a, "delete", f"carts/{cart_id}/items/12345"), 404)


def test_cart_answers_are_the_cart_serializers(api, admin: AdminClient, shop_a: ShopContext) -> None:
    """Cart requests answer with a written-out rendering; it must stay CartOutput's, field for field."""
    from orders import carts, quoting
    from orders.api.serializers import CartOutput, PricedCart
    from tenants.schemas import use_public, use_shop

    mug = sellable_product(admin, stock=5, price="12.50", title="Enamel Mug")
    bowl = sellable_product(admin, stock=3, price="7.05", title="Bowl")
    mug_variant, bowl_variant = mug["variants"][0]["id"], bowl["variants"][0]["id"]
    admin.patch(f"products/{mug['id']}/variants/{mug_variant}", {"title": "Large"})
    cart_id = storefront(api, shop_a, "post", "carts").json()["id"]
    storefront(api, shop_a, "post", f"carts/{cart_id}/items", {"variant": bowl_variant, "quantity": 3})
    added = storefront(api, shop_a, "post", f"carts/{cart_id}/items", {"variant": mug_variant, "quantity": 2})
    admin.patch(f"products/{bowl['id']}/variants/{bowl_variant}", {"stock": 1})  # the bowl line: unavailable
    answers = {
        "changed": storefront(api, shop_a, "patch", f"carts/{cart_id}/items/{mug_variant}", {"quantity": 1}),
        "viewed": storefront(api, shop_a, "get", f"carts/{cart_id}"),
    }
    use_shop(shop_a.shop)
    try:
        view = carts.cart_view(cart_id, currency="EUR")
        expected = CartOutput(PricedCart(view, quoting.cart_quote(view, currency="EUR"))).data
    finally:
        use_public()
    assert [line["available"] for line in expected["lines"]] == [True, False]  # mug, then bowl
    assert expected["lines"][0]["title"] == "Enamel Mug" and expected["lines"][0]["variant_title"] == "Large"
    assert answers["viewed"].json() == expected
    assert answers["changed"].json() == expected
    added_lines = added.json()["lines"]
    assert [line["available"] for line in added_lines] == [True, True]
    assert added.json()["subtotal"] == {"amount": "46.15", "currency": "EUR"}


def test_cart_requests_run_their_pinned_statements(api, admin: AdminClient, shop_a: ShopContext) -> None:
    """Each cart request is a few short statements on one cart row and its variants; pinned."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    other = sellable_product(admin, stock=5)["variants"][0]["id"]
    cart_id = storefront(api, shop_a, "post", "carts").json()["id"]
    storefront(api, shop_a, "post", f"carts/{cart_id}/items", {"variant": other, "quantity": 1})

    def statements(method: str, path: str, body: object = None) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            response = storefront(api, shop_a, method, path, body)
        assert response.status_code in (200, 201), response.content
        return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SET search_path")]

    created = statements("post", "carts")
    added = statements("post", f"carts/{cart_id}/items", {"variant": variant, "quantity": 1})
    viewed = statements("get", f"carts/{cart_id}")
    changed = statements("patch", f"carts/{cart_id}/items/{variant}", {"quantity": 2})
    removed = statements("delete", f"carts/{cart_id}/items/{variant}")
    counts = [len(created), len(added), len(viewed), len(changed), len(removed)]
    # Each answer carries the cart's quote: one more statement reads the shop's pricing settings.
    assert counts == [2, 4, 3, 4, 3], [created, added, viewed, changed, removed]
    assert all("orders_taxsettings" in answer[-1] for answer in (created, added, viewed, changed, removed))


@pytest.mark.parametrize(
    "body",
    [
        {"variant": 7, "quantity": 1},
        {"variant": 2**62, "quantity": 1000},
        {"variant": 2**62 + 1, "quantity": 1},
        {"variant": 7, "quantity": 1001},
        {"variant": 0, "quantity": 1},
        {"variant": 7, "quantity": 0},
        {"variant": True, "quantity": 1},
        {"variant": 7, "quantity": 1.0},
        {"variant": "7", "quantity": "2"},
        {"variant": 7},
        {"quantity": 5},
        {"variant": 7, "quantity": 1, "note": "x"},
        {"variant": None, "quantity": 1},
        [7, 1],
        "7",
    ],
)
def test_cart_item_input_plain_agrees_with_the_serializers(body: object) -> None:
    """The fast form accepts only what the input serializers accept, with the same values; else it defers."""
    from orders.api.serializers import CartItemInput, CartItemUpdateInput, cart_item_input_plain

    for serializer_class, fields in (
        (CartItemInput, ("variant", "quantity")),
        (CartItemUpdateInput, ("quantity",)),
    ):
        plain = cart_item_input_plain(body, fields=fields)
        if plain is None:
            continue
        serializer = serializer_class(data=body)
        assert serializer.is_valid(), (body, serializer.errors)
        assert plain == dict(serializer.validated_data)
        assert all(type(value) is int for value in plain.values())


def test_cart_lines_link_to_their_product_and_show_its_first_picture(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    from catalog.models import ProductImage
    from tenants.schemas import use_public, use_shop

    mug = sellable_product(admin, stock=5, title="Enamel Mug")
    bowl = sellable_product(admin, stock=5, title="Bowl")
    use_shop(shop_a.shop)
    try:
        widths = [{"key": "tenants/x/products/1/thumbnails/b-160w.webp", "width": 160, "height": 90}]
        for position, (status, thumbnail, renditions) in enumerate(
            [
                ("pending", "", []),
                ("ready", "tenants/x/products/1/thumbnails/b.webp", widths),
                ("ready", "tenants/x/t/c.webp", []),
            ]
        ):
            ProductImage.objects.create(
                product_id=mug["id"],
                key=f"k{position}",
                filename="a.png",
                content_type="image/png",
                status=status,
                thumbnail_key=thumbnail,
                renditions=renditions,
                position=position,
            )
    finally:
        use_public()
    cart_id = storefront(api, shop_a, "post", "carts").json()["id"]
    storefront(
        api, shop_a, "post", f"carts/{cart_id}/items", {"variant": mug["variants"][0]["id"], "quantity": 1}
    )
    lines = storefront(
        api, shop_a, "post", f"carts/{cart_id}/items", {"variant": bowl["variants"][0]["id"], "quantity": 1}
    ).json()["lines"]
    by_title = {line["title"]: line for line in lines}
    assert by_title["Enamel Mug"]["product_slug"] == mug["slug"]
    assert by_title["Enamel Mug"]["thumbnail_url"].endswith("tenants/x/products/1/thumbnails/b.webp")
    assert by_title["Bowl"]["thumbnail_url"] is None
    # The same picture's widths, for the cart's srcset.
    (width,) = by_title["Enamel Mug"]["renditions"]
    assert width["url"].endswith("b-160w.webp") and (width["width"], width["height"]) == (160, 90)
    assert by_title["Bowl"]["renditions"] == []
    # The cart as read again (its fast path) says the same.
    again = storefront(api, shop_a, "get", f"carts/{cart_id}").json()["lines"]
    assert again == lines
