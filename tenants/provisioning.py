"""
Shop schemas without migrations on the request path.

A template schema (`_template`) is migrated with every other schema. Spare
schemas are cloned from it ahead of time into a warm pool; a new shop takes a
spare by renaming it (`ALTER SCHEMA ... RENAME`, a few milliseconds). Only when
the pool is empty does the request clone the template itself (~200 ms of DDL),
which is slower but just as correct.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.conf import settings
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connection, transaction
from django_tenants.clone import CloneSchema
from django_tenants.migration_executors.base import run_migrations
from django_tenants.utils import schema_exists

from tenants.models import SpareSchema
from tenants.schemas import use_public

TEMPLATE_SCHEMA = "_template"
SPARE_PREFIX = "_spare_"
SHOP_SCHEMA_PREFIX = "shop_"
# Serialises pool refills across processes (arbitrary, fixed advisory-lock id).
POOL_LOCK_ID = 7_200_417


def schema_name_for_slug(slug: str) -> str:
    """Derive a shop's schema from its slug (slugs are `a-z0-9-`, so this is one-to-one)."""
    return SHOP_SCHEMA_PREFIX + slug.replace("-", "_")


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def schema_migrate(schema_name: str, *, verbosity: int = 0) -> None:
    """Apply all tenant migrations to one schema (used for the template and by migrate_schemas)."""
    parser = MigrateCommand().create_parser("manage.py", "migrate")
    options = {
        **vars(parser.parse_args([])),
        "verbosity": verbosity,
        "interactive": False,
        "skip_checks": True,
    }
    run_migrations(args=[], options=options, executor_codename="pool", schema_name=schema_name)
    use_public()


def template_ensure() -> None:
    """
    Create and migrate the template schema if it is missing. It is built under a
    scratch name and renamed when complete, so a failed build never leaves a
    half-migrated template to clone.
    """
    if schema_exists(TEMPLATE_SCHEMA):
        return
    scratch = TEMPLATE_SCHEMA + "_build"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {_quote(scratch)} CASCADE")
        cursor.execute(f"CREATE SCHEMA {_quote(scratch)}")
    schema_migrate(scratch)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER SCHEMA {_quote(scratch)} RENAME TO {_quote(TEMPLATE_SCHEMA)}")


def clone_function_install() -> None:
    """
    (Re)create django-tenants' `clone_schema` SQL function. Done once per
    migration run, not per clone: recreating it on every clone grows the
    backend's memory (each clone got slower on a long-lived connection) and
    locks the function until the cloning transaction commits, which
    serialised concurrent sign-ups exactly when the pool ran dry.
    """
    CloneSchema()._create_clone_schema_function()


def template_clone(new_schema_name: str) -> None:
    """Create `new_schema_name` as a copy of the template (tables, indexes, migration records)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regnamespace(%s) IS NOT NULL, to_regproc('public.clone_schema') IS NOT NULL",
            [TEMPLATE_SCHEMA],
        )
        template_exists, function_exists = cursor.fetchone()
        if not template_exists:
            raise RuntimeError("The template schema is missing; run `manage.py migrate_schemas`.")
        if not function_exists:
            clone_function_install()
        cursor.execute("SELECT public.clone_schema(%s, %s, 'DATA')", [TEMPLATE_SCHEMA, new_schema_name])
        _unique_constraint_names_restore(cursor, TEMPLATE_SCHEMA, new_schema_name)


# clone_schema writes multi-column UNIQUE constraints without their names, so
# PostgreSQL names them itself (x_a_b_key). A later migration that drops or alters
# the constraint by its Django name would then fail on every cloned shop. Give
# each clone the template's names back (renaming a constraint renames its index).
_MISNAMED_UNIQUE_SQL = """
SELECT cloned_table.relname, cloned.conname, original.conname
FROM pg_constraint original
JOIN pg_class original_table ON original_table.oid = original.conrelid
JOIN pg_namespace original_schema ON original_schema.oid = original_table.relnamespace
JOIN pg_namespace cloned_schema ON cloned_schema.nspname = %s
JOIN pg_class cloned_table
  ON cloned_table.relnamespace = cloned_schema.oid AND cloned_table.relname = original_table.relname
JOIN pg_constraint cloned
  ON cloned.conrelid = cloned_table.oid AND cloned.contype = original.contype
  AND cloned.conkey = original.conkey
WHERE original_schema.nspname = %s AND original.contype = 'u' AND cloned.conname <> original.conname
"""


def _unique_constraint_names_restore(cursor: Any, template: str, clone: str) -> None:
    cursor.execute(_MISNAMED_UNIQUE_SQL, [clone, template])
    for table, cloned_name, original_name in cursor.fetchall():
        cursor.execute(
            f"ALTER TABLE {_quote(clone)}.{_quote(table)} RENAME CONSTRAINT {_quote(cloned_name)} "
            f"TO {_quote(original_name)}"
        )


def slug_lock(slug: str) -> None:
    """Hold a transaction-scoped lock on a slug until the caller's transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"shop-slug:{slug}"])


def spare_claim(schema_name: str) -> bool:
    """
    Rename a spare schema from the pool to `schema_name`; False if the pool is empty.

    Must run inside the caller's transaction, so a failed provisioning puts the
    spare back. SKIP LOCKED lets concurrent sign-ups take different spares.
    """
    spare = SpareSchema.objects.select_for_update(skip_locked=True).order_by("id").first()
    if spare is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER SCHEMA {_quote(spare.schema_name)} RENAME TO {_quote(schema_name)}")
    spare.delete()
    return True


@contextmanager
def pool_lock(*, wait: bool) -> Iterator[psycopg.Connection[Any] | None]:
    """
    Hold the warm pool's advisory lock for the block, on a connection of its own:
    Django's connection is closed by each migration run, which would drop a
    session lock taken on it. Yields None when `wait` is False and another
    process holds the lock.
    """
    params = connection.settings_dict
    with psycopg.connect(
        dbname=params["NAME"],
        user=params.get("USER") or None,
        password=params.get("PASSWORD") or None,
        host=params.get("HOST") or None,
        port=params.get("PORT") or None,
        autocommit=True,
    ) as lock_connection:
        if wait:
            lock_connection.execute("SELECT pg_advisory_lock(%s)", [POOL_LOCK_ID])
        else:
            row = lock_connection.execute("SELECT pg_try_advisory_lock(%s)", [POOL_LOCK_ID]).fetchone()
            if not row or not row[0]:
                yield None
                return
        try:
            yield lock_connection
        finally:
            lock_connection.execute("SELECT pg_advisory_unlock(%s)", [POOL_LOCK_ID])


def warm_pool_fill(*, size: int | None = None) -> int:
    """Clone spares until the pool holds `size` (WARM_POOL_SIZE); return how many were added."""
    target = settings.WARM_POOL_SIZE if size is None else size
    use_public()
    with pool_lock(wait=False) as locked:
        if locked is None:
            return 0  # another process is refilling or migrating the pool
        template_ensure()
        added = 0
        while SpareSchema.objects.count() < target:
            name = SPARE_PREFIX + secrets.token_hex(6)
            with transaction.atomic():
                template_clone(name)
                SpareSchema.objects.create(schema_name=name)
            added += 1
        return added


def pool_migrate(*, verbosity: int = 1) -> None:
    """
    Migrate the template and every spare, holding the pool lock so no refill
    clones a template that is mid-migration. Each spare's row is locked while
    it migrates, so a sign-up (which claims with SKIP LOCKED) takes another
    spare or clones the template instead of renaming one under the migration.
    """
    with pool_lock(wait=True) as lock_connection:
        assert lock_connection is not None
        clone_function_install()
        template_ensure()
        schema_migrate(TEMPLATE_SCHEMA, verbosity=verbosity)
        for spare in SpareSchema.objects.order_by("id").values_list("schema_name", flat=True):
            with lock_connection.transaction():
                row = lock_connection.execute(
                    "SELECT 1 FROM public.tenants_spareschema WHERE schema_name = %s FOR UPDATE SKIP LOCKED",
                    [spare],
                ).fetchone()
                if row is not None:  # not claimed meanwhile
                    schema_migrate(spare, verbosity=verbosity)
