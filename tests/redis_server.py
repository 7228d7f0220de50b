"""
A private redis-server for fault tests: started on a free port, then killed,
frozen (SIGSTOP) or restarted by the test, never the shared one. Pointing the
app at it goes through the settings the app reads, with its clients made anew.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis

from tests.net import free_port


class RedisServer:
    """
    One redis-server process of this test's own: without persistence (as the shared
    one), or with the append-only file (as compose runs it: `appendonly=True`).
    """

    def __init__(self, *, appendonly: bool = False) -> None:
        self.appendonly = appendonly
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="storefleet-redis-")
        self.process: subprocess.Popen[bytes] | None = None
        self.frozen = False

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed for the fault tests"
        self.process = subprocess.Popen(
            [
                binary,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                *("--appendonly", "yes" if self.appendonly else "no"),
            ],
            cwd=self.dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()
        return self

    def kill(self) -> None:
        if self.process is not None:
            if self.frozen:
                self.thaw()
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)
        self.frozen = False

    def restart(self) -> None:
        self.kill()
        self.start()

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


def app_redis_at(settings: Any, url: str) -> None:
    """Point the app's Redis client (cache, rate limits, outbox flags) at `url`; a new client is made."""
    from tenants import process_cache
    from tenants.keys import redis_client_reset

    # The host-cache listener thread keeps the URL it starts with, for the whole process:
    # start it on the shared test Redis first, or it would stay on this one after it is gone.
    process_cache.listener_start()
    process_cache.listening.wait(5)
    settings.REDIS_URL = url
    redis_client_reset()
