"""The local network as tests and benchmarks use it: a free port, a plain GET with a Host header."""

from __future__ import annotations

import http.client
import socket


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (when asked: bind it soon)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_get(port: int, host: str, path: str, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """GET `path` from 127.0.0.1:`port` as `host`: the status, the headers (lower-cased names), the body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()
