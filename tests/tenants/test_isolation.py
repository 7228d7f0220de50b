"""
No path leaks one shop's rows into another's request: a reused connection, a
savepoint rollback (django-tenants issue #1262), the host cache, a Celery task.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from celery import shared_task
from django.db import IntegrityError, connection, transaction

from catalog.models import Product
from tenants.schemas import current_schema, use_public, use_shop
from tests.conftest import ShopContext, bearer, make_shop


def search_path() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        return str(cursor.fetchone()[0])


def product_titles() -> list[str]:
    return list(Product.objects.order_by("id").values_list("title", flat=True))


@pytest.mark.django_db
def test_savepoint_rollback_never_leaves_the_connection_on_another_shop(
    shop_a: ShopContext, shop_b: ShopContext
) -> None:
    use_shop(shop_a.shop)
    Product.objects.create(title="Alpha only", slug="alpha-only")
    with transaction.atomic():
        use_shop(shop_b.shop)
        assert product_titles() == []  # SET search_path to B is issued inside this block
        try:
            with transaction.atomic():
                use_shop(shop_a.shop)
                Product.objects.create(title="dup", slug="alpha-only")  # IntegrityError in A
        except IntegrityError:
            pass
        # The savepoint rollback undid the SET to A in PostgreSQL. The connection
        # says A; the next query must really run in A, not in B left over.
        assert current_schema() == shop_a.shop.schema_name
        assert product_titles() == ["Alpha only"]
        assert search_path().startswith(shop_a.shop.schema_name)

        use_shop(shop_b.shop)
        try:
            with transaction.atomic():
                product_titles()
                raise RuntimeError("roll back after a SET to B inside the savepoint")
        except RuntimeError:
            pass
        assert product_titles() == []
        assert search_path().startswith(shop_b.shop.schema_name)


@pytest.mark.django_db
def test_a_full_rollback_resets_the_cached_search_path(shop_a: ShopContext, shop_b: ShopContext) -> None:
    use_shop(shop_a.shop)
    Product.objects.create(title="Alpha", slug="alpha")
    try:
        with transaction.atomic():
            use_shop(shop_b.shop)
            assert product_titles() == []
            raise RuntimeError
    except RuntimeError:
        pass
    assert product_titles() == []  # still B, really
    use_shop(shop_a.shop)
    assert product_titles() == ["Alpha"]


@pytest.mark.django_db
def test_one_connection_serving_requests_for_two_shops_follows_the_host(
    api, shop_a: ShopContext, shop_b: ShopContext
) -> None:
    use_shop(shop_a.shop)
    Product.objects.create(title="Alpha tee", slug="tee")
    use_shop(shop_b.shop)
    Product.objects.create(title="Bravo mug", slug="mug")
    use_public()

    for _ in range(3):
        for ctx, title in ((shop_a, "Alpha tee"), (shop_b, "Bravo mug")):
            response = api.get("/api/admin/v1/products", HTTP_HOST=ctx.host, **bearer(ctx.token()))
            assert [p["title"] for p in response.json()["results"]] == [title]
            assert search_path().startswith(ctx.shop.schema_name)


@pytest.mark.django_db
def test_cached_host_lookup_does_not_outlive_a_domain_change(api, shop_a: ShopContext) -> None:
    from tenants import routing

    assert api.get("/api/storefront/v1/shop", HTTP_HOST=shop_a.host).status_code == 200
    shop_a.shop.domains.all().delete()
    routing.host_cache_clear()
    assert api.get("/api/storefront/v1/shop", HTTP_HOST=shop_a.host).status_code == 404


# --- Celery ------------------------------------------------------------------

SEEN: dict[str, dict[str, Any]] = {}
SEEN_LOCK = threading.Lock()


@shared_task(name="tests.record_schema")
def record_schema(label: str) -> None:
    with SEEN_LOCK:
        schema = current_schema()
        SEEN[label] = {"schema": schema, "titles": product_titles() if schema != "public" else None}


def test_a_task_sent_from_a_shop_runs_in_that_shops_schema(
    committed_shop: ShopContext, django_db_blocker, worker
) -> None:
    SEEN.clear()
    with django_db_blocker.unblock():
        other = make_shop("committed-other")
        try:
            use_shop(committed_shop.shop)
            Product.objects.create(title="Committed A", slug="a")
            use_shop(other.shop)
            Product.objects.create(title="Committed B", slug="b")

            # Interleave: the worker's connection must switch for every task.
            for label, ctx in (("a1", committed_shop), ("b1", other), ("a2", committed_shop)):
                use_shop(ctx.shop)
                record_schema.delay(label)
            use_public()
            record_schema.delay("public")

            deadline = threading.Event()
            for _ in range(100):
                if len(SEEN) == 4:
                    break
                deadline.wait(0.1)
            assert SEEN["a1"] == {"schema": committed_shop.shop.schema_name, "titles": ["Committed A"]}
            assert SEEN["b1"] == {"schema": other.shop.schema_name, "titles": ["Committed B"]}
            assert SEEN["a2"] == SEEN["a1"]
            assert SEEN["public"]["schema"] == "public"
        finally:
            use_public()
            other.shop.delete(force_drop=True)
            other.owner.delete()
