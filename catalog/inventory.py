"""
Stock: the inventory ledger (InventoryAdjustment, one row per change with its
reason), reserving stock at checkout and releasing it, merchants' adjustments,
and the low-stock event. Each change is one conditional UPDATE, so stock never
goes below zero under any concurrency.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction

from catalog.changes import catalog_change_record, products_changed
from catalog.errors import InsufficientStock, VariantUnavailable
from catalog.models import InventoryAdjustment, Product, Variant
from tenants.audit.services import Actor
from tenants.inserts import rows_insert
from tenants.outbox.events import EventType
from tenants.outbox.services import events_record


def stock_change(
    variant: Variant, delta: int, *, reason: str, note: str, actor: Actor
) -> InventoryAdjustment:
    """Apply `delta` atomically (never below zero), write the ledger, report a low-stock crossing."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_variant SET stock = stock + %s, updated_at = now() "
            "WHERE id = %s AND stock + %s >= 0 RETURNING stock, low_stock_threshold, sku, product_id",
            [delta, variant.pk, delta],
        )
        row = cursor.fetchone()
    if row is None:
        raise InsufficientStock(
            f"Stock of {variant.sku} cannot go below zero.",
            errors={"delta": ["More than the stock on hand."]},
        )
    stock, threshold, sku, product_id = row
    (adjustment,) = ledger_write(
        moves=[StockMove(variant.pk, product_id, sku, delta, stock, threshold)],
        reason=reason,
        note=note,
        actor=actor,
    )
    return adjustment


@dataclass(frozen=True)
class StockMove:
    """One variant's stock change, as the ledger records it."""

    variant_id: int
    product_id: int
    sku: str
    delta: int
    stock_after: int
    threshold: int

    @property
    def crossed_low_stock(self) -> bool:
        return self.stock_after - self.delta > self.threshold >= self.stock_after


def ledger_write(
    *, moves: list[StockMove], reason: str, note: str, actor: Actor
) -> list[InventoryAdjustment]:
    """Record stock changes in the ledger (one INSERT) and report crossings of the low-stock threshold."""
    adjustments = rows_insert(
        [
            InventoryAdjustment(
                variant_id=move.variant_id,
                delta=move.delta,
                stock_after=move.stock_after,
                reason=reason,
                note=note,
                actor_label=actor.label,
            )
            for move in moves
        ]
    )
    low = [
        (
            EventType.INVENTORY_LOW,
            {
                "variant_id": move.variant_id,
                "product_id": move.product_id,
                "sku": move.sku,
                "stock": move.stock_after,
                "low_stock_threshold": move.threshold,
            },
        )
        for move in moves
        if move.crossed_low_stock
    ]
    if low:
        events_record(events=low)
    return adjustments


@dataclass(frozen=True)
class ReservedLine:
    """A variant reserved for an order, with what it was at that moment."""

    variant_id: int
    product_id: int
    sku: str
    title: str
    variant_title: str
    unit_price: Decimal
    quantity: int
    # What orders.pricing needs of it, read in the same statement: its weight for shipping rates,
    # its product's category for discount scopes and reduced tax rates.
    weight_grams: int = 0
    category_id: int | None = None


_RESERVE_SQL = """
UPDATE catalog_variant v SET stock = v.stock - %s, updated_at = now()
FROM catalog_product p
WHERE v.id = %s AND p.id = v.product_id AND p.status = 'active' AND v.stock >= %s
RETURNING v.id, v.product_id, v.sku, p.title, v.title, v.price, v.stock, v.low_stock_threshold,
          v.weight_grams, p.category_id
"""


def stock_reserve(*, items: dict[int, int], actor: Actor, note: str = "") -> list[ReservedLine]:
    """
    Take `quantity` of each variant off its stock, or nothing at all: one
    conditional UPDATE a variant (in id order, so concurrent checkouts cannot
    deadlock), inside the caller's transaction. Under any concurrency a variant
    never sells more than it has; the losers get InsufficientStock.
    """
    reserved: list[ReservedLine] = []
    moves: list[StockMove] = []
    with connection.cursor() as cursor:
        for variant_id, quantity in sorted(items.items()):
            cursor.execute(_RESERVE_SQL, [quantity, variant_id, quantity])
            row = cursor.fetchone()
            if row is None:
                _refuse_reservation(variant_id, quantity)
            _, product_id, sku, title, variant_title, price, stock, threshold, weight, category_id = row
            reserved.append(
                ReservedLine(
                    variant_id, product_id, sku, title, variant_title, price, quantity, weight, category_id
                )
            )
            moves.append(StockMove(variant_id, product_id, sku, -quantity, stock, threshold))
    ledger_write(moves=moves, reason=InventoryAdjustment.Reason.SOLD, note=note, actor=actor)
    _storefront_stock_flipped({move.product_id for move in moves if move.stock_after == 0}, actor=actor)
    return reserved


def _refuse_reservation(variant_id: int, quantity: int) -> None:
    variant = Variant.objects.select_related("product").filter(pk=variant_id).first()
    if variant is None or variant.product.status != Product.Status.ACTIVE:
        raise VariantUnavailable(
            "An item is no longer for sale.", errors={"variant": [f"Variant {variant_id} is not for sale."]}
        )
    raise InsufficientStock(
        f"Only {variant.stock} of {variant.sku} left.",
        errors={"quantity": [f"{variant.sku}: {variant.stock} left, {quantity} wanted."]},
    )


def stock_release(*, items: dict[int, int], actor: Actor, reason: str, note: str = "") -> None:
    """Put reserved stock back (a cancelled order); variants deleted since are skipped."""
    moves: list[StockMove] = []
    with connection.cursor() as cursor:
        for variant_id, quantity in sorted(items.items()):
            cursor.execute(
                "UPDATE catalog_variant SET stock = stock + %s, updated_at = now() WHERE id = %s "
                "RETURNING product_id, sku, stock, low_stock_threshold",
                [quantity, variant_id],
            )
            row = cursor.fetchone()
            if row is not None:
                product_id, sku, stock, threshold = row
                moves.append(StockMove(variant_id, product_id, sku, quantity, stock, threshold))
    if moves:
        ledger_write(moves=moves, reason=reason, note=note, actor=actor)
    # A variant whose stock is now exactly what came back was sold out.
    _storefront_stock_flipped(
        {move.product_id for move in moves if move.stock_after == move.delta}, actor=actor
    )


def _storefront_stock_flipped(product_ids: set[int], *, actor: Actor) -> None:
    """
    The storefront shows whether a variant is in stock, not how many are left, so
    only a sell-out or a restock from zero changes what shoppers see: only then
    refresh the product's search document and the shop's cached responses.
    """
    products_changed(product_ids, actor=actor)


def inventory_adjust(
    *, actor: Actor, variant: Variant, delta: int, reason: str, note: str = ""
) -> InventoryAdjustment:
    """Add or remove stock with a reason; the ledger keeps every adjustment."""
    if delta == 0:
        raise InsufficientStock(
            "An adjustment must change the stock.", errors={"delta": ["Must not be zero."]}
        )
    with transaction.atomic():
        adjustment = stock_change(variant, delta, reason=reason, note=note, actor=actor)
        catalog_change_record(
            actor=actor,
            action="inventory.adjusted",
            object_type="variant",
            object_id=variant.pk,
            before={"stock": adjustment.stock_after - delta},
            after={"stock": adjustment.stock_after, "reason": reason, "note": note},
            products=[variant.product_id],
        )
    return adjustment
