"""What one process or database session accumulates stays bounded as shops grow."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import override_settings

from config.celery import TENANT_CACHE_SIZE, StorefleetTask
from tenants import provisioning
from tenants.schemas import connections_recycle_over_budget, schemas_visited, use_public, use_schema
from tenants.tasks import warm_pool_refill


def _query_in(schema: str) -> None:
    use_schema(schema)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations")
    use_public()


def test_a_connection_past_its_schema_budget_is_closed_and_counts_afresh(
    django_db_setup, django_db_blocker
) -> None:
    with django_db_blocker.unblock():
        connection.close()
        _query_in("public")
        _query_in(provisioning.TEMPLATE_SCHEMA)
        assert schemas_visited() == 2
        _query_in(provisioning.TEMPLATE_SCHEMA)  # the same schema again counts once
        assert schemas_visited() == 2

        with override_settings(DB_CONN_MAX_SCHEMAS=2):
            connections_recycle_over_budget()
        assert connection.connection is not None  # at the budget, not past it

        with override_settings(DB_CONN_MAX_SCHEMAS=1):
            connections_recycle_over_budget()
        assert connection.connection is None  # closed: the next query opens a new session

        _query_in("public")
        assert schemas_visited() == 1

        with override_settings(DB_CONN_MAX_SCHEMAS=0):  # 0: never recycle
            _query_in(provisioning.TEMPLATE_SCHEMA)
            connections_recycle_over_budget()
        assert connection.connection is not None


@pytest.mark.django_db
def test_a_connection_in_a_transaction_is_never_closed(shop_a, shop_b) -> None:
    from tenants.schemas import use_shop

    for ctx in (shop_a, shop_b):
        use_shop(ctx.shop)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM catalog_product")
    assert schemas_visited() >= 2
    with override_settings(DB_CONN_MAX_SCHEMAS=1):
        connections_recycle_over_budget()
    assert connection.connection is not None
    assert connection.in_atomic_block


def test_workers_keep_a_bounded_number_of_shops() -> None:
    """tenant-schemas-celery's per-process cache of shops by schema is bounded (see config/celery.py)."""
    assert isinstance(warm_pool_refill, StorefleetTask)
    cache = StorefleetTask.tenant_cache()
    for i in range(TENANT_CACHE_SIZE + 500):
        cache.set(f"shop_{i}", object(), expire_seconds=0)
    storage = cache._SimpleCache__items
    assert len(storage) == TENANT_CACHE_SIZE
    assert "shop_0" not in storage and f"shop_{TENANT_CACHE_SIZE + 499}" in storage
    storage.clear()
