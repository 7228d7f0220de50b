"""
Slow clients cannot starve the site: the server `make run` starts (.ci/serve-web,
nginx in front of gunicorn's sync workers) keeps answering while fifty
connections send their headers a byte at a time. The same fifty, sent to
gunicorn's own port, leave it answering nobody: why nothing may reach the sync
workers directly.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import ShopContext
from tests.e2e.test_browser_flow import database_url
from tests.net import free_port

BASE_DIR = Path(settings.BASE_DIR)
NGINX = "/usr/sbin/nginx"
SLOW_CLIENTS = 50
# What a slow client sends, one byte at a time; it never gets to the blank line.
TRICKLE = b"GET /api/storefront/v1/shop HTTP/1.1\r\nHost: slow.localhost\r\nUser-Agent: " + b"s" * 400
ANSWER_WITHIN = 3.0  # seconds


class Server:
    """`.ci/serve-web` as `make run` starts it, on free ports, against the test database."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.gunicorn_port = free_port()
        self.log = log
        env = {
            **os.environ,
            "STOREFLEET_TESTING": "1",
            "DATABASE_URL": database_url(),
            "PORT": str(self.port),
            "GUNICORN_PORT": str(self.gunicorn_port),
            "LIVE_PORT": str(free_port()),  # uvicorn, for the live streams
            "PYTHONPATH": str(BASE_DIR),
        }
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(BASE_DIR / ".ci" / "serve-web")],
                cwd=BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            assert self.process.poll() is None, f"serve-web exited:\n{self.log.read_text()[-4000:]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"serve-web did not get ready:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class SlowClients:
    """Connections that send a request's headers a byte every 0.2 s and never finish them."""

    def __init__(self, port: int, count: int = SLOW_CLIENTS) -> None:
        self.sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.trickle, daemon=True)
        self.thread.start()

    def trickle(self) -> None:
        for offset in range(len(TRICKLE)):
            for sock in self.sockets:
                # A send fails once the server gave up on the connection: it holds nothing then.
                with suppress(OSError):
                    sock.send(TRICKLE[offset : offset + 1])
            if self.stopping.wait(0.2):
                return

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        for sock in self.sockets:
            sock.close()


def answered_within(port: int, host: str, path: str, seconds: float) -> int | None:
    """The status of a normal GET, or None if no answer came within `seconds`."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=seconds) as answer:
            return int(answer.status)
    except TimeoutError:
        return None
    except urllib.error.HTTPError as error:
        return int(error.code)
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError | socket.timeout):
            return None
        raise


@pytest.fixture
def server(committed_shop: ShopContext, django_db_blocker, tmp_path: Path) -> Iterator[Server]:
    assert os.access(NGINX, os.X_OK), "Debian's nginx is missing: `make nginx` installs it"
    started = Server(tmp_path / "serve-web.log")
    try:
        started.wait_ready()
        yield started
    finally:
        started.stop()


def test_slow_clients_do_not_starve_the_site(server: Server, committed_shop: ShopContext) -> None:
    host = f"{committed_shop.host}:{server.port}"
    assert answered_within(server.port, host, "/api/storefront/v1/shop", 10) == 200  # warm

    slow = SlowClients(server.port)
    try:
        time.sleep(1.0)  # every slow connection is open and has sent a few bytes
        for _ in range(5):
            started = time.monotonic()
            assert answered_within(server.port, host, "/api/storefront/v1/shop", ANSWER_WITHIN) == 200
            assert time.monotonic() - started < ANSWER_WITHIN
            assert answered_within(server.port, host, "/healthz", ANSWER_WITHIN) == 200
            time.sleep(0.5)
    finally:
        slow.close()

    # The same slow clients sent to the sync workers themselves: nobody else is answered.
    slow = SlowClients(server.gunicorn_port)
    try:
        time.sleep(1.0)
        assert answered_within(server.gunicorn_port, host, "/healthz", ANSWER_WITHIN) is None
    finally:
        slow.close()
