"""Reading import CSV files: the header check every import shares."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any


def open_csv(
    text: str,
    required: Sequence[str],
    optional: Sequence[str],
    errors: list[tuple[int, str]],
) -> tuple[Any, list[str]] | None:
    """A csv reader positioned after a checked header, and the header's column names.

    Problems with the header are appended to `errors` as line 1 and None is
    returned; the reader's `line_num` gives the line of each later row.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        errors.append((1, "the file is empty; expected a header line"))
        return None
    except csv.Error as exc:
        errors.append((1, f"unreadable CSV: {exc}"))
        return None
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in (*required, *optional)]
    if missing or unknown:
        problem = []
        if missing:
            problem.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            problem.append(f"unknown column(s) {', '.join(unknown)}")
        expected = ",".join((*required, *optional))
        errors.append((1, f"header: {'; '.join(problem)} (expected {expected})"))
        return None
    return reader, header


def data_rows(
    reader: Any, header: list[str], errors: list[tuple[int, str]]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Each non-blank row after the header as (line number, column -> value).

    Rows with the wrong number of fields and unreadable CSV are appended to
    `errors` with their line number instead.
    """
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                errors.append((line, f"expected {len(header)} fields, found {len(row)}"))
                continue
            yield line, dict(zip(header, row, strict=True))
    except csv.Error as exc:
        errors.append((reader.line_num, f"unreadable CSV: {exc}"))
