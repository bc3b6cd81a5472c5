"""Read iTIP replies (RFC 5546) out of whole e-mail messages, forgivingly and without raising.

The package splits the work at its seams: `sanitize` (text hygiene), `mime` (the
standard library's MIME walk), `fastpath` (a small reader for plain messages),
`contentlines` (iCalendar content lines into reply items); this module puts
them together in `read_reply`. Rule codes (R1, R2, ...) are the reading rules
of docs/itip-rules.md.
"""

from __future__ import annotations

import email
import email.header
import email.message
import email.parser
import email.policy
import email.utils

from store.replydata import (
    MALFORMED,
    MALFORMED_MESSAGE,
    NOT_CALENDAR,
    TOO_LARGE,
    TOO_MANY_EVENTS,
    ReadMessage,
)

__all__ = [
    "MALFORMED",
    "MALFORMED_MESSAGE",
    "NOT_CALENDAR",
    "TOO_LARGE",
    "TOO_MANY_EVENTS",
    "parse_calendar",
    "read_reply",
    "sanitize_text",
]

from mail.reply.contentlines import parse_calendar
from mail.reply.fastpath import FastHead, fast_read
from mail.reply.limits import MAX_EVENTS, MAX_PARTS
from mail.reply.mime import decode_bytes, is_calendar, leaves, param, part_text
from mail.reply.sanitize import header_address, header_date, header_text, sanitize_text

# --------------------------------------------------------------------------- whole message


def _split_head(raw: bytes) -> bytes:
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = raw.find(sep)
        if at != -1:
            return raw[: at + len(sep)]
    return raw[:65536]


def _headers(msg: email.message.Message | FastHead) -> dict[str, object]:
    message_id = sanitize_text(header_text(msg.get("Message-ID")), 255, multiline=False)
    return {
        "message_id": message_id or None,
        "from_address": header_address(msg.get("From")),
        "sender_address": header_address(msg.get("Sender")),
        "date": header_date(msg.get("Date")),
        "subject": sanitize_text(header_text(msg.get("Subject")), 300, multiline=False),
    }


def read_reply(
    raw: bytes | str, *, max_bytes: int | None = None, max_events: int = MAX_EVENTS
) -> ReadMessage:
    """Read one whole message (or a bare .ics file) into a `ReadMessage`; never raises.

    A message larger than `max_bytes` is not parsed beyond its header. The
    problem field says why nothing can be applied.
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    size = len(raw)
    head: dict[str, object] = {}
    try:
        if max_bytes is not None and size > max_bytes:
            head = _headers(
                email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(
                    _split_head(raw)
                )
            )
            return ReadMessage(size=size, problem=TOO_LARGE, **head)  # type: ignore[arg-type]
        if raw.lstrip()[:15].upper() == b"BEGIN:VCALENDAR":
            candidates = [(False, decode_bytes(raw, "utf-8"), "")]
        elif (fast := fast_read(raw)) is not None:
            head = _headers(fast[0])
            candidates = fast[1]
        else:
            msg = email.message_from_bytes(raw, policy=email.policy.compat32)
            head = _headers(msg)
            candidates = _candidates(msg)
        return _choose(candidates, size, head, max_events)
    except Exception:  # noqa: BLE001 - one bad message must never stop the poller
        return ReadMessage(size=size, problem=MALFORMED_MESSAGE, **_safe_head(raw))  # type: ignore[arg-type]


def _safe_head(raw: bytes) -> dict[str, object]:
    try:
        return _headers(
            email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(
                _split_head(raw)
            )
        )
    except Exception:  # noqa: BLE001
        return {}


def _candidates(msg: email.message.Message) -> list[tuple[bool, str, str]]:
    """Calendar texts found in the leaves: (has method parameter, text, method parameter)."""
    found = []
    for count, part in enumerate(leaves(msg)):
        if count >= MAX_PARTS:
            break
        if not is_calendar(part):
            continue
        method = param(part, "method").upper()
        found.append((bool(method), part_text(part), method))
    return found


def _choose(
    candidates: list[tuple[bool, str, str]], size: int, head: dict[str, object], max_events: int
) -> ReadMessage:
    if not candidates:
        return ReadMessage(size=size, problem=NOT_CALENDAR, **head)  # type: ignore[arg-type]
    # R2: the part with a method parameter first; identical copies read once.
    candidates.sort(key=lambda c: not c[0])
    seen: set[str] = set()
    problem = MALFORMED
    for _has_method, text, method in candidates:
        if text in seen:
            continue
        seen.add(text)
        items, why = parse_calendar(text, method, max_events)
        if items:
            if not items[0].method:
                return ReadMessage(
                    size=size,
                    items=tuple(items),
                    problem=NOT_CALENDAR,
                    **head,  # type: ignore[arg-type]
                )
            return ReadMessage(
                size=size,
                items=tuple(items),
                content_method=method or None,
                **head,  # type: ignore[arg-type]
            )
        if why == TOO_MANY_EVENTS:
            problem = why
    return ReadMessage(size=size, problem=problem, **head)  # type: ignore[arg-type]
