"""Text hygiene for what replies carry: control and escape sequences out, headers decoded."""

from __future__ import annotations

import email
import email.header
import email.message
import email.parser
import email.policy
import email.utils
import re
import unicodedata
from datetime import UTC, datetime

from store.replydata import (
    normalize_address,
)

_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS / SOS / PM / APC strings
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


# --------------------------------------------------------------------------- text hygiene


def sanitize_text(text: str | None, limit: int = 2000, *, multiline: bool = True) -> str:
    """Text safe to show in a terminal: no escape sequences, control or bidi characters.

    Newlines survive when `multiline`; tabs become spaces; the result is stripped
    and cut to `limit` characters.
    """
    if not text:
        return ""
    if text.isprintable() and len(text) <= limit:
        # The common case: nothing to remove (isprintable is False for controls, bidi marks).
        return text.strip() if multiline else re.sub(r"\s{2,}", " ", text.strip())
    text = _ANSI.sub("", text)
    out: list[str] = []
    for ch in text:
        if ch == "\n":
            out.append("\n" if multiline else " ")
        elif ch in "\t\r":
            out.append(" ")
        elif ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs", "Co"):
            continue
        else:
            out.append(ch)
    result = "".join(out).strip()
    if not multiline:
        result = re.sub(r"\s{2,}", " ", result)
    if len(result) > limit:
        result = result[: limit - 1].rstrip() + "…"
    return result


def unsurrogate(text: str) -> str:
    """Undo the surrogate escapes the stdlib uses for undecodable header bytes."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        return text.encode("utf-8", "replace").decode("utf-8", "replace")


def header_text(value: object) -> str:
    """A header as readable text, RFC 2047 words decoded, never raising."""
    if value is None:
        return ""
    raw = unsurrogate(str(value))
    try:
        chunks = email.header.decode_header(raw)
    except Exception:  # noqa: BLE001 - header syntax is attacker-controlled
        return raw
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            try:
                out.append(chunk.decode(charset or "utf-8", "replace"))
            except LookupError:
                out.append(chunk.decode("latin-1"))
        else:
            out.append(chunk)
    return "".join(out)


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def header_address(value: object) -> str | None:
    text = header_text(value)
    if not text:
        return None
    if _PLAIN_ADDRESS.fullmatch(text):
        # A bare address: what getaddresses would return, without its cost.
        return sanitize_text(normalize_address(text), 320, multiline=False) or None
    try:
        pairs = email.utils.getaddresses([text])
    except Exception:  # noqa: BLE001
        pairs = []
    for _name, addr in pairs:
        if "@" in addr:
            return sanitize_text(normalize_address(addr), 320, multiline=False) or None
    match = re.search(r"[^\s<>\"',;:]+@[^\s<>\"',;:]+", text)
    return sanitize_text(normalize_address(match.group(0)), 320, multiline=False) if match else None


def header_date(value: object) -> datetime | None:
    text = header_text(value).strip()
    if not text:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except Exception:  # noqa: BLE001
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
