"""
backup_shop / restore_shop: a shop backed up here is restored into a fresh
database (migrated by migrate_schemas) and served from it; bad input changes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from tenants.models import Domain, Shop
from tests.catalog.helpers import AdminClient, product_body
from tests.conftest import PASSWORD, PLATFORM, ShopContext


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-4000:])
    return result


@pytest.fixture
def fresh_database() -> Iterator[dict[str, str]]:
    """An empty database beside the test database, and the environment of a process using it."""
    params = connection.settings_dict
    name = f"{params['NAME']}_restore"
    admin = psycopg.connect(
        dbname="postgres", user=params["USER"], host=params["HOST"], port=params["PORT"], autocommit=True
    )
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{params['USER']}@{params['HOST']}:{params['PORT']}/{name}",
        "STOREFLEET_TESTING": "1",  # the tests' Redis database and key prefix, the tests' hasher
        "WARM_POOL_SIZE": "0",
        "LOG_LEVEL": "WARNING",
    }
    try:
        yield env
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


SERVE = """
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.test import Client
client = Client()
host, email, password = {host!r}, {email!r}, {password!r}
listing = client.get("/api/storefront/v1/products", HTTP_HOST=host)
detail = client.get("/api/storefront/v1/products/tee-restored", HTTP_HOST=host)
token = client.post("/api/platform/v1/auth/token", {{"email": email, "password": password}},
                    content_type="application/json", HTTP_HOST={platform!r})
admin = client.get("/api/admin/v1/products", HTTP_HOST=host,
                   HTTP_AUTHORIZATION="Bearer " + token.json().get("access", ""))
print(json.dumps({{
    "listing": [listing.status_code, listing.json()],
    "detail": [detail.status_code, detail.json()],
    "token": token.status_code,
    "admin": [admin.status_code, admin.json()],
}}))
"""


def test_a_shop_restored_into_a_fresh_database_serves_its_products(
    committed_shop: ShopContext, django_db_blocker, tmp_path: Path, fresh_database: dict[str, str]
) -> None:
    from rest_framework.test import APIClient

    backup = tmp_path / "committed.shop-backup.tar"
    with django_db_blocker.unblock():
        admin = AdminClient(APIClient(), committed_shop)
        for title in ("Tee Restored", "Mug Restored"):
            assert admin.post("products", product_body(title)).status_code == 201, title
        call_command("backup_shop", "--shop", committed_shop.shop.slug, "--output", str(backup))
    with tarfile.open(backup) as archive:
        assert sorted(archive.getnames()) == ["manifest.json", "public.json", "schema.dump"]
        manifest = json.load(archive.extractfile("manifest.json"))
    assert manifest["schema_name"] == committed_shop.shop.schema_name and manifest["migrations"]

    manage("migrate_schemas", "--noinput", env=fresh_database)
    restored = manage("restore_shop", "--input", str(backup), env=fresh_database)
    assert f"served at {committed_shop.host}" in restored.stdout

    served = subprocess.run(
        [
            sys.executable,
            "-c",
            SERVE.format(
                host=committed_shop.host,
                email=committed_shop.owner.email,
                password=PASSWORD,
                platform=PLATFORM["HTTP_HOST"],
            ),
        ],
        cwd=settings.BASE_DIR,
        env=fresh_database,
        capture_output=True,
        text=True,
    )
    assert served.returncode == 0, served.stderr[-4000:]
    answers = json.loads(served.stdout.strip().splitlines()[-1])
    status, listing = answers["listing"]
    assert status == 200
    assert sorted(p["title"] for p in listing["results"]) == ["Mug Restored", "Tee Restored"]
    status, detail = answers["detail"]
    assert status == 200 and detail["variants"][0]["price"]["amount"] == "39.90"
    assert answers["token"] == 200  # the owner's password came along
    status, products = answers["admin"]
    assert status == 200 and len(products["results"]) == 2  # and their membership

    # A second restore into the same database is refused and changes nothing.
    again = subprocess.run(
        [sys.executable, "manage.py", "restore_shop", "--input", str(backup)],
        cwd=settings.BASE_DIR,
        env=fresh_database,
        capture_output=True,
        text=True,
    )
    assert again.returncode != 0 and "already exists" in again.stderr


def fake_backup(path: Path, manifest: dict) -> None:
    """A backup file with this manifest, an empty public part and no real dump."""
    with tarfile.open(path, "w") as archive:
        parts: tuple[tuple[str, dict], ...] = (
            ("manifest.json", manifest),
            ("public.json", {"domains": []}),
            ("schema.dump", {}),
        )
        for name, data in parts:
            member = path.parent / name
            member.write_text(json.dumps(data))
            archive.add(member, arcname=name)


@pytest.mark.django_db
def test_restoring_over_an_existing_shop_is_refused(shop_a: ShopContext, tmp_path: Path) -> None:
    backup = tmp_path / "alpha.tar"
    manifest = {"format": "storefleet-shop-backup", "version": 1, "slug": "alpha", "migrations": []}
    manifest["schema_name"] = shop_a.shop.schema_name
    fake_backup(backup, manifest)
    shops = Shop.objects.count()
    with pytest.raises(CommandError, match="already exists"):
        call_command("restore_shop", "--input", str(backup))
    assert Shop.objects.count() == shops and Domain.objects.filter(tenant=shop_a.shop).count() == 1


@pytest.mark.django_db
def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar file at all")
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("restore_shop", "--input", str(junk))
    with pytest.raises(CommandError, match="No such file"):
        call_command("restore_shop", "--input", str(tmp_path / "missing.tar"))


@pytest.mark.django_db
def test_a_backup_of_an_unknown_shop_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No shop"):
        call_command("backup_shop", "--shop", "nope", "--output", str(tmp_path / "x.tar"))
    assert not list(tmp_path.iterdir())


@pytest.mark.django_db
def test_a_backup_from_newer_code_is_refused(shop_a: ShopContext, tmp_path: Path) -> None:
    backup = tmp_path / "newer.tar"
    manifest = {
        "format": "storefleet-shop-backup",
        "version": 1,
        "slug": "newer",
        "schema_name": "shop_newer",
        "migrations": [["catalog", "0999_from_the_future"]],
    }
    fake_backup(backup, manifest)
    with pytest.raises(CommandError, match="newer code"):
        call_command("restore_shop", "--input", str(backup))
    assert not Shop.objects.filter(slug="newer").exists()
