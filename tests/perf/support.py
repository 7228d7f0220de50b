"""What the benchmarks share: a database of their own, made and dropped safely."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Every benchmark drops the database it is given: only names with this ending are accepted.
PERF_DATABASE_SUFFIX = "_perf"


def database_config(database_url: str) -> dict[str, Any]:
    import dj_database_url

    config: dict[str, Any] = dict(dj_database_url.parse(database_url))
    if not str(config.get("NAME", "")).endswith(PERF_DATABASE_SUFFIX):
        raise SystemExit(
            f"Refusing to use database {config.get('NAME')!r}: this benchmark drops its database, "
            f"so the name must end in {PERF_DATABASE_SUFFIX!r}."
        )
    return config


@contextmanager
def maintenance_connection(config: dict[str, Any]) -> Iterator[Any]:
    """An autocommit psycopg connection to the server's `postgres` database."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    keys = {"host": "HOST", "port": "PORT", "user": "USER", "password": "PASSWORD"}
    params = {key: str(config[setting]) for key, setting in keys.items() if config.get(setting)}
    with psycopg.connect(make_conninfo(dbname="postgres", **params), autocommit=True) as conn:
        yield conn


def database_drop(config: dict[str, Any]) -> None:
    from psycopg import sql

    with maintenance_connection(config) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(config["NAME"]))
        )


def database_recreate(config: dict[str, Any]) -> None:
    from psycopg import sql

    database_drop(config)
    with maintenance_connection(config) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
