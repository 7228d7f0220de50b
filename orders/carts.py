"""
Carts live in Redis under the shop's namespace (`{schema}:cart:{id}`), one hash
per cart: a field per variant holding its quantity. They expire after 7 days
without use; every read or change starts the 7 days again.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from catalog.errors import InsufficientStock, VariantUnavailable
from catalog.models import Product, Variant
from orders.errors import CartItemNotFound, CartNotFound
from tenants.conventions.money import Money
from tenants.keys import redis_client, redis_key

CART_TTL = timedelta(days=7)
CART_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_LINES = 100
MAX_QUANTITY = 1000
_CREATED = "created"


def _key(cart_id: str) -> str:
    if not CART_ID.match(cart_id):
        raise CartNotFound("No such cart.")
    return redis_key("cart", cart_id)


def cart_create() -> str:
    cart_id = secrets.token_hex(16)
    with redis_client().pipeline() as pipe:
        pipe.hset(_key(cart_id), _CREATED, "1")
        pipe.expire(_key(cart_id), CART_TTL)
        pipe.execute()
    return cart_id


def cart_quantities(cart_id: str) -> dict[int, int]:
    """Return {variant id: quantity} and start the cart's 7 days again; CartNotFound if expired or unknown."""
    key = _key(cart_id)
    with redis_client().pipeline() as pipe:
        pipe.hgetall(key)
        pipe.expire(key, CART_TTL)
        fields, _ = pipe.execute()
    if not fields:
        raise CartNotFound("No such cart (carts expire after 7 days unused).")
    return {int(field): int(value) for field, value in fields.items() if field != _CREATED.encode()}


@dataclass(frozen=True)
class CartLine:
    item_id: int
    variant: Variant
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


def cart_view(cart_id: str, *, currency: str) -> CartView:
    """The cart with current prices; a line whose product is gone or unpublished is marked unavailable."""
    quantities = cart_quantities(cart_id)
    return _view(cart_id, quantities, _variants(quantities), currency=currency)


def _variants(variant_ids: Iterable[int]) -> dict[int, Variant]:
    """The cart's variants with their products, in one query."""
    return Variant.objects.select_related("product").in_bulk(list(variant_ids))


def _view(
    cart_id: str, quantities: dict[int, int], variants: dict[int, Variant], *, currency: str
) -> CartView:
    lines = []
    subtotal = Money(Decimal(0), currency)
    for variant_id, quantity in quantities.items():
        variant = variants.get(variant_id)
        if variant is None:
            cart_item_remove(cart_id, variant_id)  # deleted from the catalog: drop it
            continue
        available = variant.product.status == Product.Status.ACTIVE and variant.stock >= quantity
        unit_price = Money(variant.price, currency)
        line_total = unit_price * quantity
        if available:
            subtotal = subtotal + line_total
        lines.append(CartLine(variant_id, variant, quantity, unit_price, line_total, available))
    lines.sort(key=lambda line: line.item_id)
    return CartView(cart_id, lines, subtotal, sum(line.quantity for line in lines))


def _sellable(variant: Variant | None, quantity: int) -> None:
    if variant is None or variant.product.status != Product.Status.ACTIVE:
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
    quantities = cart_quantities(cart_id)
    if variant_id not in quantities and len(quantities) >= MAX_LINES:
        raise InsufficientStock(
            f"A cart holds at most {MAX_LINES} lines.", errors={"variant": ["Cart is full."]}
        )
    wanted = quantities.get(variant_id, 0) + quantity
    if wanted > MAX_QUANTITY:
        raise InsufficientStock(f"At most {MAX_QUANTITY} of one item.", errors={"quantity": ["Too many."]})
    variants = _variants({*quantities, variant_id})
    _sellable(variants.get(variant_id), wanted)
    quantities[variant_id] = redis_client().hincrby(_key(cart_id), str(variant_id), quantity)
    return _view(cart_id, quantities, variants, currency=currency)


def cart_item_set(cart_id: str, *, item_id: int, quantity: int, currency: str) -> CartView:
    """Set an item's quantity (at most the stock); return the cart as it now is."""
    quantities = cart_quantities(cart_id)
    if item_id not in quantities:
        raise CartItemNotFound("No such item in this cart.")
    variants = _variants(quantities)
    _sellable(variants.get(item_id), quantity)
    redis_client().hset(_key(cart_id), str(item_id), quantity)
    quantities[item_id] = quantity
    return _view(cart_id, quantities, variants, currency=currency)


def cart_item_remove(cart_id: str, item_id: int) -> None:
    if not redis_client().hdel(_key(cart_id), str(item_id)):
        raise CartItemNotFound("No such item in this cart.")


def cart_empty(cart_id: str) -> None:
    """Remove every line (after checkout); the cart itself stays usable."""
    key = _key(cart_id)
    with redis_client().pipeline() as pipe:
        pipe.delete(key)
        pipe.hset(key, _CREATED, "1")
        pipe.expire(key, CART_TTL)
        pipe.execute()
