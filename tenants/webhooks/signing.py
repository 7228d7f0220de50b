"""
Webhook signatures, as docs/api.md ("Webhooks") tells receivers to check them:

    Storefleet-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">

The HMAC key is the endpoint's whole secret (`whsec_...`) as UTF-8 bytes. A
receiver recomputes the HMAC over the raw request body (before any JSON
parsing), compares it in constant time and refuses a `t` more than five
minutes away from its clock, so a captured delivery cannot be replayed later.
`verify` does that for receivers written in Python.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Storefleet-Signature"
EVENT_HEADER = "Storefleet-Event"
DELIVERY_HEADER = "Storefleet-Delivery"
SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300


def secret_generate() -> str:
    """Return a new endpoint secret (shown to the merchant once)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """Return the `Storefleet-Signature` header value for `body`, signed now (or at `timestamp`)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret=secret, timestamp=t, body=body)}"


def verify(
    secret: str, header: str, body: bytes, tolerance: int = DEFAULT_TOLERANCE, *, now: float | None = None
) -> bool:
    """Return whether `header` signs `body` with `secret` within `tolerance` seconds of now."""
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = signature(secret=secret, timestamp=timestamp, body=body)
    return any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in candidates)
