"""Idempotency-Key on POST: replay, another body, in flight, bad keys, expiry."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from tenants import services
from tenants.conventions import idempotency
from tenants.idempotency.models import IdempotencyRecord
from tenants.models import ApiKey
from tenants.schemas import current_schema, use_public, use_shop
from tests.conftest import ShopContext, assert_problem, bearer

URL = "/api/admin/v1/api-keys"
BODY = {"name": "ERP", "scopes": ["catalog:read"]}


def _post(api: APIClient, ctx: ShopContext, body: object, key: str | None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.post(URL, body, format="json", HTTP_HOST=ctx.host, **bearer(ctx.token()), **headers)


@pytest.mark.django_db
def test_same_key_same_body_replays_the_stored_response(api, shop_a: ShopContext) -> None:
    first = _post(api, shop_a, BODY, "order-42")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    # Key order and spacing do not make it another body.
    second = _post(api, shop_a, {"scopes": ["catalog:read"], "name": "ERP"}, "order-42")
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert ApiKey.objects.count() == 1


@pytest.mark.django_db
def test_same_key_other_body_is_422_and_changes_nothing(api, shop_a: ShopContext) -> None:
    _post(api, shop_a, BODY, "k1")
    body = assert_problem(_post(api, shop_a, {**BODY, "name": "Other"}, "k1"), 422)
    assert body["code"] == "idempotency_key_reused"
    assert ApiKey.objects.count() == 1


@pytest.mark.django_db
def test_without_a_key_each_post_acts(api, shop_a: ShopContext) -> None:
    _post(api, shop_a, BODY, None)
    _post(api, shop_a, BODY, None)
    assert ApiKey.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_bad_keys_are_400(api, shop_a: ShopContext, key: str) -> None:
    assert_problem(_post(api, shop_a, BODY, key), 400)
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_a_failed_request_releases_its_key(api, shop_a: ShopContext) -> None:
    assert_problem(_post(api, shop_a, {"name": "x", "scopes": []}, "retry-me"), 400)
    assert not IdempotencyRecord.objects.exists()
    assert _post(api, shop_a, {"name": "x", "scopes": ["catalog:read"]}, "retry-me").status_code == 201


@pytest.mark.django_db
def test_keys_are_scoped_per_shop(api, shop_a: ShopContext, shop_b: ShopContext) -> None:
    assert _post(api, shop_a, BODY, "shared").status_code == 201
    second = _post(api, shop_b, BODY, "shared")
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert ApiKey.objects.filter(shop=shop_b.shop).count() == 1


@pytest.mark.django_db
def test_records_expire_after_24_hours(api, shop_a: ShopContext) -> None:
    _post(api, shop_a, BODY, "old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = _post(api, shop_a, BODY, "old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert ApiKey.objects.count() == 2


@pytest.mark.django_db
def test_a_request_that_raced_a_committed_one_rolls_back_and_replays_it(
    api, shop_a: ShopContext, monkeypatch
) -> None:
    first = _post(api, shop_a, BODY, "raced")
    # As if the first committed between the second's look-up and its lock: the look-up finds nothing,
    # the second acts, and storing its response meets the first's.
    monkeypatch.setattr(idempotency, "_key_take", lambda scope: (True, None))
    second = _post(api, shop_a, BODY, "raced")
    assert second.status_code == 201 and second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert ApiKey.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_concurrent_requests_with_one_key_act_once(committed_shop: ShopContext, monkeypatch) -> None:
    """The second of two racing requests gets 409 while the first is in flight; the key acts once."""
    real_create = services.api_key_create
    entered = threading.Event()

    def slow_create(**kwargs):
        entered.set()
        time.sleep(1.0)
        return real_create(**kwargs)

    monkeypatch.setattr(services, "api_key_create", slow_create)
    results: dict[str, int] = {}

    def first() -> None:
        try:
            results["first"] = _post(APIClient(), committed_shop, BODY, "race").status_code
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    assert entered.wait(10)
    racing = _post(APIClient(), committed_shop, BODY, "race")
    thread.join(10)

    try:
        assert results["first"] == 201
        assert_problem(racing, 409)
        replay = _post(APIClient(), committed_shop, BODY, "race")
        assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
        assert ApiKey.objects.filter(shop=committed_shop.shop).count() == 1
    finally:
        ApiKey.objects.filter(shop=committed_shop.shop).delete()


@pytest.mark.django_db
def test_the_purge_reaches_every_shops_records_and_the_platforms(
    shop_a: ShopContext, shop_b: ShopContext
) -> None:
    """A shop's records live in its schema (its POSTs write nothing in public); the purge visits each."""
    old = timezone.now() - timedelta(hours=25)

    def record(key: str, created_at) -> None:
        stored = IdempotencyRecord.objects.create(
            schema_name=current_schema(),
            principal="p",
            key=key,
            method="POST",
            path="/x",
            fingerprint="f",
            status_code=201,
        )
        IdempotencyRecord.objects.filter(pk=stored.pk).update(created_at=created_at)

    for ctx in (shop_a, shop_b):
        use_shop(ctx.shop)
        record("old", old)
        record("new", timezone.now())
    use_public()
    record("old", old)
    assert idempotency.records_purge() == 3
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == []
    for ctx in (shop_a, shop_b):
        use_shop(ctx.shop)
        assert list(IdempotencyRecord.objects.values_list("schema_name", "key")) == [
            (ctx.shop.schema_name, "new")
        ]
    use_public()
