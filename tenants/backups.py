"""
Back up one shop and restore it into any Storefleet database.

A backup is one tar file:

- `manifest.json`: format version, slug, schema, when, the source server's
  version and the migrations applied in the shop's schema;
- `schema.dump`: `pg_dump --format=custom --schema=<shop schema>` — every table,
  sequence, index and constraint of the shop exactly as PostgreSQL holds them
  (search vectors included), written with COPY, so large shops dump and restore
  at disk speed;
- `public.json`: the shop's rows in the public schema — the shop, its domains,
  its members (their users by e-mail, with password hashes) and its API keys
  (hashes only).

Why pg_dump and not a JSON dump of the models: it is exact (types, sequences,
constraint names, generated data) and fast, and pg_restore reads a dump made by
the same or an older PostgreSQL, so the file moves between databases, machines
and server upgrades. The public rows are JSON because they must be merged into a
database that already has other shops and users, with new ids. A backup taken
by older code restores into newer code: the schema is migrated forward after
the restore. One taken by newer code than the target knows is refused.

A shop's schema has no foreign keys into the public schema (audit records keep
the actor's id and label as they were), so a schema restores unchanged.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django_tenants.utils import schema_exists

from tenants.errors import BackupInvalid
from tenants.keys import redis_client
from tenants.models import ApiKey, DirectoryProfile, Domain, Membership, Shop, User
from tenants.provisioning import schema_migrate
from tenants.schemas import use_public

BACKUP_FORMAT = "storefleet-shop-backup"
BACKUP_VERSION = 1


@dataclass(frozen=True)
class BackupSummary:
    slug: str
    schema_name: str
    path: Path
    bytes: int


def _pg_environment() -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore from Django's settings (password in the environment)."""
    params = connection.settings_dict
    args = ["--dbname", str(params["NAME"])]
    if params.get("HOST"):
        args += ["--host", str(params["HOST"])]
    if params.get("PORT"):
        args += ["--port", str(params["PORT"])]
    if params.get("USER"):
        args += ["--username", str(params["USER"])]
    env = dict(os.environ)
    if params.get("PASSWORD"):
        env["PGPASSWORD"] = str(params["PASSWORD"])
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupInvalid(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return path


def _applied_migrations(schema_name: str) -> list[list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT app, name FROM {connection.ops.quote_name(schema_name)}.django_migrations ORDER BY id"
        )
        return [[app, name] for app, name in cursor.fetchall()]


def _row(instance: Any, exclude: set[str]) -> dict[str, Any]:
    """Concrete field values of a row (JSON-safe), without the primary key and the named fields."""
    row: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.primary_key or field.name in exclude or field.is_relation:
            continue
        value = field.value_from_object(instance)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)  # exactly as stored (coordinates); the model field parses it back
        row[field.name] = value
    return row


def _public_rows(shop: Shop) -> dict[str, Any]:
    memberships = Membership.objects.filter(shop=shop).select_related("user").order_by("id")
    directory = DirectoryProfile.objects.filter(shop=shop).first()
    return {
        "directory": None if directory is None else _row(directory, exclude=set()),
        "shop": _row(shop, exclude=set()),
        "domains": [
            _row(domain, exclude=set()) for domain in Domain.objects.filter(tenant=shop).order_by("id")
        ],
        "memberships": [
            {
                "role": membership.role,
                "created_at": membership.created_at.isoformat(),
                "user": _row(membership.user, exclude={"last_login", "is_superuser", "is_staff"}),
            }
            for membership in memberships
        ],
        "api_keys": [
            {**_row(key, exclude=set()), "created_by": key.created_by.email if key.created_by else None}
            for key in ApiKey.objects.filter(shop=shop).select_related("created_by").order_by("id")
        ],
    }


def shop_backup(*, slug: str, output: Path) -> BackupSummary:
    """Write a backup of the shop to `output` (a tar file); the shop keeps serving meanwhile."""
    use_public()
    shop = Shop.objects.filter(slug=slug).first()
    if shop is None:
        raise BackupInvalid(f"No shop with the slug {slug!r}.")
    args, env = _pg_environment()
    server_version = connection.cursor().connection.info.server_version
    manifest = {
        "format": BACKUP_FORMAT,
        "version": BACKUP_VERSION,
        "slug": shop.slug,
        "schema_name": shop.schema_name,
        "created_at": timezone.now().isoformat(),
        "server_version": server_version,
        "migrations": _applied_migrations(shop.schema_name),
    }
    public = _public_rows(shop)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="storefleet-backup-") as scratch:
        dump = Path(scratch) / "schema.dump"
        # One snapshot of the schema; the shop's tables are read, never locked against writes.
        result = subprocess.run(
            [
                _tool("pg_dump"),
                *args,
                "--format=custom",
                "--schema",
                shop.schema_name,
                "--no-owner",
                "--no-privileges",
                "--file",
                str(dump),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BackupInvalid(f"pg_dump failed: {result.stderr.strip()}")
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            for name, data in (
                ("manifest.json", json.dumps(manifest, indent=2).encode()),
                ("public.json", json.dumps(public, indent=2).encode()),
            ):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = int(timezone.now().timestamp())
                archive.addfile(info, io.BytesIO(data))
            archive.add(dump, arcname="schema.dump")
        partial.replace(output)  # a failed backup never leaves a file that looks complete
    return BackupSummary(shop.slug, shop.schema_name, output, output.stat().st_size)


def _read_backup(path: Path, scratch: Path) -> tuple[dict[str, Any], dict[str, Any], Path]:
    try:
        with tarfile.open(path, "r") as archive:
            names = set(archive.getnames())
            if not {"manifest.json", "public.json", "schema.dump"} <= names:
                raise BackupInvalid(f"{path} is not a Storefleet shop backup.")
            manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
            public = json.load(archive.extractfile("public.json"))  # type: ignore[arg-type]
            archive.extract("schema.dump", scratch, filter="data")
    except (tarfile.TarError, json.JSONDecodeError, OSError) as exc:
        raise BackupInvalid(f"{path} cannot be read as a shop backup: {exc}") from exc
    if manifest.get("format") != BACKUP_FORMAT or manifest.get("version") != BACKUP_VERSION:
        raise BackupInvalid(f"{path} is not a version {BACKUP_VERSION} Storefleet shop backup.")
    return manifest, public, scratch / "schema.dump"


def _check_target(manifest: dict[str, Any], public: dict[str, Any]) -> None:
    slug, schema = manifest["slug"], manifest["schema_name"]
    if Shop.objects.filter(slug=slug).exists() or Shop.objects.filter(schema_name=schema).exists():
        raise BackupInvalid(f"A shop {slug!r} already exists here; delete it first or restore elsewhere.")
    if schema_exists(schema):
        raise BackupInvalid(f"The schema {schema!r} already exists here.")
    taken = Domain.objects.filter(domain__in=[d["domain"] for d in public["domains"]])
    if taken.exists():
        raise BackupInvalid(
            f"Domains already in use here: {', '.join(taken.values_list('domain', flat=True))}."
        )
    known = {(app, name) for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations}
    unknown = [f"{app}.{name}" for app, name in manifest["migrations"] if (app, name) not in known]
    if unknown:
        raise BackupInvalid(
            "The backup was taken by newer code (migrations unknown here: "
            f"{', '.join(unknown[:5])}); restore it with that version."
        )


def _parse(row: dict[str, Any], model: type[Any]) -> dict[str, Any]:
    """Keep the fields this model has (backups from older or newer code), parsing date-times."""
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.name in row and not field.primary_key and not field.is_relation:
            value = row[field.name]
            if value is not None and field.get_internal_type() == "DateTimeField":
                value = datetime.fromisoformat(value)
            values[field.name] = value
    return values


def _public_restore(public: dict[str, Any]) -> Shop:
    shop = Shop(**_parse(public["shop"], Shop))
    shop.save()
    # auto_now_add fields are overwritten on insert; put the backed-up times back.
    Shop.objects.filter(pk=shop.pk).update(created_at=_parse(public["shop"], Shop)["created_at"])
    for domain in public["domains"]:
        Domain.objects.create(tenant=shop, **_parse(domain, Domain))
    users: dict[str, User] = {}
    for membership in public["memberships"]:
        fields = _parse(membership["user"], User)
        user = User.objects.filter(email=fields["email"]).first()
        if user is None:  # a member new to this database keeps their password
            user = User.objects.create(**fields)
        users[user.email] = user
        Membership.objects.create(shop=shop, user=user, role=membership["role"])
    for key in public["api_keys"]:
        created_by = (
            users.get(key.get("created_by") or "")
            or User.objects.filter(email=key.get("created_by") or "").first()
        )
        ApiKey.objects.create(shop=shop, created_by=created_by, **_parse(key, ApiKey))
    if public.get("directory"):  # backups from before the directory have none
        DirectoryProfile.objects.create(shop=shop, **_parse(public["directory"], DirectoryProfile))
    return shop


def _redis_keys_forget(schema_name: str) -> int:
    """Drop any Redis keys left under this schema's name (a deleted shop's cache or carts)."""
    client = redis_client()
    deleted = 0
    for key in client.scan_iter(match=f"{schema_name}:*", count=1000):
        deleted += int(client.delete(key))
    return deleted


_CITUS_SCHEMA_SHARDING = "citus.enable_schema_based_sharding"


def _schema_distribute_if_sharded(schema_name: str) -> bool:
    """
    Make a restored schema what a new shop's schema is on this database: on Citus
    with schema-based sharding, a distributed schema (its tables together on one
    worker); elsewhere nothing to do. Return whether it was distributed.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true) = 'on'", [_CITUS_SCHEMA_SHARDING])
        if not cursor.fetchone()[0]:
            return False
        cursor.execute("SELECT citus_schema_distribute(%s::regnamespace)", [schema_name])
    return True


def shop_restore(*, path: Path) -> Shop:
    """Restore a shop from a backup into this database; refuses if its slug, schema or domains are taken."""
    use_public()
    with tempfile.TemporaryDirectory(prefix="storefleet-restore-") as scratch:
        manifest, public, dump = _read_backup(path, Path(scratch))
        _check_target(manifest, public)
        schema = manifest["schema_name"]
        args, env = _pg_environment()
        # On Citus with schema-based sharding, pg_restore's CREATE SCHEMA would make a
        # distributed schema at once, whose tables then refuse the dump's ALTER TABLE
        # ... ADD GENERATED AS IDENTITY. So the schema is restored as a plain one and
        # distributed whole afterwards. Elsewhere the setting is an unused placeholder.
        env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c {_CITUS_SCHEMA_SHARDING}=off".strip()
        # --single-transaction: a failed restore leaves no half schema behind.
        result = subprocess.run(
            [
                _tool("pg_restore"),
                *args,
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                str(dump),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BackupInvalid(f"pg_restore failed: {result.stderr.strip()}")
    try:
        _schema_distribute_if_sharded(schema)
        with transaction.atomic():
            shop = _public_restore(public)
    except Exception:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {connection.ops.quote_name(schema)} CASCADE")
        raise
    # A backup from older code: apply what it lacks (a no-op when it is current).
    schema_migrate(schema)
    _redis_keys_forget(schema)
    from tenants.routing import host_cache_clear_everywhere

    host_cache_clear_everywhere()
    return shop
