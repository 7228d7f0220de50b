"""
How a catalog write reports itself, inside its transaction: its audit entry, an
outbox event for each product it changed (search documents and webhooks follow
from those events), and the cached storefront pages it makes stale, dropped
once it commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction

from catalog.cache import storefront_cache_bump, storefront_pages_changed_on_commit
from catalog.models import PriceChange, Product, Variant
from tenants.audit.services import Actor, AuditChange, audit_record, audit_records
from tenants.inserts import rows_insert
from tenants.outbox.events import EventType
from tenants.outbox.services import event_record, events_record


def catalog_change_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    products: Iterable[int] = (),
    event: EventType = EventType.PRODUCT_UPDATED,
    slugs: Iterable[str] = (),
    whole_storefront: bool = False,
) -> None:
    """
    Record a catalog write: its audit entry and, for each of `products` it changed,
    `event` (see products_changed). `whole_storefront`: the change shows on every
    page (a category's name or place), so every cached storefront answer goes.
    """
    audit_record(
        actor=actor, action=action, object_type=object_type, object_id=object_id, before=before, after=after
    )
    products_changed(products, actor=actor, event=event, slugs=slugs)
    if whole_storefront:
        transaction.on_commit(storefront_cache_bump)


def products_changed(
    product_ids: Iterable[int],
    *,
    actor: Actor,
    event: EventType = EventType.PRODUCT_UPDATED,
    slugs: Iterable[str] = (),
) -> None:
    """
    Record `event` for each product (one INSERT) and, once the change commits, drop
    the products' storefront pages (under their slugs, and any slug they had:
    `slugs`) and every list and search page; other products' pages stay warm. Called
    after the change is written, so the slugs read here are the new ones. On its
    own (without an audit entry) for changes the audit log does not keep, such as
    stock sold at checkout.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return
    events_record(events=[(event, {"product_id": product_id, "actor": actor.label}) for product_id in ids])
    current = Product.objects.filter(pk__in=ids).values_list("slug", flat=True)
    storefront_pages_changed_on_commit([*slugs, *current])


def catalog_changes_record(
    *,
    actor: Actor,
    changes: Sequence[AuditChange],
    events: Mapping[int, EventType],
    slugs: Iterable[str] = (),
) -> None:
    """
    Record many catalog writes of one actor at once (a chunk of a product import):
    their audit entries in one INSERT, each product's event (created or updated) in
    another, and, once committed, the storefront pages of `slugs` and every list page.
    """
    audit_records(actor=actor, changes=changes)
    if events:
        events_record(
            events=[
                (event, {"product_id": product_id, "actor": actor.label})
                for product_id, event in events.items()
            ]
        )
    slugs = list(slugs)
    if slugs:
        storefront_pages_changed_on_commit(slugs)


def price_changes_record(
    *, changes: Sequence[tuple[Variant, Decimal | None, Decimal]], changed_by: str
) -> list[PriceChange]:
    """
    Record variants' new prices, (variant, old, new) each, in their history (one
    INSERT, in the caller's transaction), and one event naming their days for the
    worker to recompute.
    """
    recorded = rows_insert(
        [
            PriceChange(variant=variant, old_price=old, new_price=new, changed_by=changed_by)
            for variant, old, new in changes
        ]
    )
    days = sorted({(change.variant_id, change.changed_at.date().isoformat()) for change in recorded})
    event_record(type=EventType.VARIANT_PRICE_CHANGED, payload={"days": [list(day) for day in days]})
    return recorded
