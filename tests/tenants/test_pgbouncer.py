"""
Why Storefleet runs PgBouncer in session mode, and that session mode is safe.

django-tenants sends `SET search_path` once per shop switch and then trusts the
session to keep it. Under transaction pooling, another client's transactions
run on the same server connection in between: the first test shows what that
does (two Django connection wrappers sharing one PostgreSQL session, as two
clients share a server connection under transaction pooling: one reads the
other shop's rows). Under session pooling a server connection passes to the
next client only after `DISCARD ALL`, which the second test shows is enough.
When Debian's `pgbouncer` is installed, the last tests run the real thing with
docker/pgbouncer/pgbouncer.ini, squeezed to one server connection.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django_tenants.postgresql_backend.base import DatabaseWrapper

from tests.net import free_port

CONFIG = Path(settings.BASE_DIR) / "docker" / "pgbouncer" / "pgbouncer.ini"
ENTRYPOINT = Path(settings.BASE_DIR) / "docker" / "pgbouncer" / "entrypoint.sh"


def conninfo(**overrides: Any) -> dict[str, Any]:
    params = connection.settings_dict
    return {
        "dbname": params["NAME"],
        "user": params["USER"],
        "host": params["HOST"],
        "port": params["PORT"],
        **overrides,
    }


@pytest.fixture
def two_schemas(db: None, django_db_blocker) -> Iterator[None]:
    """Committed schemas sim_a and sim_b, each with a `marker` table naming its shop."""
    with django_db_blocker.unblock(), psycopg.connect(**conninfo(), autocommit=True) as admin:
        for name in ("sim_a", "sim_b"):
            admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
            admin.execute(f"CREATE SCHEMA {name}")
            admin.execute(f"CREATE TABLE {name}.marker (shop text)")
            admin.execute(f"INSERT INTO {name}.marker VALUES ('{name}')")
        try:
            yield
        finally:
            for name in ("sim_a", "sim_b"):
                admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


class SharedSessionWrapper(DatabaseWrapper):
    """A Django connection whose PostgreSQL session may be another's (a pooled server connection)."""

    shared: list[psycopg.Connection[Any] | None]

    def get_new_connection(self, conn_params: dict[str, Any]) -> psycopg.Connection[Any]:
        if self.shared[0] is None:
            self.shared[0] = super().get_new_connection(conn_params)
        return self.shared[0]  # type: ignore[return-value]


@pytest.fixture
def server(django_db_blocker) -> Iterator[list[psycopg.Connection[Any] | None]]:
    """One PostgreSQL session, opened by the first client that needs it."""
    shared: list[psycopg.Connection[Any] | None] = [None]
    with django_db_blocker.unblock():
        yield shared
        if shared[0] is not None:
            shared[0].close()


def client(shared: list[psycopg.Connection[Any] | None], alias: str) -> SharedSessionWrapper:
    wrapper = SharedSessionWrapper({**connection.settings_dict, "CONN_MAX_AGE": 0}, alias)
    wrapper.shared = shared
    return wrapper


def shop_seen(wrapper: DatabaseWrapper) -> str:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT shop FROM marker")
        return str(cursor.fetchone()[0])


def test_transaction_pooling_would_serve_one_shop_the_other_shops_rows(two_schemas, server) -> None:
    first, second = client(server, "default"), client(server, "default")
    first.set_schema("sim_a")
    assert shop_seen(first) == "sim_a"
    second.set_schema("sim_b")  # another client's transaction lands on the same server connection
    assert shop_seen(second) == "sim_b"
    # The first client's next transaction: django-tenants sent its SET already,
    # so it does not send it again, and the session now says sim_b.
    assert shop_seen(first) == "sim_b"


def test_session_pooling_resets_the_search_path_between_clients(two_schemas, server) -> None:
    first = client(server, "default")
    first.set_schema("sim_a")
    assert shop_seen(first) == "sim_a"
    # The client disconnects; PgBouncer runs server_reset_query before the next one.
    assert server[0] is not None
    server[0].execute("DISCARD ALL")
    second = client(server, "default")
    with second.cursor() as cursor:
        cursor.execute("SHOW search_path")
        assert "sim_a" not in cursor.fetchone()[0]
    second.set_schema("sim_b")
    assert shop_seen(second) == "sim_b"


def test_the_shipped_configuration_pools_sessions_and_resets_them() -> None:
    text = CONFIG.read_text()
    settings_ = dict(re.findall(r"^(\w+)\s*=\s*(.*?)\s*$", text, flags=re.MULTILINE))
    assert settings_["pool_mode"] == "session"
    assert settings_["server_reset_query"] == "DISCARD ALL"
    assert "extra_float_digits" in settings_["ignore_startup_parameters"]


# --- the real PgBouncer ---------------------------------------------------------------


@pytest.fixture
def pgbouncer(request, two_schemas, django_db_blocker) -> Iterator[dict[str, Any]]:
    """PgBouncer from docker/pgbouncer (rendered by its entrypoint), one server connection, on a free port."""
    binary = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None
    )
    if binary is None:
        pytest.skip("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    mode = request.param
    port = free_port()
    params = connection.settings_dict
    workdir = Path(tempfile.mkdtemp(prefix="storefleet-pgbouncer-"))
    workdir.chmod(0o755)
    rendered = workdir / "pgbouncer.ini"
    env = {
        **os.environ,
        "POSTGRES_USER": params["USER"],
        "POSTGRES_PASSWORD": "pooled-secret",  # the test server trusts local users; PgBouncer still checks it
        "POSTGRES_HOST": params["HOST"],
        "POSTGRES_PORT": str(params["PORT"]),
    }
    # The entrypoint's rendering, with paths, port and pool size made local.
    script = (
        ENTRYPOINT.read_text()
        .replace("/etc/pgbouncer/pgbouncer.ini", str(CONFIG))
        .replace("/tmp/pgbouncer", str(workdir))
        .replace("exec pgbouncer", "echo")
    )
    subprocess.run(["sh", "-c", script], env=env, check=True, capture_output=True)
    text = rendered.read_text().replace("/tmp/pgbouncer", str(workdir))
    text = re.sub(r"^listen_port = .*$", f"listen_port = {port}", text, flags=re.MULTILINE)
    text = re.sub(r"^listen_addr = .*$", "listen_addr = 127.0.0.1", text, flags=re.MULTILINE)
    text = re.sub(r"^default_pool_size = .*$", "default_pool_size = 1", text, flags=re.MULTILINE)
    text = re.sub(r"^reserve_pool_size = .*$", "reserve_pool_size = 0", text, flags=re.MULTILINE)
    text = re.sub(r"^pool_mode = .*$", f"pool_mode = {mode}", text, flags=re.MULTILINE)
    text += f"\nlogfile = {workdir}/pgbouncer.log\npidfile = {workdir}/pgbouncer.pid\n"
    rendered.write_text(text)
    command = [binary, str(rendered)]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        for path in workdir.iterdir():
            shutil.chown(path, "postgres")
        shutil.chown(workdir, "postgres")
        command = ["runuser", "-u", "postgres", "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    info = conninfo(port=port, password="pooled-secret", connect_timeout=5)
    try:
        with django_db_blocker.unblock():
            for _ in range(100):
                try:
                    psycopg.connect(**info).close()
                    break
                except psycopg.OperationalError:
                    if process.poll() is not None:
                        pytest.fail(f"pgbouncer exited: {process.stdout.read().decode()}")
                    time.sleep(0.05)
            yield info
    finally:
        process.terminate()
        process.wait(timeout=10)
        log = workdir / "pgbouncer.log"
        print(log.read_text() if log.exists() else "(no pgbouncer log)")
        shutil.rmtree(workdir, ignore_errors=True)


def backend_and_shop(conn: psycopg.Connection[Any], *, set_to: str | None = None) -> tuple[int, str]:
    if set_to:
        conn.execute(f"SET search_path = {set_to}, public")
    row = conn.execute("SELECT pg_backend_pid(), (SELECT shop FROM marker)").fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


@pytest.mark.parametrize("pgbouncer", ["session"], indirect=True)
def test_through_pgbouncer_in_session_mode_a_reused_server_connection_forgets_the_shop(
    pgbouncer, django_db_blocker
) -> None:
    with django_db_blocker.unblock():
        with psycopg.connect(**pgbouncer, autocommit=True) as first:
            first_backend, seen = backend_and_shop(first, set_to="sim_a")
            assert seen == "sim_a"
        with psycopg.connect(**pgbouncer, autocommit=True) as second:
            row = second.execute("SELECT pg_backend_pid(), current_setting('search_path')").fetchone()
            assert row is not None and row[0] == first_backend  # the same server connection...
            assert "sim_a" not in row[1]  # ...reset before it was handed over
            assert backend_and_shop(second, set_to="sim_b") == (first_backend, "sim_b")


@pytest.mark.parametrize("pgbouncer", ["transaction"], indirect=True)
def test_through_pgbouncer_in_transaction_mode_the_shop_leaks(pgbouncer, django_db_blocker) -> None:
    with (
        django_db_blocker.unblock(),
        psycopg.connect(**pgbouncer, autocommit=True) as first,
        psycopg.connect(**pgbouncer, autocommit=True) as second,
    ):
        assert backend_and_shop(first, set_to="sim_a")[1] == "sim_a"
        backend_and_shop(second, set_to="sim_b")
        assert backend_and_shop(first)[1] == "sim_b"  # the first client now reads the other shop
