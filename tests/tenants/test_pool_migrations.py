"""The template and warm-pool schemas migrate with the shops; cache keys carry the schema."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from tenants import provisioning
from tenants.models import SpareSchema
from tenants.schemas import use_public, use_shop
from tests.conftest import ShopContext


def _has_table(schema: str, table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f'"{schema}".{table}'])
        return cursor.fetchone()[0] is not None


def test_migrate_schemas_brings_spares_and_the_template_up_to_date(
    django_db_setup, django_db_blocker
) -> None:
    with django_db_blocker.unblock():
        use_public()
        spare = "_spare_behind"
        provisioning.template_clone(spare)
        SpareSchema.objects.create(schema_name=spare)
        try:
            # Put the spare behind: unapply the catalog app, as if it predated a migration.
            connection.set_schema(spare)
            call_command("migrate", "catalog", "zero", schema_name=spare, interactive=False, verbosity=0)
            use_public()
            assert not _has_table(spare, "catalog_product")

            call_command("migrate_schemas", interactive=False, verbosity=0)

            use_public()
            assert _has_table(spare, "catalog_product")
            assert _has_table(provisioning.TEMPLATE_SCHEMA, "catalog_product")
        finally:
            use_public()
            SpareSchema.objects.filter(schema_name=spare).delete()
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{spare}" CASCADE')


@pytest.mark.django_db
def test_cache_keys_start_with_the_shops_schema(shop_a: ShopContext, shop_b: ShopContext) -> None:
    use_shop(shop_a.shop)
    cache.set("storefront:shop", "alpha's", 30)
    use_shop(shop_b.shop)
    assert cache.get("storefront:shop") is None
    cache.set("storefront:shop", "bravo's", 30)
    use_shop(shop_a.shop)
    assert cache.get("storefront:shop") == "alpha's"
    keys = sorted(k.decode() for k in redis.Redis.from_url(settings.REDIS_URL).keys("*storefront:shop"))
    prefix = settings.TEST_RUN_ID
    assert keys == [
        f"{shop_a.shop.schema_name}:{prefix}:1:storefront:shop",
        f"{shop_b.shop.schema_name}:{prefix}:1:storefront:shop",
    ]
    cache.delete("storefront:shop")
    use_shop(shop_b.shop)
    cache.delete("storefront:shop")
