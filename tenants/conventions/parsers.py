"""
Request parsing: JSON only, and no input can make the parser itself fail.

The parser is also the one place that refuses JSON which decodes but which
nothing behind it can store: a NUL character (PostgreSQL's text and jsonb
refuse it), a lone UTF-16 surrogate such as "\\ud800" (not encodable as UTF-8)
and numbers beyond a double's range such as 1e400 (Python makes them
infinity, which is not JSON either). Refused here, every endpoint, today's and
tomorrow's, answers them with the same 400 problem before a view runs.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding  # type: ignore[attr-defined]

# A NUL or any UTF-16 surrogate: in a decoded str, a surrogate is always a lone one.
UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_STRING = "Must not contain NUL characters or lone surrogates (\\u0000, \\ud800-\\udfff)."
UNSTORABLE_KEY = "Keys must not contain NUL characters or lone surrogates (\\u0000, \\ud800-\\udfff)."
UNSTORABLE_NUMBER = "Numbers must be within the range of a double (about ±1.8e308)."


class UnstorableJSON(ParseError):
    """JSON that decodes but that nothing can store, with the fields that hold it."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        fields = ", ".join(errors)
        super().__init__(f"JSON parse error - the body holds what cannot be stored, in: {fields}.")
        self.errors = errors


class _OutOfRange:
    """Stands for a number beyond a double while decoding, so the walk can name its field."""


OUT_OF_RANGE = _OutOfRange()


def _number(text: str) -> float | _OutOfRange:
    value = float(text)
    return value if math.isfinite(value) else OUT_OF_RANGE


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _unstorable(document: Any) -> dict[str, list[str]]:
    """Every field of `document` holding NUL, a lone surrogate or a number beyond a double."""
    errors: dict[str, list[str]] = {}
    pending: list[tuple[Any, str]] = [(document, "")]
    while pending:
        item, path = pending.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if UNSTORABLE_CHARACTER.search(key):
                    errors.setdefault(path or "non_field_errors", []).append(UNSTORABLE_KEY)
                else:
                    pending.append((value, f"{path}.{key}" if path else key))
        elif isinstance(item, list):
            pending.extend(
                (value, f"{path}.{index}" if path else str(index)) for index, value in enumerate(item)
            )
        elif item is OUT_OF_RANGE:
            errors.setdefault(path or "non_field_errors", []).append(UNSTORABLE_NUMBER)
        elif isinstance(item, str) and UNSTORABLE_CHARACTER.search(item):
            errors.setdefault(path or "non_field_errors", []).append(UNSTORABLE_STRING)
    return errors


def json_body_load(text: str) -> Any:
    """Decode a request body's JSON: ValueError if it is not JSON, UnstorableJSON if it cannot be stored."""
    numbers_out_of_range = False

    def number(text: str) -> float | _OutOfRange:
        nonlocal numbers_out_of_range
        value = _number(text)
        numbers_out_of_range = numbers_out_of_range or value is OUT_OF_RANGE
        return value

    document = json.loads(text, parse_float=number, parse_constant=_no_constants)
    # NUL and surrogates can only arrive as \u escapes: a raw NUL is a control character
    # the decoder refuses, a raw surrogate is invalid UTF-8. No escape, nothing to walk.
    if numbers_out_of_range or "\\u" in text:
        errors = _unstorable(document)
        if errors:
            raise UnstorableJSON(dict(sorted(errors.items())))
    return document


class JSONBodyParser(JSONParser):
    """DRF's JSON parser, also refusing unstorable strings and numbers and bodies nested too deep."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
            return json_body_load(text)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
            raise ParseError(f"JSON parse error - {exc}") from None
