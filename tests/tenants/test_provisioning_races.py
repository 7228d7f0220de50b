"""Provisioning under concurrency: committed data, real threads, each its own connection."""

from __future__ import annotations

import threading

from django.db import connections
from django_tenants.utils import schema_exists

from tenants import provisioning, services
from tenants.errors import SlugTaken
from tenants.models import Shop, SpareSchema
from tenants.schemas import use_public
from tests.conftest import TEST_POOL_SIZE, make_user


def test_concurrent_sign_ups_take_different_spares(django_db_setup, django_db_blocker) -> None:
    """SKIP LOCKED hands racing sign-ups different spares; all shops end up usable."""
    results: dict[str, str] = {}
    errors: list[BaseException] = []
    with django_db_blocker.unblock():
        owner = make_user("racer@example.com")
        provisioning.warm_pool_fill(size=TEST_POOL_SIZE)
        spares_before = SpareSchema.objects.count()

        def sign_up(slug: str) -> None:
            try:
                results[slug] = services.shop_create(owner=owner, name=slug, slug=slug).schema_name
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=sign_up, args=(f"racer-{i}",)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        try:
            assert not errors, errors
            assert sorted(schema.rsplit("_", 1)[0] for schema in results.values()) == [
                "shop_racer_0",
                "shop_racer_1",
                "shop_racer_2",
            ]
            assert all(schema_exists(schema) for schema in results.values())
            assert SpareSchema.objects.count() == spares_before - 3
        finally:
            use_public()
            for shop in Shop.objects.filter(slug__startswith="racer-"):
                shop.delete(force_drop=True)
            owner.delete()
            provisioning.warm_pool_fill(size=TEST_POOL_SIZE)


def test_racing_sign_ups_for_one_slug_create_one_shop(django_db_setup, django_db_blocker) -> None:
    outcomes: list[str] = []
    with django_db_blocker.unblock():
        owner = make_user("twin@example.com")
        provisioning.warm_pool_fill(size=TEST_POOL_SIZE)
        spares_before = SpareSchema.objects.count()
        barrier = threading.Barrier(2)

        def sign_up() -> None:
            try:
                barrier.wait(5)
                services.shop_create(owner=owner, name="Twin", slug="twin-shop")
                outcomes.append("created")
            except SlugTaken:
                outcomes.append("taken")
            finally:
                connections.close_all()

        threads = [threading.Thread(target=sign_up) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        try:
            assert sorted(outcomes) == ["created", "taken"]
            assert Shop.objects.filter(slug="twin-shop").count() == 1
            # The loser's spare went back to the pool with its rolled-back transaction.
            assert SpareSchema.objects.count() == spares_before - 1
        finally:
            use_public()
            for shop in Shop.objects.filter(slug="twin-shop"):
                shop.delete(force_drop=True)
            owner.delete()
            provisioning.warm_pool_fill(size=TEST_POOL_SIZE)
