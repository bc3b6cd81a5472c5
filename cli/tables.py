"""Helpers the reporting commands share: option parsing and plain-text tables."""

from __future__ import annotations

from datetime import date
from typing import Any


def parse_days(value: str | None) -> int | None:
    """A `--days N` option: a whole number of days, zero allowed."""
    from store.validate import positive_int

    return None if value is None else positive_int(value, "days", allow_zero=True)


def parse_day(value: str | None, field: str) -> date | None:
    """A YYYY-MM-DD option; errors name `field`."""
    from store.validate import parse_date

    return None if value is None else parse_date(value, field)


def text_table(rows: list[dict[str, Any]]) -> str:
    """Rows as aligned plain-text columns for people reading a terminal."""
    if not rows:
        return "(no rows)"
    headers = list(rows[0].keys())
    cells = [["" if r[h] is None else str(r[h]) for h in headers] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines)
