"""CSV files: reading imports as people save them, and cells safe for spreadsheets.

Spreadsheets save CSV in several ways, all accepted: UTF-8 with or without
a byte-order mark, CRLF or LF line ends, ``,`` or the ``;`` that Excel
writes in locales whose decimal mark is a comma, and Windows-1252 from older
Excel. Windows-1252 is assumed only when the file holds no valid UTF-8
multi-byte sequence at all; a file that mixes valid and invalid UTF-8 is
damaged, and the error names the line of the first bad byte.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from store.errors import ValidationError

# A well-formed UTF-8 sequence of two to four bytes (RFC 3629).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _line_of(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


def _decode(data: bytes, encoding: str, field: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        shown = data[exc.start : exc.start + 1].hex()
        raise ValidationError(
            f"line {_line_of(data, exc.start)}: byte 0x{shown} is not valid {encoding}"
            " (save the file as UTF-8, or name its encoding with --encoding)",
            field=field,
        ) from exc


def decode_csv(data: bytes, encoding: str | None = None, field: str = "file") -> str:
    """The text of a CSV file's bytes, in `encoding` or detected; `ValidationError` naming the line.

    Without `encoding`: a byte-order mark decides; else UTF-8; else, when no
    valid UTF-8 multi-byte sequence occurs, Windows-1252.
    """
    if encoding:
        try:
            name = codecs.lookup(encoding).name
        except LookupError as exc:
            raise ValidationError(f"unknown encoding {encoding!r}", field="encoding") from exc
        if name == "utf-8":
            name = "utf-8-sig"  # a BOM is never part of the first column's name
        return _decode(data, name, field)
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _decode(data, name, field)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if _UTF8_MULTIBYTE.search(data):
            return _decode(data, "utf-8", field)
        return _decode(data, "cp1252", field)


def read_csv_bytes(path: str | Path, encoding: str | None = None, field: str = "file") -> str:
    """Read and decode a CSV file (see `decode_csv`); `ValidationError` naming `field`."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc}", field=field) from exc
    return decode_csv(data, encoding, field)


def _separator(text: str) -> str:
    """``;`` when the header line has more of them than commas (Excel in many locales)."""
    first = text.split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


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
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text))
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
