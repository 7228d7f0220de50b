"""The request id of the work in hand, set by the middleware for a request and by a task's header."""

from __future__ import annotations

import os
import re
from contextvars import ContextVar

# What a client or proxy may send as X-Request-ID: visible ASCII without spaces or
# quotes, up to 128 characters (UUIDs, ULIDs, nginx's $request_id, AWS trace ids).
# Anything else is replaced, so logs and headers never carry injected text.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:@+=/-]{1,128}")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id_new() -> str:
    """Return a fresh request id (32 hex digits, 128 random bits; cheaper than uuid4)."""
    return os.urandom(16).hex()


def request_id_accept(incoming: str | None) -> str:
    """Return the incoming id when it is well-formed, else a new one."""
    if incoming and REQUEST_ID_PATTERN.fullmatch(incoming):
        return incoming
    return request_id_new()


def current_request_id() -> str | None:
    """Return the request id of the current request or task, if any."""
    return request_id_var.get()


# The Celery task being run in this context: (name, id).
task_var: ContextVar[tuple[str, str] | None] = ContextVar("task", default=None)
