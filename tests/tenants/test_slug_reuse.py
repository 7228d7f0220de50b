"""
A deleted shop's slug may be taken again, but never its schema: the new shop's
schema (and so its `tenants/{schema}/` files, `{schema}:` Redis keys and the
tasks queued under its name) has a random suffix of its own.
"""

from __future__ import annotations

from typing import Any

import pytest

from tenants import storage
from tenants.models import ShopExport
from tests.conftest import PLATFORM, assert_problem, bearer, make_user

pytestmark = pytest.mark.django_db


def _shops(api: Any, token: str, method: str, path: str = "", body: Any = None) -> Any:
    return getattr(api, method)(
        f"/api/platform/v1/shops{path}", body, format="json", **PLATFORM, **bearer(token)
    )


def _token(user: Any) -> str:
    from rest_framework_simplejwt.tokens import RefreshToken

    return str(RefreshToken.for_user(user).access_token)


def test_a_reused_slug_gets_a_schema_and_files_of_its_own(
    api: Any, media_root: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first_owner, second_owner = make_user("first@example.com"), make_user("second@example.com")
    created = _shops(api, _token(first_owner), "post", body={"name": "Again", "slug": "again"})
    assert created.status_code == 201, created.content
    first_schema = created.json()["schema_name"]
    with django_capture_on_commit_callbacks(execute=True):
        deleted = _shops(api, _token(first_owner), "delete", "/again", {"confirm": "again"})
    assert deleted.status_code == 202, deleted.content
    kept = ShopExport.objects.get(pk=deleted.json()["export"]["id"])
    assert kept.key.startswith(f"tenants/{first_schema}/")
    assert storage.object_stat(kept.key) is not None

    # The slug is free again, for anyone.
    again = _shops(api, _token(second_owner), "post", body={"name": "Again", "slug": "again"})
    assert again.status_code == 201, again.content
    second_schema = again.json()["schema_name"]
    # Before: both were shop_again, so the new shop's files shared the old shop's folder (its
    # kept export included) and tasks still queued for the old shop ran in the new one.
    assert second_schema != first_schema
    assert not kept.key.startswith(f"tenants/{second_schema}/")

    # Deleting the second shop leaves the first one's kept export alone.
    with django_capture_on_commit_callbacks(execute=True):
        gone = _shops(api, _token(second_owner), "delete", "/again", {"confirm": "again"})
    assert gone.status_code == 202
    assert storage.object_stat(kept.key) is not None
    assert_problem(_shops(api, _token(second_owner), "get", "/again"), 404)
