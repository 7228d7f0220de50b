"""
How a delivery travels: one POST with the standard library's http.client,
through a connection that checks the addresses it connects to (ssrf), never
follows redirects, and gives up after the timeout as a whole, not per read.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from tenants.errors import DomainError
from tenants.webhooks import ssrf

RESPONSE_EXCERPT_BYTES = 1024
USER_AGENT = "Storefleet-Webhooks/1.0"


@dataclass(frozen=True)
class Answer:
    """What came of one POST: the endpoint's status and the start of its body, or an error."""

    status: int | None
    body: str
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _Guarded:
    """Make http.client connect through ssrf.connection_open instead of socket.create_connection."""

    def _guarded_connection(
        self, address: tuple[str, int], timeout: Any = None, source_address: Any = None
    ) -> socket.socket:
        host, port = address
        return ssrf.connection_open(host, port, timeout)


class GuardedHTTPConnection(_Guarded, http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = self._guarded_connection


class GuardedHTTPSConnection(_Guarded, http.client.HTTPSConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = self._guarded_connection


def post(*, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST `body` to `url`; never raises, the outcome (answer or error) is in the Answer."""
    started = time.monotonic()

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = ssrf.url_parse(url)
    except DomainError as refused:
        return Answer(status=None, body="", error=refused.detail, duration_ms=0)
    connection_class = GuardedHTTPSConnection if target.scheme == "https" else GuardedHTTPConnection
    connection = connection_class(target.host, target.port, timeout=timeout)
    timed_out = threading.Event()

    def give_up() -> None:
        timed_out.set()
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    # The socket timeout bounds each read; this bounds the whole exchange, so an
    # endpoint that trickles a byte at a time cannot hold a worker for long.
    watchdog = threading.Timer(timeout, give_up)
    watchdog.daemon = True
    watchdog.start()
    status: int | None = None
    excerpt = b""
    error = ""
    try:
        connection.request("POST", target.path, body=body, headers={"User-Agent": USER_AGENT, **headers})
        response = connection.getresponse()
        status = response.status
        excerpt = response.read(RESPONSE_EXCERPT_BYTES)
    except ssrf.AddressRefused as refused:
        error = str(refused)
    except TimeoutError:
        error = f"Timed out after {timeout:g} s."
    except Exception as failure:  # any failure of the exchange is this attempt's outcome
        error = f"{type(failure).__name__}: {failure}"
    finally:
        watchdog.cancel()
        connection.close()
    if timed_out.is_set() and status is None:
        error = f"Timed out after {timeout:g} s."
    return Answer(
        status=status,
        body=_storable(excerpt.decode("utf-8", errors="replace")),
        error=_storable(error)[:500],
        duration_ms=elapsed_ms(),
    )


def _storable(text: str) -> str:
    """The text without NUL characters, which PostgreSQL text cannot hold (an endpoint may send them)."""
    return text.replace("\x00", "\ufffd")
