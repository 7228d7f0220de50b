"""
What scaling out relies on and can be checked here: a shop's schema has no foreign
key (or view) reaching another schema, so it can live on another node (a Citus
distributed schema, another pod) with only its public rows copied or reachable.
"""

from __future__ import annotations

import pytest
from django.db import connection

from tenants.provisioning import TEMPLATE_SCHEMA
from tests.conftest import ShopContext


@pytest.mark.django_db
def test_a_shop_schema_references_no_other_schema(shop_a: ShopContext) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT src.relname, con.conname, dst_ns.nspname, dst.relname
            FROM pg_constraint con
            JOIN pg_class src ON src.oid = con.conrelid
            JOIN pg_namespace src_ns ON src_ns.oid = src.relnamespace
            JOIN pg_class dst ON dst.oid = con.confrelid
            JOIN pg_namespace dst_ns ON dst_ns.oid = dst.relnamespace
            WHERE con.contype = 'f' AND src_ns.nspname = ANY(%s) AND dst_ns.nspname <> src_ns.nspname
            """,
            [[shop_a.shop.schema_name, TEMPLATE_SCHEMA]],
        )
        assert cursor.fetchall() == []
        cursor.execute(
            """
            SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relkind = 'r'
            """,
            [shop_a.shop.schema_name],
        )
        assert cursor.fetchone()[0] > 5  # the check looked at a real shop schema
        cursor.execute(
            "SELECT count(*) FROM pg_views WHERE schemaname = ANY(%s)",
            [[shop_a.shop.schema_name, TEMPLATE_SCHEMA]],
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_a_migration_adding_a_checked_column_names_its_constraint() -> None:
    """Citus refuses `ADD COLUMN ... CHECK (...)` unnamed; the named form means the same on PostgreSQL."""
    from django.db import models

    from catalog.models import Product

    field: models.Field[int, int] = models.PositiveIntegerField(default=0)
    field.set_attributes_from_name("probe_count")
    with connection.schema_editor(collect_sql=True) as editor:
        editor.add_field(Product, field)
    (add,) = [sql for sql in editor.collected_sql if "ADD COLUMN" in sql]
    assert 'CONSTRAINT "catalog_product_probe_count_check" CHECK ("probe_count" >= 0)' in add
    assert editor.sql_check_constraint == "CHECK (%(check)s)"  # put back for the next statement

    plain: models.Field[str | None, str | None] = models.CharField(max_length=5, null=True)
    plain.set_attributes_from_name("probe_note")
    with connection.schema_editor(collect_sql=True) as editor:
        editor.add_field(Product, plain)
    assert not [sql for sql in editor.collected_sql if "CONSTRAINT" in sql]
