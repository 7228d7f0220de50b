"""
Shop schemas without migrations on the request path.

A template schema (`_template`) is migrated with every other schema. Spare
schemas are cloned from it ahead of time into a warm pool; a new shop takes a
spare by renaming it (`ALTER SCHEMA ... RENAME`, a few milliseconds). Only when
the pool is empty does the request clone the template itself (~200 ms of DDL),
which is slower but just as correct.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
    """
    Name a new shop's schema: its slug and a random suffix (`shop_cosy_socks_3f9a1c2e`).
    A slug is free again once its shop is deleted; the suffix keeps the next shop
    of that name apart from everything left under the old schema's name: its kept
    export under `tenants/{schema}/`, tasks still queued for it, Redis keys.
    """
    return f"{SHOP_SCHEMA_PREFIX}{slug.replace('-', '_')}_{secrets.token_hex(4)}"


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
        cursor.execute("SELECT to_regnamespace(%s) IS NOT NULL", [TEMPLATE_SCHEMA])
        if not cursor.fetchone()[0]:
            raise RuntimeError("The template schema is missing; run `manage.py migrate_schemas`.")
        script = _clone_script()
        if script is not None:
            # One statement per execute: Citus forwards each constraint and index of a
            # distributed schema to its worker as a prepared statement, which takes one
            # command only. Same statements, one round trip each on plain PostgreSQL.
            for statement in script.sql(new_schema_name):
                cursor.execute(statement)
            return
        # The template uses something the replayed DDL does not cover (a view, a
        # function, a trigger...): django-tenants' general clone_schema, slower
        # and slower as the database holds more shops (it scans information_schema).
        cursor.execute("SELECT to_regproc('public.clone_schema') IS NOT NULL")
        if not cursor.fetchone()[0]:
            clone_function_install()
        cursor.execute("SELECT public.clone_schema(%s, %s, 'DATA')", [TEMPLATE_SCHEMA, new_schema_name])
        _unique_constraint_names_restore(cursor, TEMPLATE_SCHEMA, new_schema_name)


# --- cloning by replaying the template's DDL ---------------------------------------
#
# django-tenants' clone_schema (plpgsql) rebuilds each column's definition through
# information_schema queries filtered by schema only, which scan the catalog of
# every shop: at 1,000 shops a clone took seconds, and it keeps growing. The
# template holds only tables, their indexes and constraints and identity
# sequences, so its DDL is read once per process (per template migration state)
# and replayed for each clone, one statement per round trip: CREATE TABLE ... (LIKE ...) for
# columns, NOT NULL, defaults, identity and CHECK constraints, then the primary,
# unique and foreign keys and the other indexes under the template's own names,
# then the template's rows (its migration records) and sequence positions.

_LIKE_OPTIONS = (
    "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED INCLUDING CONSTRAINTS "
    "INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS"
)
_SUPPORTED_SQL = """
SELECT
  (SELECT count(*) FROM pg_class WHERE relnamespace = t.oid AND relkind NOT IN ('r', 'i', 'S')),
  (SELECT count(*) FROM pg_proc WHERE pronamespace = t.oid),
  (SELECT count(*) FROM pg_type ty WHERE ty.typnamespace = t.oid AND ty.typrelid = 0 AND ty.typelem = 0),
  (SELECT count(*) FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
   WHERE c.relnamespace = t.oid AND NOT tg.tgisinternal),
  (SELECT count(*) FROM pg_class s WHERE s.relnamespace = t.oid AND s.relkind = 'S'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = s.oid AND d.deptype = 'i')),
  (SELECT count(*) FROM pg_attrdef ad JOIN pg_class c ON c.oid = ad.adrelid
   WHERE c.relnamespace = t.oid AND pg_get_expr(ad.adbin, ad.adrelid) LIKE '%%' || t.nspname || '%%'),
  (SELECT count(*) FROM pg_description ds JOIN pg_class c ON c.oid = ds.objoid
   WHERE ds.classoid = 'pg_class'::regclass AND c.relnamespace = t.oid AND ds.objsubid = 0),
  (SELECT count(*) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = t.oid)
FROM pg_namespace t WHERE t.nspname = %s
"""


@dataclass(frozen=True)
class _CloneScript:
    """The template's DDL with `{schema}` where the clone's quoted name goes."""

    key: tuple[Any, ...]
    statements: tuple[str, ...]

    def sql(self, schema_name: str) -> list[str]:
        quoted = _quote(schema_name)
        return [statement.replace("{schema}", quoted) for statement in self.statements]


_clone_scripts: dict[str, _CloneScript] = {}


def _clone_script() -> _CloneScript | None:
    """The replayable DDL of the template, cached while its migrations stay the same."""
    template = _quote(TEMPLATE_SCHEMA)
    with connection.cursor() as cursor:
        # Which migrations the template has is what decides its DDL.
        cursor.execute(
            f"SELECT t.oid, count(m.id), max(m.id) FROM pg_namespace t, {template}.django_migrations m "
            "WHERE t.nspname = %s GROUP BY t.oid",
            [TEMPLATE_SCHEMA],
        )
        key = tuple(cursor.fetchone() or ())
    cached = _clone_scripts.get(TEMPLATE_SCHEMA)
    if cached is not None and cached.key == key:
        return cached
    script = _clone_script_read(key)
    if script is not None:
        _clone_scripts[TEMPLATE_SCHEMA] = script
    return script


def _clone_script_read(key: tuple[Any, ...]) -> _CloneScript | None:
    # With an empty search_path every name comes back schema-qualified, and the
    # template's qualifier can be swapped for the clone's. The connection's own
    # search_path is put back afterwards (django-tenants remembers what it set).
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('search_path')")
        search_path = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('search_path', '', false)")
        try:
            return _clone_script_build(cursor, key)
        finally:
            cursor.execute("SELECT set_config('search_path', %s, false)", [search_path])


def _clone_script_build(cursor: Any, key: tuple[Any, ...]) -> _CloneScript | None:
    template = _quote(TEMPLATE_SCHEMA)

    def rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        cursor.execute(sql, params)
        return list(cursor.fetchall())

    row = rows("SELECT quote_ident(%s)", [TEMPLATE_SCHEMA])[0]
    qualifier = re.compile(r"(\bREFERENCES |\bON (?:ONLY )?)" + re.escape(row[0]) + r"\.")
    unsupported = rows(_SUPPORTED_SQL, [TEMPLATE_SCHEMA])[0]
    if unsupported is None or any(unsupported):
        return None
    tables = [
        row[0]
        for row in rows(
            "SELECT relname FROM pg_class WHERE relnamespace = to_regnamespace(%s) AND relkind = 'r' "
            "ORDER BY relname",
            [TEMPLATE_SCHEMA],
        )
    ]
    constraints = rows(
        "SELECT c.relname, con.conname, pg_get_constraintdef(con.oid), con.contype "
        "FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid "
        "WHERE c.relnamespace = to_regnamespace(%s) AND con.contype IN ('p', 'u', 'x', 'f') "
        "ORDER BY con.contype = 'f', c.relname, con.conname",
        [TEMPLATE_SCHEMA],
    )
    indexes = [
        row[0]
        for row in rows(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "JOIN pg_class ic ON ic.oid = i.indexrelid WHERE c.relnamespace = to_regnamespace(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid "
            "AND con.conrelid = i.indrelid) ORDER BY ic.relname",
            [TEMPLATE_SCHEMA],
        )
    ]
    filled = [
        table for table in tables if rows(f"SELECT EXISTS (SELECT 1 FROM {template}.{_quote(table)})")[0][0]
    ]
    identities = rows(
        "SELECT c.relname, a.attname, pg_get_serial_sequence(format('%%I.%%I', %s, c.relname), a.attname) "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.relnamespace = to_regnamespace(%s) AND c.relkind = 'r' AND a.attidentity <> '' "
        "AND a.attnum > 0 AND NOT a.attisdropped",
        [TEMPLATE_SCHEMA, TEMPLATE_SCHEMA],
    )

    statements = ["CREATE SCHEMA {schema}"]
    statements += [
        f"CREATE TABLE {{schema}}.{_quote(table)} (LIKE {template}.{_quote(table)} {_LIKE_OPTIONS})"
        for table in tables
    ]
    for table, name, definition, _kind in constraints:
        definition = qualifier.sub(lambda match: match.group(1) + "{schema}.", definition)
        statements.append(
            f"ALTER TABLE {{schema}}.{_quote(table)} ADD CONSTRAINT {_quote(name)} {definition}"
        )
    for definition in indexes:
        replaced, count = qualifier.subn(lambda match: match.group(1) + "{schema}.", definition, count=1)
        if count != 1:
            return None
        statements.append(replaced)
    for table in filled:
        statements.append(
            f"INSERT INTO {{schema}}.{_quote(table)} OVERRIDING SYSTEM VALUE "
            f"SELECT * FROM {template}.{_quote(table)}"
        )
        for column, sequence in [(c, q) for identity_table, c, q in identities if identity_table == table]:
            # Read the template's sequence itself: the pg_sequences view would
            # compute the position of every sequence of every shop.
            target = f"pg_get_serial_sequence('{{schema}}.{_quote(table)}', '{column}')"
            statements.append(f"SELECT setval({target}, s.last_value, s.is_called) FROM {sequence} s")
    return _CloneScript(key=key, statements=tuple(statements))


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


def _side_connection() -> psycopg.Connection[Any]:
    """A new autocommit connection to the app's database, beside Django's."""
    params = connection.settings_dict
    return psycopg.connect(
        dbname=params["NAME"],
        user=params.get("USER") or None,
        password=params.get("PASSWORD") or None,
        host=params.get("HOST") or None,
        port=params.get("PORT") or None,
        autocommit=True,
    )


@contextmanager
def pool_lock(*, wait: bool) -> Iterator[psycopg.Connection[Any] | None]:
    """
    Hold the warm pool's advisory lock for the block, on a connection of its own:
    Django's connection is closed by each migration run, which would drop a
    session lock taken on it. Yields None when `wait` is False and another
    process holds the lock.
    """
    with _side_connection() as lock_connection:
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
