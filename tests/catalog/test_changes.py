"""catalog_change_record: the one way a catalog write records its audit entry and its products' events."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from catalog import changes
from catalog.changes import catalog_change_record
from catalog.services import VariantSpec, product_create
from tenants.audit.models import AuditEntry
from tenants.audit.services import Actor
from tenants.outbox.events import EventType
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_shop
from tests.conftest import ShopContext

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


@pytest.fixture
def storefront_drops(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[object]]:
    """What the write asked the storefront cache to drop: product pages (by slug), or everything."""
    calls: dict[str, list[object]] = {"pages": [], "everything": []}

    def pages_changed_on_commit(slugs: list[str]) -> None:  # as the real one: dropped once committed
        transaction.on_commit(lambda: calls["pages"].append(sorted(slugs)))

    monkeypatch.setattr(changes, "storefront_pages_changed_on_commit", pages_changed_on_commit)
    monkeypatch.setattr(changes, "storefront_cache_bump", lambda: calls["everything"].append(True))
    return calls


def test_records_the_audit_entry_and_one_event_per_changed_product(
    shop_a: ShopContext, storefront_drops: dict[str, list[object]], django_capture_on_commit_callbacks
) -> None:
    use_shop(shop_a.shop)
    lamp = product_create(actor=ACTOR, title="Lamp", variants=[VariantSpec(sku="L1", price=Decimal("5"))])
    desk = product_create(actor=ACTOR, title="Desk", variants=[VariantSpec(sku="D1", price=Decimal("9"))])
    earlier = set(OutboxEvent.objects.values_list("id", flat=True))
    storefront_drops["pages"].clear()

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        catalog_change_record(
            actor=ACTOR,
            action="category.updated",
            object_type="category",
            object_id=7,
            before={"name": "Old"},
            after={"name": "New"},
            products=[desk.pk, lamp.pk, desk.pk],
            slugs=["old-lamp"],
        )

    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert (entry.action, entry.object_type, entry.object_id) == ("category.updated", "category", 7)
    assert (entry.before, entry.after, entry.actor_label) == ({"name": "Old"}, {"name": "New"}, ACTOR.label)
    events = OutboxEvent.objects.filter(schema_name=shop_a.shop.schema_name).exclude(id__in=earlier)
    assert sorted(
        (event.type, event.payload["product_id"], event.payload["actor"]) for event in events
    ) == sorted(
        [(EventType.PRODUCT_UPDATED, lamp.pk, ACTOR.label), (EventType.PRODUCT_UPDATED, desk.pk, ACTOR.label)]
    )  # once each, though named twice
    assert storefront_drops == {"pages": [["desk", "lamp", "old-lamp"]], "everything": []}


def test_a_change_seen_everywhere_drops_the_whole_storefront_once_committed(
    shop_a: ShopContext, storefront_drops: dict[str, list[object]], django_capture_on_commit_callbacks
) -> None:
    use_shop(shop_a.shop)
    events_before = OutboxEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        catalog_change_record(
            actor=ACTOR,
            action="categories.reordered",
            object_type="category",
            object_id=None,
            after={"order": [2, 1]},
            whole_storefront=True,
        )
        assert storefront_drops["everything"] == []  # not before the commit
    assert storefront_drops == {"pages": [], "everything": [True]}
    assert OutboxEvent.objects.count() == events_before  # no product changed
    assert AuditEntry.objects.order_by("-id").values_list("action", flat=True)[0] == "categories.reordered"


def test_a_rolled_back_write_leaves_no_entry_event_or_cache_drop(
    shop_a: ShopContext, storefront_drops: dict[str, list[object]], django_capture_on_commit_callbacks
) -> None:
    use_shop(shop_a.shop)
    lamp = product_create(actor=ACTOR, title="Lamp", variants=[VariantSpec(sku="L1", price=Decimal("5"))])
    storefront_drops["pages"].clear()
    counts = (AuditEntry.objects.count(), OutboxEvent.objects.count())
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        catalog_change_record(
            actor=ACTOR,
            action="product.updated",
            object_type="product",
            object_id=lamp.pk,
            products=[lamp.pk],
        )
        raise RuntimeError("the write fails after recording")
    assert (AuditEntry.objects.count(), OutboxEvent.objects.count()) == counts
    assert storefront_drops == {"pages": [], "everything": []}


CATALOG = Path(settings.BASE_DIR) / "catalog"


def _catalog_modules() -> list[Path]:
    """The catalog app's own modules (the storefront sub-app keeps its own audit of themes and pages)."""
    return [
        path
        for path in sorted(CATALOG.rglob("*.py"))
        if "migrations" not in path.parts and "storefront" not in path.relative_to(CATALOG).parts
    ]


def test_every_catalog_write_records_itself_through_catalog_change_record() -> None:
    by_hand = []
    for path in _catalog_modules():
        if path.name == "changes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in {
                "audit_record",
                "event_record",
            }:
                by_hand.append(f"{path.relative_to(CATALOG)}:{node.lineno}: {node.func.id}")
    assert not by_hand, by_hand


def test_no_catalog_module_imports_another_ones_private_names() -> None:
    private = []
    for path in _catalog_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("catalog"):
                private += [
                    f"{path.relative_to(CATALOG)}: {alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_")
                ]
    assert not private, private
