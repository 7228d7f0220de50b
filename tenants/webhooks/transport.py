"""
How a delivery travels: one POST with the standard library's http.client,
through a connection that checks the addresses it connects to (ssrf), never
follows redirects, and gives up after the timeout as a whole, not per read.
`get` is the same guarded exchange for a download (the product import's images).
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

    def private_allowed(self) -> bool | None:
        """Whether loopback and private addresses may be reached; None: the webhooks' setting."""
        return None

    def _guarded_connection(
        self, address: tuple[str, int], timeout: Any = None, source_address: Any = None
    ) -> socket.socket:
        host, port = address
        return ssrf.connection_open(host, port, timeout, allow_private=self.private_allowed())


class GuardedHTTPConnection(_Guarded, http.client.HTTPConnection):
    pass


class GuardedHTTPSConnection(_Guarded, http.client.HTTPSConnection):
    pass


class _Watchdog:
    """
    Bound a whole exchange, not each read: the socket's timeout bounds each read,
    this shuts the socket after `timeout` seconds, so a server that trickles a byte
    at a time cannot hold a worker for long. Any failure of the exchange inside it
    is its outcome, in `error`, not raised.
    """

    def __init__(self, connection: http.client.HTTPConnection, timeout: float) -> None:
        self.connection = connection
        self.timeout = timeout
        self.error = ""
        self.timed_out = threading.Event()
        self._timer = threading.Timer(timeout, self._give_up)
        self._timer.daemon = True

    def _give_up(self) -> None:
        self.timed_out.set()
        sock = self.connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, failure: BaseException | None, tb: object) -> bool:
        self._timer.cancel()
        self.connection.close()
        if isinstance(failure, ssrf.AddressRefused):
            self.error = str(failure)
        elif isinstance(failure, TimeoutError):
            self.error = self.gave_up
        elif isinstance(failure, Exception):
            self.error = f"{type(failure).__name__}: {failure}"
        return isinstance(failure, Exception)

    @property
    def gave_up(self) -> str:
        return f"Timed out after {self.timeout:g} s."


def connection_for(
    target: ssrf.Target, *, timeout: float, guarded: type[_Guarded] | None = None
) -> http.client.HTTPConnection:
    """An http.client connection to `target` through the SSRF guard (`guarded`: one with its own switch)."""
    https = target.scheme == "https"
    if guarded is None:
        connection_class: type[http.client.HTTPConnection] = (
            GuardedHTTPSConnection if https else GuardedHTTPConnection
        )
    else:
        base = http.client.HTTPSConnection if https else http.client.HTTPConnection
        connection_class = type(f"Guarded{base.__name__}", (guarded, base), {})
    connection = connection_class(target.host, target.port, timeout=timeout)
    connection._create_connection = connection._guarded_connection  # type: ignore[attr-defined]
    return connection


def post(*, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST `body` to `url`; never raises, the outcome (answer or error) is in the Answer."""
    started = time.monotonic()

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = ssrf.url_parse(url)
    except DomainError as refused:
        return Answer(status=None, body="", error=refused.detail, duration_ms=0)
    connection = connection_for(target, timeout=timeout)
    status: int | None = None
    excerpt = b""
    with _Watchdog(connection, timeout) as watchdog:  # any failure is this attempt's outcome
        connection.request("POST", target.path, body=body, headers={"User-Agent": USER_AGENT, **headers})
        response = connection.getresponse()
        status = response.status
        excerpt = response.read(RESPONSE_EXCERPT_BYTES)
    error = watchdog.gave_up if watchdog.timed_out.is_set() and status is None else watchdog.error
    return Answer(
        status=status,
        body=_storable(excerpt.decode("utf-8", errors="replace")),
        error=_storable(error)[:500],
        duration_ms=elapsed_ms(),
    )


@dataclass(frozen=True)
class Download:
    """What a GET brought: the body, or why there is none (`too_big`: over max_bytes, not kept)."""

    status: int | None
    content_type: str
    body: bytes
    error: str
    too_big: bool = False


def get(
    *, target: ssrf.Target, timeout: float, max_bytes: int, guarded: type[_Guarded], user_agent: str
) -> Download:
    """
    GET `target` through the SSRF guard, following no redirect, keeping at most
    `max_bytes` bytes of the body (more: `too_big`); never raises.
    """
    connection = connection_for(target, timeout=timeout, guarded=guarded)
    status: int | None = None
    content_type = ""
    body = b""
    too_big = False
    with _Watchdog(connection, timeout) as watchdog:  # any failure is the download's outcome
        connection.request("GET", target.path, headers={"User-Agent": user_agent, "Accept": "image/*"})
        response = connection.getresponse()
        status = response.status
        content_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        declared = response.getheader("Content-Length") or ""
        too_big = declared.isdigit() and int(declared) > max_bytes
        if status == 200 and not too_big:
            body = response.read(max_bytes + 1)
            too_big = len(body) > max_bytes
    error = watchdog.error
    if watchdog.timed_out.is_set():  # a body cut short is no image
        status, body, error = None, b"", watchdog.gave_up
    return Download(
        status=status,
        content_type=content_type,
        body=b"" if too_big else body,
        error=_storable(error)[:500],
        too_big=too_big,
    )


def _storable(text: str) -> str:
    """The text without NUL characters, which PostgreSQL text cannot hold (an endpoint may send them)."""
    return text.replace("\x00", "\ufffd")
