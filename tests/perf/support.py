"""What the benchmarks share: a database of their own, made and dropped safely."""

from __future__ import annotations

import bisect
import itertools
import json
import random
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
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


def wrk_start(
    *, wrk: str, threads: int, connections: int, seconds: float, script: Path, port: int
) -> Callable[[], dict[str, Any]]:
    """
    Start wrk on 127.0.0.1:`port` with a Lua script that prints one `BENCH {json}`
    line when done; the returned function waits for it and returns that JSON.
    """
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}/",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait() -> dict[str, Any]:
        stdout, stderr = process.communicate()
        match = re.search(r"^BENCH (\{.*\})$", stdout, re.MULTILINE)
        if process.returncode != 0 or match is None:
            raise RuntimeError(f"wrk failed ({process.returncode}):\n{stdout}{stderr}")
        data: dict[str, Any] = json.loads(match.group(1))
        return data

    return wait


def zipf_sampler(n: int, s: float, rng: random.Random) -> Callable[[], int]:
    """Ranks 0..n-1 with P(k) proportional to 1/(k+1)^s."""
    weights = list(itertools.accumulate(1 / (k + 1) ** s for k in range(n)))
    total = weights[-1]
    return lambda: bisect.bisect_left(weights, rng.random() * total)
