"""
Carts live in the shop's schema (orders.models.Cart): one row per cart, its
lines one JSON object `{"<variant id>": quantity}`, so each cart operation is
one short statement on one row, and the checkout takes the cart in the order's
own transaction: a cart survives a Redis restart, and a checked-out cart can
never make a second order. The id the shopper holds is a bearer secret; rows
are found by its SHA-256. A cart unused for 7 days is gone (a change restarts
the 7 days; a read restarts them at most once a day, so reads stay reads).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from catalog.errors import InsufficientStock, VariantUnavailable
from catalog.models import Product, ProductImage, Variant
from orders.errors import CartCheckedOut, CartEmpty, CartItemNotFound, CartNotFound
from orders.models import Cart, Order
from tenants.money import Money

CART_TTL = timedelta(days=7)
# A read restarts the cart's 7 days only when it last did so longer ago than this.
CART_TOUCH_EVERY = timedelta(days=1)
CART_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_LINES = 100
MAX_QUANTITY = 1000
TABLE = Cart._meta.db_table
_LIVE = f"touched_at > now() - interval '{CART_TTL.days} days'"
_STALE = f"touched_at < now() - interval '{CART_TOUCH_EVERY.days} days'"


def cart_hash(cart_id: object) -> str:
    """The stored form of a cart id (its SHA-256); CartNotFound for anything that is not a cart id."""
    if not isinstance(cart_id, str) or not CART_ID.match(cart_id):
        raise CartNotFound("No such cart.")
    return hashlib.sha256(cart_id.encode()).hexdigest()


def cart_create() -> str:
    cart_id = secrets.token_hex(16)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (id_hash, items, created_at, touched_at) VALUES (%s, '{{}}', now(), now())",
            [cart_hash(cart_id)],
        )
    return cart_id


def _quantities(items: str) -> dict[int, int]:
    """The lines from the jsonb column, which Django has psycopg hand over as text."""
    return {int(variant): int(quantity) for variant, quantity in json.loads(items).items()}


@dataclass(frozen=True)
class CartChoices:
    """What the shopper chose besides the items: where it goes, how, and a discount code."""

    shipping_address: dict[str, str] | None = None
    shipping_method_id: int | None = None
    discount_code: str | None = None


@dataclass(frozen=True)
class CartRow:
    quantities: dict[int, int]
    choices: CartChoices


# The columns every cart statement returns, read by _row().
_COLUMNS = "items, shipping_address, shipping_method_id, discount_code"


def _row(items: str, address: str | None, method_id: int | None, code: str | None) -> CartRow:
    return CartRow(_quantities(items), CartChoices(json.loads(address) if address else None, method_id, code))


def cart_read(cart_id: str, *, for_change: bool = False) -> CartRow:
    """
    Return the cart's lines and choices; CartNotFound if expired or unknown, and,
    when the cart is about to change, CartCheckedOut if it became an order.
    """
    key = cart_hash(cart_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_COLUMNS}, checked_out_at IS NOT NULL, {_STALE} FROM {TABLE} "
            f"WHERE id_hash = %s AND {_LIVE}",
            [key],
        )
        row = cursor.fetchone()
        if row is None:
            raise CartNotFound("No such cart (carts expire after 7 days unused).")
        *columns, checked_out, stale = row
        if checked_out and for_change:
            raise _checked_out(key)
        if stale:
            cursor.execute(f"UPDATE {TABLE} SET touched_at = now() WHERE id_hash = %s", [key])
    return _row(*columns)


def cart_quantities(cart_id: str, *, for_change: bool = False) -> dict[int, int]:
    """Return {variant id: quantity} (see cart_read)."""
    return cart_read(cart_id, for_change=for_change).quantities


def _checked_out(key: str) -> CartCheckedOut:
    order = Order.objects.filter(cart_hash=key).only("pk").first()
    number = order.number if order else None
    where = f" as order #{number}" if number else ""
    return CartCheckedOut(
        f"This cart was already checked out{where}; start a new cart to order again.", order_number=number
    )


def _items_update(cart_id: str, assignment: str, params: list[Any], *, having: str | None = None) -> CartRow:
    """
    Change a live, open cart's items in one statement (`items = <assignment>`,
    only if it `having` that item, when given) and return the cart; when no row
    changed, raise why: unknown or expired cart, checked out, or no such item.
    """
    return _cart_update(cart_id, f"items = {assignment}", params, having=having)


def _cart_update(cart_id: str, assignments: str, params: list[Any], *, having: str | None = None) -> CartRow:
    key = cart_hash(cart_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {TABLE} SET {assignments}, touched_at = now()
                WHERE id_hash = %s AND {_LIVE} AND checked_out_at IS NULL
                {"AND items ? %s" if having is not None else ""}
                RETURNING {_COLUMNS}""",
            [*params, key, *([having] if having is not None else [])],
        )
        row = cursor.fetchone()
    if row is None:
        cart_quantities(cart_id, for_change=True)  # raises CartNotFound or CartCheckedOut
        raise CartItemNotFound("No such item in this cart.")
    return _row(*row)


def cart_choices_set(
    cart_id: str,
    *,
    shipping_address: dict[str, str] | object | None = ...,
    shipping_method_id: int | object | None = ...,
    discount_code: str | object | None = ...,
) -> CartRow:
    """Set some of the cart's choices (those passed; None clears one) in one statement; return the cart."""
    assignments, params = [], []
    for column, value in (
        ("shipping_address", shipping_address),
        ("shipping_method_id", shipping_method_id),
        ("discount_code", discount_code),
    ):
        if value is not ...:
            assignments.append(f"{column} = %s")
            params.append(json.dumps(value) if column == "shipping_address" and value is not None else value)
    return _cart_update(cart_id, ", ".join(assignments), params)


@dataclass(frozen=True)
class CartVariant:
    """What a cart shows and checks of a variant and its product."""

    id: int
    product_id: int
    sku: str
    title: str
    price: Decimal
    stock: int
    product_title: str
    for_sale: bool  # its product is active
    product_slug: str
    thumbnail_key: str  # the product's first picture's thumbnail, or ""
    weight_grams: int = 0
    category_id: int | None = None
    # That picture's widths ([{"key", "width", "height"}]), for the cart's `srcset`.
    renditions: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class CartLine:
    item_id: int
    variant: CartVariant
    quantity: int
    unit_price: Money
    line_total: Money
    available: bool


@dataclass(frozen=True)
class CartView:
    id: str
    lines: list[CartLine]
    subtotal: Money
    item_count: int
    choices: CartChoices = CartChoices()

    @classmethod
    def empty(cls, cart_id: str, *, currency: str) -> CartView:
        return cls(cart_id, [], Money(Decimal(0), currency), 0)


def cart_view(cart_id: str, *, currency: str) -> CartView:
    """The cart with current prices; a line whose product is gone or unpublished is marked unavailable."""
    cart = cart_read(cart_id)
    return _view(cart_id, cart, _variants(cart.quantities), currency=currency)


def cart_view_of(cart_id: str, cart: CartRow, *, currency: str) -> CartView:
    """The view of a cart just read or changed."""
    return _view(cart_id, cart, _variants(cart.quantities), currency=currency)


# Every cart request reads its variants; written out, the statement costs no ORM query building.
_VARIANTS = f"""
    SELECT variant.id, variant.product_id, variant.sku, variant.title, variant.price, variant.stock,
           product.title, product.status = %s, product.slug,
           COALESCE((SELECT image.thumbnail_key FROM {ProductImage._meta.db_table} AS image
                     WHERE image.product_id = product.id AND image.status = %s AND image.thumbnail_key <> ''
                     ORDER BY image.position, image.id LIMIT 1), ''),
           variant.weight_grams, product.category_id,
           COALESCE((SELECT image.renditions::text FROM {ProductImage._meta.db_table} AS image
                     WHERE image.product_id = product.id AND image.status = %s AND image.thumbnail_key <> ''
                     ORDER BY image.position, image.id LIMIT 1), '[]')
    FROM {Variant._meta.db_table} AS variant
    JOIN {Product._meta.db_table} AS product ON product.id = variant.product_id
    WHERE variant.id = ANY(%s)"""


def _variants(variant_ids: Iterable[int]) -> dict[int, CartVariant]:
    """The cart's variants with their products, in one query."""
    with connection.cursor() as cursor:
        ready = ProductImage.Status.READY.value
        cursor.execute(_VARIANTS, [Product.Status.ACTIVE.value, ready, ready, list(variant_ids)])
        return {
            row[0]: replace(CartVariant(*row[:-1]), renditions=tuple(json.loads(row[-1])))
            for row in cursor.fetchall()
        }


def _view(cart_id: str, cart: CartRow, variants: dict[int, CartVariant], *, currency: str) -> CartView:
    lines = []
    subtotal = Money(Decimal(0), currency)
    quantities = cart.quantities
    gone = [variant_id for variant_id in quantities if variant_id not in variants]
    if gone:  # deleted from the catalog: drop them
        cart = _items_update(cart_id, "items - %s::text[]", [[str(v) for v in gone]])
        quantities = cart.quantities
    for variant_id, quantity in quantities.items():
        variant = variants[variant_id]
        available = variant.for_sale and variant.stock >= quantity
        unit_price = Money(variant.price, currency)
        line_total = unit_price * quantity
        if available:
            subtotal = subtotal + line_total
        lines.append(CartLine(variant_id, variant, quantity, unit_price, line_total, available))
    lines.sort(key=lambda line: line.item_id)
    return CartView(cart_id, lines, subtotal, sum(line.quantity for line in lines), cart.choices)


def _sellable(variant: CartVariant | None, quantity: int) -> None:
    if variant is None or not variant.for_sale:
        raise VariantUnavailable(
            "That item is not for sale.", errors={"variant": ["Not for sale in this shop."]}
        )
    if quantity > variant.stock:
        raise InsufficientStock(
            f"Only {variant.stock} of {variant.sku} left.", errors={"quantity": [f"At most {variant.stock}."]}
        )


def cart_item_add(cart_id: str, *, variant_id: int, quantity: int, currency: str) -> CartView:
    """
    Add a variant (or more of it); the line's total may not exceed the stock.
    Return the cart as it now is, from the same read of its variants.
    """
    quantities = cart_quantities(cart_id, for_change=True)
    if variant_id not in quantities and len(quantities) >= MAX_LINES:
        raise InsufficientStock(
            f"A cart holds at most {MAX_LINES} lines.", errors={"variant": ["Cart is full."]}
        )
    wanted = quantities.get(variant_id, 0) + quantity
    if wanted > MAX_QUANTITY:
        raise InsufficientStock(f"At most {MAX_QUANTITY} of one item.", errors={"quantity": ["Too many."]})
    variants = _variants({*quantities, variant_id})
    _sellable(variants.get(variant_id), wanted)
    item = str(variant_id)
    # An increment in the statement itself, so two adds at once both count.
    cart = _items_update(
        cart_id,
        "jsonb_set(items, ARRAY[%s], to_jsonb(COALESCE((items ->> %s)::int, 0) + %s))",
        [item, item, quantity],
    )
    return _view(cart_id, cart, variants, currency=currency)


def cart_item_set(cart_id: str, *, item_id: int, quantity: int, currency: str) -> CartView:
    """Set an item's quantity (at most the stock); return the cart as it now is."""
    quantities = cart_quantities(cart_id, for_change=True)
    if item_id not in quantities:
        raise CartItemNotFound("No such item in this cart.")
    variants = _variants(quantities)
    _sellable(variants.get(item_id), quantity)
    item = str(item_id)
    cart = _items_update(
        cart_id, "jsonb_set(items, ARRAY[%s], to_jsonb(%s::int))", [item, quantity], having=item
    )
    return _view(cart_id, cart, variants, currency=currency)


def cart_item_remove(cart_id: str, *, item_id: int, currency: str) -> CartView:
    """Remove an item; return the cart as it now is."""
    item = str(item_id)
    cart = _items_update(cart_id, "items - %s", [item], having=item)
    return _view(cart_id, cart, _variants(cart.quantities), currency=currency)


def cart_checkout_take(cart_id: str) -> tuple[str, dict[int, int], CartChoices]:
    """
    In the checkout's transaction: lock the cart, mark it checked out and empty
    it, in one statement; return its hash, the lines it had and its choices. A rollback (sold
    out, declined card) gives the cart back as it was. A checkout racing this one
    for the same cart waits for the lock, then finds it checked out.
    """
    key = cart_hash(cart_id)
    with connection.cursor() as cursor:
        # The time is a parameter: Citus refuses now() inside COALESCE in an UPDATE.
        cursor.execute(
            f"""UPDATE {TABLE} AS cart
                SET items = '{{}}', touched_at = %(now)s,
                    checked_out_at = coalesce(old.checked_out_at, %(now)s)
                FROM (SELECT id_hash, items, checked_out_at FROM {TABLE}
                      WHERE id_hash = %(key)s AND {_LIVE} FOR UPDATE) AS old
                WHERE cart.id_hash = old.id_hash
                RETURNING old.items, old.checked_out_at IS NOT NULL,
                          cart.shipping_address, cart.shipping_method_id, cart.discount_code""",
            {"now": timezone.now(), "key": key},
        )
        row = cursor.fetchone()
    if row is None:
        raise CartNotFound("No such cart (carts expire after 7 days unused).")
    items, checked_out, *choices = row
    if checked_out:
        raise _checked_out(key)
    cart = _row(items, *choices)
    if not cart.quantities:
        raise CartEmpty("Add something to the cart first.")
    return key, cart.quantities, cart.choices


def carts_expired_delete() -> int:
    """Delete the current shop's carts unused for CART_TTL; return how many."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE NOT ({_LIVE})")
        return cursor.rowcount


def cart_give_back(key: str, *, items: dict[int, int]) -> None:
    """
    In the transaction that records a refused payment: make the checked-out cart
    (by its hash) live again with the items it had, so the shopper can pay with
    another card. A cart expired or changed since is left alone.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {TABLE} SET items = %s::jsonb, checked_out_at = NULL, touched_at = now()
                WHERE id_hash = %s AND checked_out_at IS NOT NULL AND items = '{{}}'::jsonb""",
            [json.dumps({str(variant): quantity for variant, quantity in items.items()}), key],
        )
