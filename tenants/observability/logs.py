"""
JSON log records, one line each, for every process (gunicorn, Celery, commands).

Each record carries `request_id` (the request or the task queued by one) and
`schema` (the shop whose schema the database connection is on), read when the
record is formatted, so no code needs to pass them. A plain `logging.Formatter`
does it: it costs a `json.dumps` per line and nothing at all for records that
no handler emits.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from tenants.observability.context import current_request_id, task_var

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", (), None)).keys() | {"message", "asctime"}
)


def _current_schema() -> str | None:
    """The schema of this thread's database connection, without ever opening one."""
    try:
        from django.db import connection

        return getattr(connection, "schema_name", None)
    except Exception:  # Django not configured yet (gunicorn master booting)
        return None


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message, request id, schema, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            entry["request_id"] = request_id
        schema = getattr(record, "schema", None) or _current_schema()
        if schema:
            entry["schema"] = schema
        task = task_var.get()
        if task is not None:
            entry["task"], entry["task_id"] = task
        for name, value in record.__dict__.items():
            if name not in _STANDARD_ATTRIBUTES and name not in entry:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)

    _second = -1
    _second_text = ""

    def _time(self, record: logging.LogRecord) -> str:
        seconds = int(record.created)
        if seconds != self._second:  # strftime once a second, not once a line
            self._second, self._second_text = (
                seconds,
                time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)),
            )
        return f"{self._second_text}.{int((record.created - seconds) * 1000):03d}Z"
