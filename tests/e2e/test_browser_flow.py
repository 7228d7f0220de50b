"""
The browser flow (frontend/e2e/flow.mjs, playwright-core driving Debian's
Chromium) against a live server this test starts: .ci/serve-web (nginx in front of
gunicorn, and of uvicorn for the live-update streams, as `make run` serves) and a
Celery worker on the test database (created and dropped by pytest-django), on free ports.
Run by `make test-frontend` after the SPA is built; skipped by a plain pytest run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.net import free_port

BASE_DIR = Path(settings.BASE_DIR)
CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    os.environ.get("STOREFLEET_E2E") != "1", reason="browser flow: run by `make test-frontend`"
)


def database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="") + (
        ":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else ""
    )
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class LiveServer:
    """.ci/serve-web (nginx, gunicorn, uvicorn) and a Celery worker, stopped (logs kept) at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.gunicorn_port = free_port()
        self.live_port = free_port()
        self.processes: list[subprocess.Popen[bytes]] = []

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "STOREFLEET_TESTING": "1",  # the checkout's own queue, Redis database and key prefixes
            "DATABASE_URL": database_url(),  # the test database
            "CELERY_TASK_ALWAYS_EAGER": "0",  # thumbnails, search documents and e-mails by the worker
            "ADMIN_ORIGIN": f"http://localhost:{self.port}",
            "MEDIA_ROOT": str(self.tmp / "media"),
            "EMAIL_URL": f"file://{self.tmp / 'mail'}",
            # Links in the shopper's e-mails point at this server (the flow follows them).
            "STOREFRONT_ORIGIN_TEMPLATE": f"http://{{domain}}:{self.port}",
            "SPA_DIST_DIR": str(BASE_DIR / "frontend" / "dist"),
            "PYTHONPATH": str(BASE_DIR),
            # .ci/serve-web: nginx on PORT, gunicorn and uvicorn (the live streams) behind it.
            "PORT": str(self.port),
            "GUNICORN_PORT": str(self.gunicorn_port),
            "LIVE_PORT": str(self.live_port),
            "WEB_CONCURRENCY": "2",
            "GUNICORN_TIMEOUT": "60",
        }

    def start(self, name: str, command: list[str]) -> None:
        log = (self.tmp / f"{name}.log").open("wb")
        self.processes.append(
            subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def wait_ready(self, timeout: float = 60) -> None:
        give_up = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            for process in self.processes:
                if process.poll() is not None:
                    raise AssertionError(f"a server process exited early:\n{self.logs()}")
            if time.monotonic() > give_up:
                raise AssertionError(f"the server did not get ready:\n{self.logs()}")
            time.sleep(0.2)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-6000:]}" for path in sorted(self.tmp.glob("*.log"))
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def storefleet_server(transactional_db: None, django_db_blocker, tmp_path: Path) -> Iterator[LiveServer]:
    # transactional_db: the test database exists, and rows are committed where the servers see them.
    assert (BASE_DIR / "frontend" / "dist" / "storefront" / "index.html").is_file(), "build the SPA first"
    server = LiveServer(tmp_path)
    bin_dir = BASE_DIR / ".venv" / "bin"
    with django_db_blocker.unblock():
        connection.close()  # the servers get the database to themselves
        try:
            server.start("web", [str(BASE_DIR / ".ci" / "serve-web")])
            server.start(
                "worker",
                [str(bin_dir / "celery"), "-A", "config", "worker", "--pool", "solo", "-l", "warning"]
                + ["-n", f"e2e-{os.getpid()}@%h", "--without-mingle", "--without-gossip"],
            )
            server.wait_ready()
            yield server
        finally:
            server.stop()
            connection.close()


def test_sign_up_to_first_sale_in_the_browser(storefleet_server: LiveServer) -> None:
    artifacts = BASE_DIR / "test-artifacts" / "e2e"
    artifacts.mkdir(parents=True, exist_ok=True)
    for old in artifacts.glob("*.png"):
        old.unlink()
    result = subprocess.run(
        ["node", "e2e/flow.mjs"],
        cwd=BASE_DIR / "frontend",
        env={
            **os.environ,
            "E2E_PORT": str(storefleet_server.port),
            "E2E_ARTIFACTS": str(artifacts),
            "E2E_USER_DATA_DIR": str(storefleet_server.tmp / "chromium-profile"),
            "E2E_MAIL_DIR": str(storefleet_server.tmp / "mail"),  # the worker's e-mails (EMAIL_URL)
            "CHROMIUM": CHROMIUM,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(result.stdout)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{storefleet_server.logs()}"
    assert len(list(artifacts.glob("*.png"))) >= 10
    assert "axe-core: 0 violations on" in result.stdout

    # The storefront's hashed assets go out precompressed (the build's .br and .gz, by WhiteNoise).
    host = urllib.parse.urlsplit(json.loads((artifacts / "flow.json").read_text())["storefront"]).netloc
    local = f"http://127.0.0.1:{storefleet_server.port}"
    page = urllib.request.Request(f"{local}/", headers={"Host": host, "Accept": "text/html"})
    html = urllib.request.urlopen(page, timeout=10).read().decode()
    script = re.search(r'<script type="module" crossorigin src="([^"]+)"', html)
    assert script, html[:2000]
    for encoding in ("br", "gzip"):
        request = urllib.request.Request(
            f"{local}{script.group(1)}", headers={"Host": host, "Accept-Encoding": encoding}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.headers["Content-Encoding"] == encoding

    # Lighthouse, mobile profile, on home, a product and the cart: the floors hold or the run fails.
    lighthouse = subprocess.run(
        ["node", "e2e/lighthouse.mjs"],
        cwd=BASE_DIR / "frontend",
        env={**os.environ, "E2E_ARTIFACTS": str(artifacts), "CHROME_PATH": CHROMIUM},
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(lighthouse.stdout)
    assert lighthouse.returncode == 0, f"{lighthouse.stdout}\n{lighthouse.stderr}"
