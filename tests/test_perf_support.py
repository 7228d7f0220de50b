"""
The benchmarks' shared helpers (tests/perf/support.py): every benchmark script
imports, and uses the one copy of each helper rather than one of its own.
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.perf import support

SCRIPTS = ["checkout", "coldpath", "csv_import", "density", "directory", "provisioning", "storefront"]
SHARED = [
    "free_port",
    "proc_table",
    "ProcInfo",
    "redis_flush",
    "redis_database",
    "django_setup",
    "warm_pool_refill_disabled",
    "raise_on_sigterm",
    "http_get",
    "bench_environment",
    "Gunicorn",
]


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_benchmark_imports_and_shares_the_helpers(script: str) -> None:
    module = importlib.import_module(f"tests.perf.{script}")
    for name in SHARED:
        if hasattr(module, name):
            assert getattr(module, name) is getattr(support, name), f"{script}.{name} is a copy"


def test_density_does_not_import_the_storefront_script() -> None:
    density = importlib.import_module("tests.perf.density")
    assert "tests.perf.storefront" not in {
        getattr(value, "__module__", None) for value in vars(density).values() if callable(value)
    }


def test_free_port_is_free() -> None:
    port = support.free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))


def test_proc_table_sees_this_process() -> None:
    table = support.proc_table()
    me = table[os.getpid()]
    assert me.ppid == os.getppid() and me.own_ticks >= 0 and me.started > 0
    assert "pytest" in me.cmdline and "pytest" in me.short_name()


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379", "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/15"]
)
def test_shared_redis_databases_are_refused(url: str) -> None:
    with pytest.raises(SystemExit):
        support.redis_database(url)


def test_a_benchmark_redis_database_is_accepted() -> None:
    assert support.redis_database("redis://127.0.0.1:6379/13") == 13


class _Answer(BaseHTTPRequestHandler):
    """200 with X-Cache: hit for /hit, 404 otherwise."""

    def do_GET(self) -> None:
        found = self.path.startswith("/hit")
        self.send_response(200 if found else 404)
        if found:
            self.send_header("X-Cache", "hit")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def answering_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


needs_wrk = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")


@needs_wrk
def test_storefront_wrk_script_reports_its_counters(answering_port: int, tmp_path: Path) -> None:
    from tests.perf.storefront import LoadGenerator

    load = LoadGenerator(answering_port, threads=1, connections=2, workdir=tmp_path).run(
        "shop.localhost", ["/hit", "/missing"], nocache=False, seconds=1
    )
    assert load.requests > 0 and load.hits > 0 and load.others > 0 and load.misses == 0
    assert load.hits + load.others == load.requests
    assert load.errors >= load.others  # 404s count as errors here
    assert 0 < load.p50_ms <= load.p99_ms


@needs_wrk
def test_density_wrk_script_reports_its_counters(answering_port: int, tmp_path: Path) -> None:
    from tests.perf.density import MultiHostLoad

    result = MultiHostLoad(answering_port, threads=1, connections=2, workdir=tmp_path).run(
        [("a.localhost", "/hit"), ("b.localhost", "/missing")], uncached=False, seconds=1
    )
    assert result.load.requests > 0 and result.load.hits > 0 and result.non_200 > 0
    assert result.load.errors == 0  # non-200 answers are counted apart, not as errors
    assert result.load.hits + result.non_200 == result.load.requests


def test_profile_tables_print_each_share_of_the_samples(capsys) -> None:
    support.profile_tables([("render", 30)], [("django", 50)], [("view", 80), ("redis", 20)], samples=200)
    out = capsys.readouterr().out
    assert "| function (self time) | share |\n|---|---:|\n| render | 15.0% |" in out
    assert "| library (self time) | share |\n|---|---:|\n| django | 25.0% |" in out
    assert "| view | 40.0% |\n| redis | 10.0% |" in out
