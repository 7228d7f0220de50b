"""
Writing down what happened in the outside world, whatever happened to our
database session meanwhile.

A worker that has sent an e-mail or POSTed a webhook must record it before
anything can send it again. If the session it holds died meanwhile (PostgreSQL
restarted, a backend terminated, PgBouncer recycled it), the write is made again
on a fresh connection, with short waits, for up to OUTCOME_RECORD_SECONDS; only
an outage longer than that leaves the outcome unrecorded (and the send to be
repeated, under the same Message-ID or Storefleet-Delivery id).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Waits between tries, in seconds; the last one repeats until the budget is spent.
BACKOFF = (0.05, 0.2, 0.5, 1.0, 2.0)


def connection_refresh() -> None:
    """Drop the current session; the next query opens a fresh one on the same schema."""
    # django-tenants keeps the schema on the wrapper and sets it on the new session's first cursor.
    connection.close()


def persist_with_retries(write: Callable[[], T], *, what: str) -> T:
    """
    Run `write` (a short, self-contained write: its own transaction, or one
    statement) until it succeeds, each retry on a fresh database session; give
    up, re-raising, after OUTCOME_RECORD_SECONDS. Inside a caller's transaction
    (a task run eagerly) it runs once: that session holds the caller's work.
    """
    if connection.in_atomic_block:
        return write()
    give_up = time.monotonic() + settings.OUTCOME_RECORD_SECONDS
    tries = 0
    while True:
        try:
            return write()
        except (OperationalError, InterfaceError):
            tries += 1
            wait = BACKOFF[min(tries - 1, len(BACKOFF) - 1)]
            if time.monotonic() + wait > give_up:
                logger.error("Could not record %s after %s tries; giving up", what, tries)
                raise
            logger.warning("Recording %s failed (try %s); retrying on a fresh connection", what, tries)
            connection_refresh()
            time.sleep(wait)
