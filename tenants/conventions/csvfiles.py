"""
CSV files in and out (product import and export, order export): the one reader
that refuses what nothing behind it can store, and the one writer that keeps
spreadsheets from running a cell as a formula.

The reader refuses, for the whole file, before any row is looked at: more bytes
or rows than allowed, bytes that are not UTF-8 (a lone surrogate's encoding
included: Python's strict decoder refuses it), NUL characters (PostgreSQL's
text refuses them), and what Python's csv module cannot parse (an unclosed
quote, a field past its size limit). Cell values are the callers' to check.

The writer prefixes a cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return with an apostrophe (OWASP's advice against CSV injection), and
the reader takes that apostrophe away again, so what was exported imports back
unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tenants.errors import DomainError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_CONTENT_TYPE = "text/csv"


class CsvInvalid(DomainError):
    status = 400
    code = "csv_invalid"
    title = "Not a readable CSV file"


class CsvTooLarge(DomainError):
    status = 413
    code = "csv_too_large"
    title = "CSV file too large"


@dataclass(frozen=True)
class CsvRow:
    """One data row: its line in the file (the header is line 1) and its cells by column name."""

    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


def csv_cell_in(value: str) -> str:
    """A cell as the writer meant it: without the apostrophe that guarded a formula-like start."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def csv_cell_out(value: object) -> str:
    """A value as a cell that no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_read(data: bytes, *, max_bytes: int, max_rows: int, required: Sequence[str]) -> list[CsvRow]:
    """
    Decode and parse a whole CSV file with a header row; refuse it as a whole
    (CsvTooLarge, CsvInvalid) for any of the reasons the module describes.
    Columns are matched by their header, trimmed; unknown columns are ignored.
    """
    if len(data) > max_bytes:
        raise CsvTooLarge(f"The file has {len(data)} bytes; at most {max_bytes} are accepted.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CsvInvalid(
            f"The file is not valid UTF-8 (line {line}, byte {error.start}); save it as UTF-8.",
            errors={"file": [f"Line {line}: invalid UTF-8."]},
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise CsvInvalid(
            f"The file holds a NUL character (line {line}).",
            errors={"file": [f"Line {line}: NUL character."]},
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise CsvInvalid("The file is empty; it needs a header row.", errors={"file": ["No header row."]})
        columns = [name.strip() for name in header]
        missing = [name for name in required if name not in columns]
        if missing:
            raise CsvInvalid(
                f"The header lacks the column(s) {', '.join(missing)}.",
                errors={"file": [f"Missing column: {name}" for name in missing]},
            )
        rows: list[CsvRow] = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue  # blank lines, as spreadsheets leave them at the end
            if len(rows) >= max_rows:
                raise CsvTooLarge(f"The file has more than {max_rows} rows; split it.")
            rows.append(
                CsvRow(
                    line=reader.line_num,
                    cells={
                        name: csv_cell_in(value.strip()) for name, value in zip(columns, values, strict=False)
                    },
                )
            )
    except csv.Error as error:
        raise CsvInvalid(
            f"The file cannot be read as CSV near line {reader.line_num}: {error}.",
            errors={"file": [f"Line {reader.line_num}: {error}"]},
        ) from None
    return rows


def csv_write(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """The CSV file (UTF-8, CRLF line ends as RFC 4180 has them) of a header and rows, every cell guarded."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell_out(value) for value in row])
    return buffer.getvalue().encode("utf-8")
