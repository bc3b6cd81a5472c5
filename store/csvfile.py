"""CSV files: the header check every import shares, and cells safe for spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
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


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is run as a formula by spreadsheet programs."""


def spreadsheet_safe(value: Any) -> Any:
    """A cell value a spreadsheet shows as text instead of running it (OWASP CSV injection).

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading
    ``'``; numbers and other values pass as they are. Every CSV writer calls this.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
