"""
A real webhook receiver (http.server on 127.0.0.1, in a thread) and a signature
verifier written here from docs/api.md ("Webhooks") alone, independent of the app's own
signing module, so a bug there cannot hide in both.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import event_record

DOCUMENTED_TOLERANCE_SECONDS = 5 * 60


def independent_verify(secret: str, header: str, body: bytes, *, now: float | None = None) -> bool:
    """
    `Storefleet-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` under
    the endpoint's secret; refuse a `t` older than five minutes.
    """
    fields: dict[str, str] = {}
    for part in header.split(","):
        name, sep, value = part.partition("=")
        if not sep:
            return False
        fields[name.strip()] = value.strip()
    if not fields.get("t", "").isdigit() or "v1" not in fields:
        return False
    timestamp = int(fields["t"])
    if (time.time() if now is None else now) - timestamp > DOCUMENTED_TOLERANCE_SECONDS:
        return False
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, fields["v1"])


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # time.time() when it arrived


class Receiver:
    """
    Records every POST; answers with the next status of `statuses` (200 once
    they run out) and `answer` as the body. `delay` makes it sit on a request
    that long first.
    """

    def __init__(self, statuses: list[int] | None = None, delay: float = 0.0, answer: bytes = b"") -> None:
        self.statuses = list(statuses or [])
        self.delay = delay
        self.answer = answer
        self.received: list[Received] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0  # the most requests it held at once
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.in_flight += 1
                    receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                    receiver.received.append(
                        Received(self.path, dict(self.headers.items()), body, time.time())
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                if receiver.delay:
                    receiver.release.wait(receiver.delay)
                with receiver._lock:
                    receiver.in_flight -= 1
                answer = receiver.answer or (b'{"received": true}' if status < 300 else b"nope")
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the sender gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/storefleet?src=test"

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.daemon = True
        thread.start()
        try:
            yield self
        finally:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()
            thread.join(5)


def event_emit(capture: Any, type: str = "inventory.low", **payload: Any) -> OutboxEvent:
    """Record an event in the current shop and run what its commit sets off (eager Celery)."""
    with capture(execute=True):
        return event_record(type=type, payload=payload or {"variant_id": 1, "stock": 2})
