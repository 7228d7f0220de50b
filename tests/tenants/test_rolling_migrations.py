"""
migrate_schemas over many shops (tenants.migrating): skip, resume, parallel
workers, the SQL replay and the full-run fallback, template and spares too.

A throwaway migration is added to the catalog app from a temporary copy of its
migrations package (MIGRATION_MODULES), never to the app itself; each test
takes it back out of every schema, so the session's database is left as it was.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from tenants import migrating, provisioning
from tenants.models import SchemaMigrationState, Shop, SpareSchema, User
from tenants.schemas import use_public
from tests.conftest import TEST_POOL_SIZE, make_shop, make_user

SHOPS = 3
PROBE = "9001_probe"
ADD_COLUMN = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "{leaf}")]
    operations = [
        migrations.AddField("product", "probe_note", models.CharField(max_length=20, null=True)),
    ]
"""
RUN_PYTHON = """
from django.db import migrations, models


def mark(apps, schema_editor):
    schema_editor.execute("UPDATE catalog_product SET probe_note = 'python'")


class Migration(migrations.Migration):
    dependencies = [("catalog", "{leaf}")]
    operations = [
        migrations.AddField("product", "probe_note", models.CharField(max_length=20, null=True)),
        migrations.RunPython(mark, migrations.RunPython.noop),
    ]
"""


def _leaf() -> str:
    names = sorted(p.stem for p in (Path(__file__).parents[2] / "catalog" / "migrations").glob("0*.py"))
    return names[-1]


def _probe_module(tmp_path: Path, body: str) -> str:
    """A copy of catalog's migrations plus the probe, importable as a package of its own."""
    package = f"probe_migrations_{tmp_path.name.replace('-', '_')}"
    target = tmp_path / package
    shutil.copytree(Path(__file__).parents[2] / "catalog" / "migrations", target)
    (target / f"{PROBE}.py").write_text(textwrap.dedent(body.format(leaf=_leaf())))
    sys.path.insert(0, str(tmp_path))
    return package


def _has_probe_column(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = 'catalog_product' AND column_name = 'probe_note'",
            [schema],
        )
        return cursor.fetchone() is not None


def _probe_records(schema: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{schema}".django_migrations WHERE app = %s AND name = %s',
            ["catalog", PROBE],
        )
        return int(cursor.fetchone()[0])


def _all_schemas() -> list[str]:
    use_public()
    return (
        ["public", provisioning.TEMPLATE_SCHEMA]
        + list(SpareSchema.objects.values_list("schema_name", flat=True))
        + list(Shop.objects.values_list("schema_name", flat=True))
    )


def _probe_remove() -> None:
    """Take the probe out of every schema (column and record)."""
    use_public()
    with connection.cursor() as cursor:
        for schema in _all_schemas():
            if schema != "public":
                cursor.execute(f'ALTER TABLE "{schema}".catalog_product DROP COLUMN IF EXISTS probe_note')
            cursor.execute(
                f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s', ["catalog", PROBE]
            )
    SchemaMigrationState.objects.all().delete()
    migrating._plans.clear()
    provisioning._clone_scripts.clear()


@pytest.fixture
def shops(django_db_setup, django_db_blocker) -> Iterator[list[str]]:
    """SHOPS committed shops (the migration workers are other processes); removed afterwards."""
    with django_db_blocker.unblock():
        owner = make_user("rolling@example.com")
        made = [make_shop(f"rolling-{i}", owner=owner).shop for i in range(SHOPS)]
        provisioning.warm_pool_fill(size=TEST_POOL_SIZE)  # the sign-ups took the spares
        try:
            yield [shop.schema_name for shop in made]
        finally:
            _probe_remove()
            use_public()
            for shop in Shop.objects.filter(slug__startswith="rolling-"):
                shop.delete(force_drop=True)
            owner.delete()
            provisioning.warm_pool_fill(size=TEST_POOL_SIZE)


def test_a_new_migration_reaches_every_shop_the_template_and_the_spares_once(shops, tmp_path) -> None:
    with override_settings(MIGRATION_MODULES={"catalog": _probe_module(tmp_path, ADD_COLUMN)}):
        # Two processes, one shop per batch: the workers share the shops out.
        call_command("migrate_schemas", interactive=False, verbosity=0, parallel=2, batch_size=1)
        use_public()
        spares = list(SpareSchema.objects.values_list("schema_name", flat=True))
        assert spares
        for schema in [*shops, provisioning.TEMPLATE_SCHEMA, *spares]:
            assert _has_probe_column(schema), schema
            assert _probe_records(schema) == 1, schema
        fingerprint = migrating.migrations_fingerprint(migrating.migrations_expected())
        recorded = set(
            SchemaMigrationState.objects.filter(fingerprint=fingerprint).values_list("schema_name", flat=True)
        )
        assert set(shops) <= recorded

        # A shop made from the migrated template afterwards is complete too.
        late = make_shop("rolling-late", owner=User.objects.get(email="rolling@example.com"))
        assert _has_probe_column(late.shop.schema_name)


def test_shops_with_nothing_to_apply_are_skipped_from_the_record_or_one_query(shops) -> None:
    first = migrating.shops_migrate(jobs=1)
    assert not first.failed
    assert first.migrated == 0  # the shops were cloned complete
    assert first.skipped + first.recorded == first.shops

    # The record answers: not one query touches a shop's schema.
    with CaptureQueriesContext(connection) as queries:
        second = migrating.shops_migrate(jobs=1)
    assert (second.recorded, second.skipped, second.migrated) == (second.shops, 0, 0)
    assert not [q["sql"] for q in queries.captured_queries if any(f'"{s}"' in q["sql"] for s in shops)]

    # --restart checks every shop again, a batch per query, and finds nothing to do.
    with CaptureQueriesContext(connection) as queries:
        third = migrating.shops_migrate(jobs=1, restart=True, batch_size=100)
    assert (third.recorded, third.skipped, third.migrated) == (0, third.shops, 0)
    checks = [q["sql"] for q in queries.captured_queries if "django_migrations" in q["sql"]]
    assert len(checks) == 1
    assert all(f'"{schema}".django_migrations' in checks[0] for schema in shops)


def test_an_interrupted_run_resumes_from_the_record(shops, tmp_path) -> None:
    with override_settings(MIGRATION_MODULES={"catalog": _probe_module(tmp_path, ADD_COLUMN)}):
        fingerprint = migrating.migrations_fingerprint(migrating.migrations_expected())
        # As if a run had stopped after the first two shops: they are recorded as done.
        done, rest = shops[:2], shops[2:]
        SchemaMigrationState.objects.bulk_create(
            [SchemaMigrationState(schema_name=schema, fingerprint=fingerprint) for schema in done]
        )
        report = migrating.shops_migrate(jobs=2, batch_size=1)
        assert not report.failed
        assert report.recorded >= len(done)
        assert report.migrated == len(rest)
        # The recorded shops were not touched again (here that shows: the record was a fiction).
        assert not any(_has_probe_column(schema) for schema in done)
        assert all(_has_probe_column(schema) and _probe_records(schema) == 1 for schema in rest)


def test_a_plan_that_is_not_only_sql_gets_a_full_migration_run(shops, tmp_path) -> None:
    with override_settings(MIGRATION_MODULES={"catalog": _probe_module(tmp_path, RUN_PYTHON)}):
        report = migrating.shops_migrate(jobs=1)
        assert not report.failed
        assert report.migrated == report.shops
        for schema in shops:
            assert _has_probe_column(schema)
            assert _probe_records(schema) == 1


def test_a_shop_that_fails_is_reported_and_the_others_still_migrate(shops, tmp_path) -> None:
    use_public()
    with connection.cursor() as cursor:  # a column in the way: ADD COLUMN fails in this shop only
        cursor.execute(f'ALTER TABLE "{shops[1]}".catalog_product ADD COLUMN probe_note text')
    with override_settings(MIGRATION_MODULES={"catalog": _probe_module(tmp_path, ADD_COLUMN)}):
        report = migrating.shops_migrate(jobs=1)
        assert [schema for schema, _detail in report.failed] == [shops[1]]
        assert report.migrated == report.shops - 1
        assert _probe_records(shops[1]) == 0
        # It is not recorded as done, so the next run tries it again.
        fingerprint = migrating.migrations_fingerprint(migrating.migrations_expected())
        assert not SchemaMigrationState.objects.filter(schema_name=shops[1], fingerprint=fingerprint).exists()


@pytest.mark.django_db
def test_the_fingerprint_names_the_migration_graph(tmp_path) -> None:
    """A new migration anywhere changes the fingerprint, so no shop counts as done for it."""
    expected = migrating.migrations_expected()
    assert "catalog." + _leaf() in expected
    assert any(name.startswith("tenants.") for name in expected)  # shared apps are recorded too
    with override_settings(MIGRATION_MODULES={"catalog": _probe_module(tmp_path, ADD_COLUMN)}):
        with_probe = migrating.migrations_expected()
    assert set(with_probe) - set(expected) == {f"catalog.{PROBE}"}
    assert migrating.migrations_fingerprint(with_probe) != migrating.migrations_fingerprint(expected)
