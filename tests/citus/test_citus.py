"""
Storefleet on a Citus cluster (schema-based sharding): every path a shop takes, and
shops moving between workers while they serve. Run by hand: make test-citus.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test.utils import override_settings
from rest_framework.test import APIClient

from catalog.models import SearchDocument
from tenants import backups, placement, provisioning, services
from tenants.models import Shop, SpareSchema, User
from tenants.outbox.models import OutboxEvent
from tenants.placement import Node
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import TEST_POOL_SIZE, ShopContext, committed_shop_drop, make_shop, make_user
from tests.orders.helpers import cart_with, checkout, sellable_product, storefront
from tests.tenants import test_rolling_migrations as rolling

pytestmark = pytest.mark.usefixtures("django_db_setup")


def _node_of(schema: str) -> Node | None:
    return placement.schema_nodes([schema]).get(schema)


def _tables(schema: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relnamespace = to_regnamespace(%s) AND relkind = 'r'",
            [schema],
        )
        return int(cursor.fetchone()[0])


@pytest.fixture
def unblocked(django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        yield
        use_public()


@pytest.fixture
def owner(unblocked) -> Iterator[User]:
    user = make_user("citus-owner@example.com")
    yield user
    use_public()
    for shop in Shop.objects.filter(memberships__user=user):
        committed_shop_drop(shop)
    user.delete()
    provisioning.warm_pool_fill(size=TEST_POOL_SIZE)


@pytest.fixture
def shop(owner: User) -> ShopContext:
    return make_shop("citus-shop", owner=owner)


# --- provisioning ------------------------------------------------------------------


def test_the_template_and_the_spares_are_distributed_schemas(unblocked) -> None:
    spares = list(SpareSchema.objects.values_list("schema_name", flat=True))
    assert len(spares) >= TEST_POOL_SIZE
    nodes = placement.schema_nodes([provisioning.TEMPLATE_SCHEMA, *spares])
    assert set(nodes) == {provisioning.TEMPLATE_SCHEMA, *spares}
    assert set(nodes.values()) <= set(placement.workers())


def test_a_sign_up_takes_a_spare_and_keeps_its_worker(owner: User) -> None:
    spare = SpareSchema.objects.order_by("id").values_list("schema_name", flat=True).first()
    assert spare is not None
    where = _node_of(spare)
    started = time.monotonic()
    created = services.shop_create(owner=owner, name="Pooled", slug="citus-pooled")
    print(f"sign-up from the pool: {1000 * (time.monotonic() - started):.0f} ms")
    assert _node_of(created.schema_name) == where
    assert _tables(created.schema_name) == _tables(provisioning.TEMPLATE_SCHEMA)
    assert _node_of(spare) is None  # renamed, not copied


def test_a_sign_up_with_the_pool_empty_clones_the_template_onto_a_worker(
    owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provisioning, "spare_claim", lambda schema_name: False)
    started = time.monotonic()
    created = services.shop_create(owner=owner, name="Cloned", slug="citus-cloned")
    print(f"sign-up cloning the template: {1000 * (time.monotonic() - started):.0f} ms")
    assert _node_of(created.schema_name) in placement.workers()
    assert _tables(created.schema_name) == _tables(provisioning.TEMPLATE_SCHEMA)
    # And a refill clones spares the same way.
    before = SpareSchema.objects.count()
    started = time.monotonic()
    assert provisioning.warm_pool_fill(size=before + 2) == 2
    print(f"pool refill: {1000 * (time.monotonic() - started) / 2:.0f} ms per clone")


# --- a shop's requests --------------------------------------------------------------


def test_admin_writes_storefront_checkout_events_and_emails(shop: ShopContext) -> None:
    api = APIClient()
    admin = AdminClient(api, shop)
    product = sellable_product(admin, stock=5, price="20.00", title="Citus Mug")
    renamed = admin.patch(f"products/{product['id']}", {"title": "Citus Enamel Mug"})
    assert renamed.status_code == 200, renamed.content
    variant = product["variants"][0]["id"]

    # The product events refreshed the search documents (INSERT ... SELECT on the worker).
    use_shop(shop.shop)
    assert SearchDocument.objects.get(product_id=product["id"]).title == "Citus Enamel Mug"
    use_public()
    listed = storefront(api, shop, "get", "products?q=enamel")
    assert listed.status_code == 200, listed.content
    assert [item["title"] for item in listed.json()["results"]] == ["Citus Enamel Mug"]

    mail.outbox.clear()
    cart = cart_with(api, shop, variant, 2)
    two_phase_before = _two_phase_commits()
    response = checkout(api, shop, cart, key="citus-first")
    assert response.status_code == 201, response.content
    # Its outbox events, idempotency record and order count are in the shop's schema: the
    # checkout's transactions touch the shop's worker only, none commits in two phases.
    assert _two_phase_commits() <= two_phase_before
    order = response.json()
    assert order["status"] == "paid" and order["total"]["amount"] == "40.00"
    use_shop(shop.shop)
    events = OutboxEvent.objects.filter(schema_name=shop.shop.schema_name, type__startswith="order.")
    assert set(events.values_list("type", flat=True)) == {"order.created", "order.paid"}
    assert not events.filter(dispatched_at__isnull=True).exists()
    use_public()
    recipients = {address for message in mail.outbox for address in message.to}
    assert "ada@example.com" in recipients and shop.owner.email in recipients
    # The idempotent replay answers the same order.
    again = checkout(api, shop, cart, key="citus-first")
    assert again.status_code == 201 and again.json()["number"] == order["number"]


def _two_phase_commits() -> int:
    """Transactions Citus committed in two phases and has not cleaned up yet (pg_dist_transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_dist_transaction")
        return int(cursor.fetchone()[0])


def test_seed_demo_builds_the_demo_shop_and_its_search_documents(unblocked) -> None:
    """seed_demo refreshes search documents with INSERT ... SELECT (the time as a parameter)."""
    from catalog.management.commands.seed_demo import DEMO_EMAIL
    from catalog.models import Product

    assert not Shop.objects.filter(slug="demo").exists(), "the cluster database has a demo shop already"
    try:
        call_command("seed_demo", stdout=StringIO())
        use_public()
        demo = Shop.objects.get(slug="demo")
        assert _node_of(demo.schema_name) in placement.workers()
        use_shop(demo)
        assert Product.objects.count() == SearchDocument.objects.count() > 0
    finally:
        use_public()
        for leftover in Shop.objects.filter(slug="demo"):
            committed_shop_drop(leftover)
        User.objects.filter(email=DEMO_EMAIL).delete()
        provisioning.warm_pool_fill(size=TEST_POOL_SIZE)


# --- migrations, backups ------------------------------------------------------------


def test_a_rolling_migration_reaches_shops_the_template_and_the_spares(shop: ShopContext, tmp_path) -> None:
    try:
        with override_settings(
            MIGRATION_MODULES={"catalog": rolling._probe_module(tmp_path, rolling.ADD_COLUMN)}
        ):
            call_command("migrate_schemas", interactive=False, verbosity=0, parallel=2, batch_size=1)
            use_public()
            spares = list(SpareSchema.objects.values_list("schema_name", flat=True))
            for schema in [shop.shop.schema_name, provisioning.TEMPLATE_SCHEMA, *spares]:
                assert rolling._has_probe_column(schema), schema
                assert rolling._probe_records(schema) == 1, schema
            # A clone of the migrated template has it too, on a worker.
            late = make_shop("citus-late", owner=shop.owner)
            assert rolling._has_probe_column(late.shop.schema_name)
            assert _node_of(late.shop.schema_name) is not None
    finally:
        rolling._probe_remove()


def test_backup_and_restore_a_shop_into_a_distributed_schema(shop: ShopContext, tmp_path: Path) -> None:
    api = APIClient()
    sellable_product(AdminClient(api, shop), title="Kept Mug")
    summary = backups.shop_backup(slug=shop.shop.slug, output=tmp_path / "shop.tar")
    schema = shop.shop.schema_name
    committed_shop_drop(shop.shop)
    assert _node_of(schema) is None

    restored = backups.shop_restore(path=summary.path)
    assert restored.schema_name == schema
    assert _node_of(schema) in placement.workers()
    listed = storefront(api, shop, "get", "products")
    assert [item["title"] for item in listed.json()["results"]] == ["Kept Mug"]


# --- moving shops while they serve ---------------------------------------------------


@pytest.fixture
def unlimited(settings: Any) -> None:
    """The load comes from one address: the storefront's per-client budget would answer 429."""
    settings.RATE_LIMIT_STOREFRONT_PER_MINUTE = 10**9


class Load:
    """
    Storefront requests against one shop from a few threads, counting failures: a
    new cart and an item in it (writes), the cart read back (a read the cache
    cannot answer) and the product list.
    """

    def __init__(self, ctx: ShopContext, variant: int, threads: int = 3) -> None:
        self.ctx, self.variant = ctx, variant
        self.stop = threading.Event()
        self.done = 0
        self.failures: list[Any] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self) -> None:
        api = APIClient()
        try:
            while not self.stop.is_set():
                cart = None
                for method, path, body, expected in (
                    ("post", "carts", None, 201),
                    ("post", "carts/{cart}/items", {"variant": self.variant, "quantity": 1}, 201),
                    ("get", "carts/{cart}", None, 200),
                    ("get", "products", None, 200),
                ):
                    response = storefront(api, self.ctx, method, path.format(cart=cart), body)
                    if path == "carts" and response.status_code == 201:
                        cart = response.json()["id"]
                    with self.lock:
                        self.done += 1
                        if response.status_code != expected:
                            self.failures.append((path, response.status_code, response.content[:200]))
        except Exception as error:  # an exception is a failed request too
            with self.lock:
                self.failures.append(repr(error))
        finally:
            connections.close_all()

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)


def test_shop_move_under_load_fails_no_request(shop: ShopContext, unlimited: None) -> None:
    api = APIClient()
    variant = sellable_product(AdminClient(api, shop), stock=100_000)["variants"][0]["id"]
    schema = shop.shop.schema_name
    source = _node_of(schema)
    assert source is not None
    output = StringIO()
    with Load(shop, variant) as load:
        time.sleep(1)
        started = time.monotonic()
        call_command("shop_move", shop=shop.shop.slug, stdout=output)
        seconds = time.monotonic() - started
        time.sleep(1)
    print(output.getvalue().strip())
    print(f"shop_move under load: {seconds:.1f} s, {load.done} requests, {len(load.failures)} failed")
    assert load.failures == []
    assert load.done > 10
    target = _node_of(schema)
    assert target is not None and target != source
    assert "Moved shop citus-shop to" in output.getvalue()

    # Named target, right back (Citus may still hold the old tables there); already
    # there; unknown worker; unknown shop.
    back = StringIO()
    call_command("shop_move", shop=shop.shop.slug, to=str(source), stdout=back)
    print(back.getvalue().strip())
    assert _node_of(schema) == source
    call_command("shop_move", shop=shop.shop.slug, to=str(source), stdout=output)
    assert "already" in output.getvalue()
    with pytest.raises(CommandError, match="not an active worker"):
        call_command("shop_move", shop=shop.shop.slug, to="127.0.0.1:1")
    with pytest.raises(CommandError, match="No shop"):
        call_command("shop_move", shop="no-such-shop")
    # It still serves after two moves.
    assert storefront(api, shop, "get", "products").status_code == 200


def test_shops_rebalance_moves_the_busiest_shops_to_the_idlest_worker(owner: User, unlimited: None) -> None:
    nodes = placement.workers()
    shops = [make_shop(f"citus-busy-{i}", owner=owner) for i in range(4)]
    api = APIClient()
    for number, ctx in enumerate(shops):
        admin = AdminClient(api, ctx)
        for _ in range(number + 1):  # shops of different sizes
            sellable_product(admin)
        call_command("shop_move", shop=ctx.shop.slug, to=str(nodes[0]), stdout=StringIO())
    # Everything else off the first worker, so only the test's shops weigh on it.
    for other in placement.shop_placements(measure="bytes"):
        if other.node == nodes[0] and not other.slug.startswith("citus-busy-"):
            call_command("shop_move", shop=other.slug, to=str(nodes[1]), stdout=StringIO())

    output = StringIO()
    call_command("shops_rebalance", by="bytes", dry_run=True, stdout=output)
    assert "(dry run)" in output.getvalue() and "Would move" in output.getvalue()
    assert {placement.schema_nodes([c.shop.schema_name])[c.shop.schema_name] for c in shops} == {nodes[0]}

    output = StringIO()
    with Load(shops[-1], sellable_product(AdminClient(api, shops[-1]))["variants"][0]["id"]) as load:
        call_command("shops_rebalance", by="bytes", max_moves=3, stdout=output)
    print(output.getvalue().strip())
    assert load.failures == []
    moved = [c for c in shops if _node_of(c.shop.schema_name) != nodes[0]]
    assert moved, output.getvalue()
    assert "moved in" in output.getvalue()

    # By queries: Citus' per-tenant statistics, when the cluster counts them.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('citus.stat_tenants_track')")
        tracking = cursor.fetchone()[0]
    output = StringIO()
    if tracking == "all":
        call_command("shops_rebalance", dry_run=True, stdout=output)
        assert "queries" in output.getvalue()
    else:
        with pytest.raises(CommandError, match="stat_tenants_track"):
            call_command("shops_rebalance", stdout=output)
