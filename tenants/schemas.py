"""
Which schema the database connection is on. django-tenants adds these methods
to its connection wrapper; going through here keeps the call sites typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django.db import connection

if TYPE_CHECKING:
    from tenants.models import Shop


def _tenant_connection() -> Any:
    return cast(Any, connection)


def current_schema() -> str:
    """Return the schema the current connection is set to."""
    return str(_tenant_connection().schema_name)


def use_public() -> None:
    """Point the connection at the public schema."""
    _tenant_connection().set_schema_to_public()


def use_shop(shop: Shop) -> None:
    """Point the connection at a shop's schema (with public behind it on the search path)."""
    _tenant_connection().set_tenant(shop)


def use_schema(schema_name: str) -> None:
    """Point the connection at a schema by name (for spare, template and worker use)."""
    _tenant_connection().set_schema(schema_name)


def shop_schemas_with_table(table: str, schemas: Sequence[str] | None = None) -> list[str]:
    """
    The schemas of shops (these, or every shop) that have `table` in their own
    schema, sorted: how cross-shop scans name each shop's copy of a tenant table.
    """
    names = None if schemas is None else list(schemas)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.schema_name FROM public.tenants_shop s "
            "JOIN pg_namespace n ON n.nspname = s.schema_name "
            "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = %s AND c.relkind = 'r' "
            "WHERE %s::text[] IS NULL OR s.schema_name = ANY(%s::text[]) ORDER BY s.schema_name",
            [table, names, names],
        )
        return [row[0] for row in cursor.fetchall()]


def public_rows_move(model: Any, schema: str) -> int:
    """
    Move a shop's rows of a table in both public and the shop's schema (named by
    their `schema_name`) from public into the shop's copy, in one statement;
    return how many moved. Serial ids are left behind (the shop's table numbers
    its own); other keys are kept, and a row the shop has already is dropped.
    """
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(
        quote(field.column)
        for field in model._meta.concrete_fields
        if not (field.primary_key and field.get_internal_type().endswith("AutoField"))
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH moved AS (DELETE FROM public.{table} WHERE schema_name = %s RETURNING {columns}) "
            f"INSERT INTO {quote(schema)}.{table} ({columns}) "
            f"SELECT {columns} FROM moved ON CONFLICT DO NOTHING",
            [schema],
        )
        return cursor.rowcount


def table_here(model: Any, schema_editor: Any) -> bool:
    """
    In a migration of an app in both SHARED_APPS and TENANT_APPS: create the
    model's table in the connection's schema unless it has it (shops migrated
    before the app was a tenant app recorded its migrations without one);
    return whether it was created.
    """
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f"{quote(current_schema())}.{quote(model._meta.db_table)}"])
        (found,) = cursor.fetchone()
    if found is None:
        schema_editor.create_model(model)
    return found is None


def current_currency() -> str:
    """Return the currency of the shop the connection is set to (USD outside a shop)."""
    return str(getattr(_tenant_connection().tenant, "currency", "USD"))


# --- bounding what one database session accumulates ------------------------------
#
# A PostgreSQL backend caches the catalog entries (relations, attributes, indexes,
# plans) of every table it has touched, in every schema, and never gives them
# back while the session lives. With persistent connections (CONN_MAX_AGE, and
# Celery reusing its connection across tasks) a backend serving many shops grows
# by a few hundred kB per shop visited, without bound, whatever the connection's
# age. So each connection counts the distinct schemas it has run queries in, and
# is closed at the end of a request or task once it has visited more than
# DB_CONN_MAX_SCHEMAS of them; the next request opens a fresh session.

_VISITS = "storefleet_schemas_visited"


def _schema_visit_record(execute: Any, sql: Any, params: Any, many: bool, context: dict[str, Any]) -> Any:
    conn = context["connection"]
    visited = getattr(conn, _VISITS, None)
    if visited is not None:
        visited.add(conn.schema_name)
    return execute(sql, params, many, context)


def schema_visits_track(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: start counting this session's schemas."""
    setattr(connection, _VISITS, set())
    if _schema_visit_record not in connection.execute_wrappers:
        # First, not last: `connection.execute_wrapper()` blocks pop the last wrapper.
        connection.execute_wrappers.insert(0, _schema_visit_record)


def schemas_visited(conn: Any = None) -> int:
    """How many distinct schemas the current database session has run queries in."""
    return len(getattr(conn or connection, _VISITS, None) or ())


def connections_recycle_over_budget(**kwargs: Any) -> None:
    """
    Close every connection that has visited more schemas than
    DB_CONN_MAX_SCHEMAS (0 turns this off). Called when a request finishes and
    after each Celery task; never inside a transaction.
    """
    from django.conf import settings
    from django.db import connections

    budget = int(getattr(settings, "DB_CONN_MAX_SCHEMAS", 0))
    if budget <= 0:
        return
    for conn in connections.all(initialized_only=True):
        if schemas_visited(conn) > budget and not conn.in_atomic_block:
            conn.close()
