"""
Discount codes and automatic promotions: the merchant's writes (each with its
audit entry and `discount.*` event), the look-up of a code, and counting uses
at checkout so that no usage limit is passed however many checkouts race.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet

from orders.errors import DiscountCodeTaken, DiscountExhausted
from orders.models import Discount, DiscountUse, Order
from orders.pricing import DiscountRule, Quote
from tenants.audit.services import Actor, audit_record
from tenants.errors import ResourceNotFound
from tenants.outbox.events import EventType
from tenants.outbox.services import events_record

UNSET: Any = object()
EDITABLE = (
    "code",
    "kind",
    "value",
    "product_ids",
    "category_ids",
    "min_subtotal",
    "starts_at",
    "ends_at",
    "usage_limit",
    "usage_limit_per_customer",
    "active",
)


def code_normal(code: str) -> str:
    """Codes are matched without regard to case or surrounding spaces."""
    return code.strip().upper()


def discounts_list() -> QuerySet[Discount]:
    return Discount.objects.order_by("-id")


def access_discount_by_id(*, discount_id: int) -> Discount:
    discount = Discount.objects.filter(pk=discount_id).first()
    if discount is None:
        raise ResourceNotFound(f"No discount {discount_id} in this shop.")
    return discount


def discount_snapshot(discount: Discount) -> dict[str, Any]:
    def text(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dt.datetime):
            return value.isoformat()
        return value

    return {
        "id": discount.pk,
        **{name: text(getattr(discount, name)) for name in EDITABLE},
        "times_used": discount.times_used,
    }


def _event(event_type: EventType, discount: Discount, *, actor: Actor) -> tuple[str, dict[str, Any]]:
    return (
        event_type,
        {"discount_id": discount.pk, "code": discount.code, "kind": discount.kind, "actor": actor.label},
    )


def _saved(discount: Discount, *, create: bool) -> None:
    try:
        with transaction.atomic():
            discount.save(force_insert=create)
    except IntegrityError:
        raise DiscountCodeTaken(
            f"Another discount already has the code {discount.code}.", errors={"code": ["Already in use."]}
        ) from None


def discount_create(*, actor: Actor, **fields: Any) -> Discount:
    """Create a code (`code`) or an automatic promotion (no code)."""
    if fields.get("code"):
        fields["code"] = code_normal(fields["code"])
    with transaction.atomic():
        discount = Discount(**{name: value for name, value in fields.items() if name in EDITABLE})
        _saved(discount, create=True)
        audit_record(
            actor=actor,
            action="discount.created",
            object_type="discount",
            object_id=discount.pk,
            after=discount_snapshot(discount),
        )
        events_record(events=[_event(EventType.DISCOUNT_CREATED, discount, actor=actor)])
    return discount


def discount_update(*, actor: Actor, discount: Discount, **fields: Any) -> Discount:
    """Change a discount; a usage limit below the uses already counted is refused."""
    if fields.get("code"):
        fields["code"] = code_normal(fields["code"])
    with transaction.atomic():
        discount = Discount.objects.select_for_update().get(pk=discount.pk)
        before = discount_snapshot(discount)
        for name, value in fields.items():
            if name in EDITABLE and value is not UNSET:
                setattr(discount, name, value)
        if discount.usage_limit is not None and discount.usage_limit < discount.times_used:
            raise DiscountExhausted(
                f"It was used {discount.times_used} times already.",
                errors={"usage_limit": [f"At least {discount.times_used}."]},
            )
        _saved(discount, create=False)
        after = discount_snapshot(discount)
        if after != before:
            audit_record(
                actor=actor,
                action="discount.updated",
                object_type="discount",
                object_id=discount.pk,
                before=before,
                after=after,
            )
            events_record(events=[_event(EventType.DISCOUNT_UPDATED, discount, actor=actor)])
    return discount


def discount_delete(*, actor: Actor, discount: Discount) -> None:
    """Delete a discount; orders keep their snapshot of it."""
    with transaction.atomic():
        before = discount_snapshot(discount)
        event = _event(EventType.DISCOUNT_DELETED, discount, actor=actor)
        discount.delete()
        audit_record(
            actor=actor,
            action="discount.deleted",
            object_type="discount",
            object_id=before["id"],
            before=before,
        )
        events_record(events=[event])


# --- Rules for pricing, and counting uses ----------------------------------------------------


def _moment(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def discount_rule(row: dict[str, Any]) -> DiscountRule:
    """A DiscountRule from a discount's column values (a model's or row_to_json's)."""

    def amount(value: Any) -> Decimal | None:
        return None if value is None else Decimal(str(value))

    return DiscountRule(
        id=int(row["id"]),
        kind=str(row["kind"]),
        value=amount(row["value"]) or Decimal(0),
        code=row["code"],
        product_ids=frozenset(int(i) for i in row["product_ids"] or ()),
        category_ids=frozenset(int(i) for i in row["category_ids"] or ()),
        min_subtotal=amount(row["min_subtotal"]),
        starts_at=_moment(row["starts_at"]),
        ends_at=_moment(row["ends_at"]),
        usage_limit=row["usage_limit"],
        times_used=int(row["times_used"]),
        usage_limit_per_customer=row["usage_limit_per_customer"],
        active=bool(row["active"]),
    )


def discount_by_code(code: str) -> DiscountRule | None:
    discount = Discount.objects.filter(code=code_normal(code)).first()
    if discount is None:
        return None
    return discount_rule({name: getattr(discount, name) for name in (*EDITABLE, "id", "times_used")})


def discounts_take(*, quote: Quote, rules: Sequence[DiscountRule], email: str) -> None:
    """
    In the checkout's transaction, count one use of each discount the quote
    applied, or refuse (DiscountExhausted, rolling the checkout back) if one has
    reached its limit meanwhile. One conditional UPDATE: `times_used` grows only
    while below `usage_limit`, and the row lock it takes makes a racing checkout
    wait and then see the new count, so 50 racing uses of a 10-use code make
    exactly 10 orders. The per-customer count is read under that same lock.
    """
    applied = sorted({d.id for d in quote.discounts})
    if not applied:
        return
    table = Discount._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table} SET times_used = times_used + 1
                WHERE id = ANY(%s) AND (usage_limit IS NULL OR times_used < usage_limit)
                RETURNING id""",
            [applied],
        )
        counted = {row[0] for row in cursor.fetchall()}
    if counted != set(applied):
        raise DiscountExhausted(
            "A discount in the cart has just been used up; remove it and check out again."
        )
    per_customer = {
        r.id: r.usage_limit_per_customer for r in rules if r.id in counted and r.usage_limit_per_customer
    }
    if per_customer:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT discount_id, count(*) FROM {DiscountUse._meta.db_table}
                    WHERE discount_id = ANY(%s) AND email = %s GROUP BY discount_id""",
                [list(per_customer), email],
            )
            for discount_id, uses in cursor.fetchall():
                if uses >= per_customer[discount_id]:
                    raise DiscountExhausted("You have already used this discount as often as it allows.")


def discount_uses_record(*, order: Order, quote: Quote, email: str) -> None:
    """Record who used which discount (for per-customer limits), in the order's transaction."""
    applied = sorted({d.id for d in quote.discounts})
    if applied:
        DiscountUse.objects.bulk_create(
            [DiscountUse(discount_id=i, order=order, email=email) for i in applied]
        )


def discount_uses_release(*, order: Order) -> None:
    """
    Give back the uses an order took that never paid (refused card, expired or
    cancelled unpaid), in that change's transaction: a code's limit counts orders
    that bought something, not attempts.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {DiscountUse._meta.db_table} WHERE order_id = %s RETURNING discount_id", [order.pk]
        )
        released = [row[0] for row in cursor.fetchall()]
        if released:
            cursor.execute(
                f"""UPDATE {Discount._meta.db_table} SET times_used = GREATEST(times_used - 1, 0)
                    WHERE id = ANY(%s)""",
                [released],
            )
