"""Provisioning: the Platform API call, slug rules, the warm pool and its fallback."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django_tenants.utils import schema_exists

from catalog.models import Product
from tenants import provisioning
from tenants.models import Domain, Membership, Shop, SpareSchema
from tests.conftest import PLATFORM, assert_problem, bearer, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def merchant():
    return make_user("merchant@example.com", "Mia Merchant")


def _create(api, user, **body):
    token = _token(user)
    return api.post("/api/platform/v1/shops", body, format="json", **PLATFORM, **bearer(token))


def _token(user) -> str:
    from rest_framework_simplejwt.tokens import RefreshToken

    return str(RefreshToken.for_user(user).access_token)


def test_create_shop_takes_a_spare_from_the_pool(api, merchant) -> None:
    spares_before = list(SpareSchema.objects.values_list("schema_name", flat=True))
    assert spares_before, "the session fixture fills the pool"

    response = _create(api, merchant, name="Cosy Socks", slug="cosy-socks", currency="GBP")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "cosy-socks"
    assert re.fullmatch(r"shop_cosy_socks_[0-9a-f]{8}", body["schema_name"])
    assert body["domain"] == "cosy-socks.localhost"
    assert body["status"] == "active"
    assert body["currency"] == "GBP"
    assert body["role"] == "owner"
    # The oldest spare was renamed, not a new schema migrated.
    assert SpareSchema.objects.count() == len(spares_before) - 1
    assert not schema_exists(spares_before[0])
    assert schema_exists(body["schema_name"])
    shop = Shop.objects.get(slug="cosy-socks")
    assert Domain.objects.get(tenant=shop).is_primary
    assert Membership.objects.get(shop=shop).role == "owner"
    # The new shop is usable at once, from its own host.
    assert api.get("/api/storefront/v1/shop", HTTP_HOST="cosy-socks.localhost").json()["name"] == "Cosy Socks"


def test_pool_empty_falls_back_to_cloning_the_template(api, merchant) -> None:
    SpareSchema.objects.all().delete()  # rolled back with the test

    response = _create(api, merchant, name="Clone", slug="clone-shop")

    assert response.status_code == 201, response.content
    shop = Shop.objects.get(slug="clone-shop")
    shop.activate()
    Product.objects.create(title="Works", slug="works")
    assert Product.objects.count() == 1
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {shop.schema_name}.django_migrations WHERE app = 'catalog'")
        assert cursor.fetchone()[0] >= 1


def test_cloned_and_pooled_schemas_have_the_template_tables(merchant) -> None:
    tables = _tables(provisioning.TEMPLATE_SCHEMA)
    assert "catalog_product" in tables
    spare = SpareSchema.objects.first().schema_name
    assert _tables(spare) == tables


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def test_warm_pool_fill_tops_up_to_target(merchant) -> None:
    before = SpareSchema.objects.count()
    added = provisioning.warm_pool_fill(size=before + 1)
    assert added == 1
    assert SpareSchema.objects.count() == before + 1
    assert provisioning.warm_pool_fill(size=before + 1) == 0


@pytest.mark.parametrize(
    ("slug", "status"),
    [
        ("ab", 400),
        ("a" * 41, 400),
        ("Upper", 400),
        ("under_score", 400),
        ("-dash", 400),
        ("dash-", 400),
        ("sp ace", 400),
        ("www", 400),
        ("admin", 400),
        ("api", 400),
        ("public", 400),
        ("static", 400),
    ],
)
def test_bad_or_reserved_slugs_are_refused(api, merchant, slug: str, status: int) -> None:
    shops_before = Shop.objects.count()
    spares_before = SpareSchema.objects.count()
    body = assert_problem(_create(api, merchant, name="X", slug=slug), status)
    assert "slug" in body.get("errors", {}) or body["code"] in ("slug_invalid", "slug_reserved")
    assert Shop.objects.count() == shops_before
    assert SpareSchema.objects.count() == spares_before


def test_duplicate_slug_is_a_409(api, merchant) -> None:
    assert _create(api, merchant, name="One", slug="taken").status_code == 201
    spares = SpareSchema.objects.count()
    body = assert_problem(_create(api, merchant, name="Two", slug="taken"), 409)
    assert body["code"] == "slug_taken"
    assert SpareSchema.objects.count() == spares


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "No slug"},
        {"slug": "no-name"},
        {"name": "X", "slug": 12345},
        {"name": "X", "slug": "fine-slug", "currency": "XXX"},
        {"name": "", "slug": "fine-slug"},
        {"name": "x" * 500, "slug": "fine-slug"},
        ["not", "an", "object"],
    ],
)
def test_bad_shop_input_changes_nothing(api, merchant, body) -> None:
    count = Shop.objects.count()
    assert_problem(
        _create(api, merchant, **body)
        if isinstance(body, dict)
        else api.post("/api/platform/v1/shops", body, format="json", **PLATFORM, **bearer(_token(merchant))),
        400,
    )
    assert Shop.objects.count() == count


def test_schema_name_is_never_taken_from_the_client(api, merchant) -> None:
    response = _create(api, merchant, name="Sneaky", slug="sneaky", schema_name="public")
    assert response.status_code == 201
    assert response.json()["schema_name"].startswith("shop_sneaky_")


def test_creating_a_shop_needs_a_user(api) -> None:
    assert_problem(
        api.post("/api/platform/v1/shops", {"name": "X", "slug": "xyz"}, format="json", **PLATFORM), 401
    )


def test_clones_keep_the_templates_constraint_names(merchant) -> None:
    """A cloned shop must match a migrated one, or later migrations that name a constraint fail on it."""
    provisioning.template_clone("_clone_names")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT n.nspname, c.conrelid::regclass::text, c.conname, c.contype FROM pg_constraint c
                   JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname IN (%s, %s)""",
                [provisioning.TEMPLATE_SCHEMA, "_clone_names"],
            )
            rows = cursor.fetchall()
        by_schema: dict[str, set[tuple[str, str, str]]] = {}
        for schema, table, name, kind in rows:
            by_schema.setdefault(schema, set()).add((table.split(".")[-1], name, kind))
        assert any(kind == "u" for _, _, kind in by_schema[provisioning.TEMPLATE_SCHEMA])
        assert by_schema["_clone_names"] == by_schema[provisioning.TEMPLATE_SCHEMA]
    finally:
        with connection.cursor() as cursor:
            cursor.execute('DROP SCHEMA IF EXISTS "_clone_names" CASCADE')


def test_a_clone_has_the_templates_structure_and_migration_records(merchant) -> None:
    """Replayed DDL (see provisioning._clone_script) rebuilds the template exactly, rows and sequences too."""
    from tests.perf.provisioning import schema_fingerprint

    def structure(schema: str) -> set[str]:
        # A partial index's predicate is re-parsed from its text, so PostgreSQL may print
        # the same condition differently (`= ANY (ARRAY[a::text, ...])` for
        # `= ANY ((ARRAY[a, ...])::text[])`): compare the predicates without casts and brackets.
        return {re.sub(r"::[a-z ]+(\[\])?|[()]", "", line) for line in schema_fingerprint(schema)}

    provisioning.template_clone("_clone_same")
    try:
        assert structure("_clone_same") == structure(provisioning.TEMPLATE_SCHEMA)
        assert len(schema_fingerprint("_clone_same")) == len(schema_fingerprint(provisioning.TEMPLATE_SCHEMA))
        with connection.cursor() as cursor:
            cursor.execute('SELECT max(id) FROM "_template".django_migrations')
            template_last = cursor.fetchone()[0]
            # The clone's identity sequence carries on after the copied rows.
            cursor.execute(
                """INSERT INTO "_clone_same".django_migrations (app, name, applied)
                   VALUES ('probe', 'probe', now()) RETURNING id"""
            )
            assert cursor.fetchone()[0] == template_last + 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute('DROP SCHEMA IF EXISTS "_clone_same" CASCADE')


def test_a_template_the_replayed_ddl_cannot_copy_is_cloned_by_clone_schema(merchant) -> None:
    """A view (or function, trigger, ...) in the template sends clones down django-tenants' clone_schema."""
    with connection.cursor() as cursor:
        cursor.execute('CREATE VIEW "_template".probe_view AS SELECT 1 AS one')
    # The replayable DDL is cached per template migration state; this change is not a migration.
    provisioning._clone_scripts.clear()
    try:
        provisioning.template_clone("_clone_view")
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('\"_clone_view\".probe_view') IS NOT NULL")
            assert cursor.fetchone()[0]
    finally:
        with connection.cursor() as cursor:
            cursor.execute('DROP VIEW IF EXISTS "_template".probe_view')
            cursor.execute('DROP SCHEMA IF EXISTS "_clone_view" CASCADE')
        provisioning._clone_scripts.clear()
