"""
Schemathesis hooks for tests/test_contract_fuzz.py and `make fuzz` (schemathesis.toml
loads this module). Hypothesis draws the same few Idempotency-Key values again and
again; the API then replays an earlier answer (or refuses another body with 422), as
documented, and a replayed create can name a row deleted since. A client sends a new
key per new request: so does the fuzzer, for every key the document calls valid.
Invalid keys (negative generation) are left as drawn.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import schemathesis

VALID_KEY = re.compile(r"^[!-~]{1,255}$")


@schemathesis.hook
def map_headers(context: Any, headers: dict[str, Any] | None) -> dict[str, Any] | None:
    key = (headers or {}).get("Idempotency-Key")
    if headers is not None and isinstance(key, str) and VALID_KEY.fullmatch(key):
        headers["Idempotency-Key"] = str(uuid.uuid4())
    return headers
