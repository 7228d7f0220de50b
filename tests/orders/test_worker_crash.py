"""
A real Celery worker killed (SIGKILL) in the middle of sending an order's e-mails
loses none and sends none twice: the relay hands the event to a second worker,
which sends what was missing and skips what had gone out.

The workers are subprocesses on the test database and the test queue; their
mail goes to files (`EMAIL_URL=file://...`) through tests/orders/stalling_mail.py,
which hangs in the send to one chosen recipient until the test has killed the
worker there.
"""

from __future__ import annotations

import email
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from orders.models import SentEmail
from tenants.models import Membership, User
from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import events_relay
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, make_user
from tests.orders.helpers import cart_with, checkout, sellable_product

SHOPPER = "ada@example.com"
ADMIN = "admin@committed.example"
OWNER = "owner@committed.example"
CLERK = "clerk@committed.example"
QUEUE = settings.CELERY_TASK_DEFAULT_QUEUE
BASE_DIR = Path(settings.BASE_DIR)
FILE_SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # what Django's file backend writes after each message


def wait_for(condition: Callable[[], object], what: str, seconds: float = 20) -> None:
    give_up = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Workers:
    """Start Celery workers as subprocesses on the test database and queue; stop them all at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.mail = tmp / "mail"
        self.control = tmp / "control"
        self.mail.mkdir()
        self.control.mkdir()
        self.started: list[subprocess.Popen[bytes]] = []

    def env(self) -> dict[str, str]:
        db = connection.settings_dict
        credentials = quote(db["USER"] or "", safe="") + (
            ":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else ""
        )
        database_url = (
            f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        return {
            **os.environ,
            "STOREFLEET_TESTING": "1",  # same TEST_RUN_ID, so the same queue and key prefixes
            "DATABASE_URL": database_url,  # the test database, not the development one
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_URL": f"file://{self.mail}",
            "EMAIL_BACKEND": "tests.orders.stalling_mail.StallingFileBackend",
            "MAIL_STALL_DIR": str(self.control),
            "PYTHONPATH": str(BASE_DIR),
        }

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [str(BASE_DIR / ".venv/bin/celery"), "-A", "config", "worker", "--pool", "solo", "-l", "warning"]
            + ["-Q", QUEUE, "-n", f"{name}-{os.getpid()}@%h", "--without-mingle", "--without-gossip"],
            cwd=BASE_DIR,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text()}" for path in sorted(self.tmp.glob("*.log")))

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def sent(self) -> Counter[tuple[str, str]]:
        """(kind, recipient) of every message the workers' file backend wrote."""
        kinds = {"Your order": "confirmation", "New order": "notice"}
        counted: Counter[tuple[str, str]] = Counter()
        for path in self.mail.glob("*.log"):
            for raw in path.read_bytes().split(FILE_SEPARATOR):
                if raw.strip():
                    message = email.message_from_bytes(raw)
                    kind = next(
                        k for prefix, k in kinds.items() if str(message["Subject"]).startswith(prefix)
                    )
                    counted[(kind, str(message["To"]))] += 1
        return counted


@pytest.fixture
def workers(django_db_setup: None) -> Iterator[Workers]:
    """Workers on the test database, consuming the test queue; stopped, purged and removed at the end."""
    # pytest-django creates the test database only when the session has a django_db
    # test (requesting `django_db_setup` is not enough); without one, this test and
    # `committed_shop` would write to the development database.
    if not connection.settings_dict["NAME"].startswith("test_"):
        pytest.fail("No test database: run this with a django_db test in the session (this file has one).")
    tmp = Path(tempfile.mkdtemp(prefix="storefleet-worker-crash-"))
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False  # events go through Redis to the subprocess workers
    started = Workers(tmp)
    try:
        yield started
    finally:
        celery_app.conf.task_always_eager = eager
        started.stop_all()
        _forget_queue()
        shutil.rmtree(tmp, ignore_errors=True)


def _forget_queue() -> None:
    """Purge the test queue and the killed worker's unacknowledged message (else redelivered in an hour)."""
    with celery_app.connection_for_write() as broker:
        broker.default_channel.queue_purge(QUEUE)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for tag, raw in client.hscan_iter("unacked"):
        try:
            routing_key = json.loads(raw)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == QUEUE:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


# Marked django_db although it needs no rows: pytest-django creates the test
# database only for a session with such a test, and the committed-data test
# below would otherwise run on the development database when this file runs alone.
@pytest.mark.django_db
def test_the_stalling_backend_writes_other_mail_as_the_file_backend_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.mail import EmailMessage

    from tests.orders.stalling_mail import StallingFileBackend

    (tmp_path / "stall").write_text(ADMIN)
    monkeypatch.setenv("MAIL_STALL_DIR", str(tmp_path))
    backend = StallingFileBackend(file_path=str(tmp_path / "mail"))
    assert backend.send_messages([EmailMessage("Your order #1", "body", "shop@example.com", [SHOPPER])]) == 1
    assert not (tmp_path / "stalled").exists()
    workers = Workers.__new__(Workers)
    workers.mail = tmp_path / "mail"
    assert workers.sent() == {("confirmation", SHOPPER): 1}


def test_a_worker_killed_mid_send_loses_no_email_and_sends_none_twice(
    workers: Workers, committed_shop: ShopContext, django_db_blocker, api
) -> None:
    shop = committed_shop
    with django_db_blocker.unblock():
        extra_users: list[User] = []
        try:
            for address, role in ((ADMIN, Membership.Role.ADMIN), (CLERK, Membership.Role.STAFF)):
                extra_users.append(make_user(address))
                Membership.objects.create(user=extra_users[-1], shop=shop.shop, role=role)

            # The first worker sends the confirmation, then hangs sending the admin's notice
            # (owners and admins are notified in address order: admin@ before owner@).
            (workers.control / "stall").write_text(ADMIN)
            first = workers.start("first")
            variant = sellable_product(AdminClient(api, shop), stock=5)["variants"][0]["id"]
            response = checkout(api, shop, cart_with(api, shop, variant, 1))
            assert response.status_code == 201, response.content
            use_public()
            created = OutboxEvent.objects.get(schema_name=shop.shop.schema_name, type="order.created")

            try:
                wait_for((workers.control / "stalled").exists, "the first worker to reach the admin's notice")
            except AssertionError:
                raise AssertionError(workers.logs()) from None
            first.kill()  # SIGKILL: no warm shutdown, no acknowledgement, the open transaction dies with it
            first.wait(timeout=10)

            assert workers.sent() == {("confirmation", SHOPPER): 1}
            use_shop(shop.shop)
            assert list(SentEmail.objects.values_list("kind", "recipient")) == [
                ("order_confirmation", SHOPPER)
            ]
            use_public()
            created.refresh_from_db()
            assert created.dispatched_at is None and created.attempts == 1

            # A second worker; the relay (beat runs it every few seconds) hands it the event again.
            (workers.control / "stall").unlink()
            workers.start("second")
            assert events_relay(older_than=timedelta(0)) >= 1

            def all_dispatched() -> bool:
                pending = OutboxEvent.objects.filter(schema_name=shop.shop.schema_name, dispatched_at=None)
                return not pending.exists()

            try:
                wait_for(all_dispatched, "the second worker to dispatch every event")
            except AssertionError:
                raise AssertionError(workers.logs()) from None

            assert workers.sent() == {
                ("confirmation", SHOPPER): 1,
                ("notice", ADMIN): 1,
                ("notice", OWNER): 1,
            }, workers.logs()
            created.refresh_from_db()
            assert created.attempts == 2
            use_shop(shop.shop)
            assert SentEmail.objects.count() == 3
        finally:
            use_public()
            for user in extra_users:
                user.delete()
