"""The standard library's MIME walk: the leaves of a message, their parameters and text."""

from __future__ import annotations

import email
import email.header
import email.message
import email.parser
import email.policy
import email.utils
from collections.abc import Iterator

from mail.reply.limits import CALENDAR_TYPES, MAX_DEPTH
from mail.reply.sanitize import header_text, unsurrogate

# --------------------------------------------------------------------------- MIME


def leaves(part: email.message.Message, depth: int = 0) -> Iterator[email.message.Message]:
    """Leaf parts in order, skipping delivery reports and forwarded messages (R5)."""
    if depth > MAX_DEPTH:
        return
    ctype = part.get_content_type()
    if ctype.startswith("message/") or ctype == "multipart/report":
        return
    if part.is_multipart():
        payload = part.get_payload()
        if isinstance(payload, list):
            for child in payload:
                if isinstance(child, email.message.Message):
                    yield from leaves(child, depth + 1)
        return
    yield part


def param(part: email.message.Message, name: str) -> str:
    try:
        value = part.get_param(name)
    except Exception:  # noqa: BLE001
        return ""
    if value is None:
        return ""
    if isinstance(value, tuple):
        value = email.utils.collapse_rfc2231_value(value)
    return unsurrogate(str(value)).strip().strip('"').strip()


def _filename(part: email.message.Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001
        name = ""
    return header_text(name or param(part, "name")).strip().lower()


def is_calendar(part: email.message.Message) -> bool:
    ctype = part.get_content_type()
    if ctype in CALENDAR_TYPES:
        return True
    name = _filename(part)
    return name.endswith((".ics", ".ical", ".vcs")) and ctype not in ("text/html",)


def decode_bytes(data: bytes, charset: str) -> str:
    """UTF-8 first (every calendar in the corpus is), then the declared charset."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(charset or "latin-1", "replace")
    except LookupError:
        return data.decode("latin-1")


def part_text(part: email.message.Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if not isinstance(data, bytes):
        payload = part.get_payload()
        return unsurrogate(payload) if isinstance(payload, str) else ""
    charset = ""
    try:
        charset = part.get_content_charset() or ""
    except Exception:  # noqa: BLE001
        charset = ""
    return decode_bytes(data, charset)
