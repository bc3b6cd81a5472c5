"""Read iTIP replies (RFC 5546) out of whole e-mail messages, forgivingly and without raising."""

from __future__ import annotations

import base64
import email
import email.header
import email.message
import email.parser
import email.policy
import email.utils
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from store.replydata import (
    MALFORMED,
    MALFORMED_MESSAGE,
    NOT_CALENDAR,
    TOO_LARGE,
    TOO_MANY_EVENTS,
    ReadMessage,
    ReplyAttendee,
    ReplyItem,
    normalize_address,
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

MAX_EVENTS = 50
"""VEVENTs read from one calendar object; more is treated as hostile."""

MAX_PARTS = 200
"""MIME leaves looked at in one message."""

MAX_DEPTH = 20
"""MIME nesting followed before giving up on a branch."""


CALENDAR_TYPES = frozenset(
    {"text/calendar", "application/ics", "text/x-vcalendar", "application/x-ics"}
)
"""Content types that carry iCalendar data whatever their file name."""

_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS / SOS / PM / APC strings
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_DT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(\d*)(Z?))?$")


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


def _unsurrogate(text: str) -> str:
    """Undo the surrogate escapes the stdlib uses for undecodable header bytes."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        return text.encode("utf-8", "replace").decode("utf-8", "replace")


def _header_text(value: object) -> str:
    """A header as readable text, RFC 2047 words decoded, never raising."""
    if value is None:
        return ""
    raw = _unsurrogate(str(value))
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


def _address(value: object) -> str | None:
    text = _header_text(value)
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


def _date(value: object) -> datetime | None:
    text = _header_text(value).strip()
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


# --------------------------------------------------------------------------- MIME


def _leaves(part: email.message.Message, depth: int = 0) -> Iterator[email.message.Message]:
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
                    yield from _leaves(child, depth + 1)
        return
    yield part


def _param(part: email.message.Message, name: str) -> str:
    try:
        value = part.get_param(name)
    except Exception:  # noqa: BLE001
        return ""
    if value is None:
        return ""
    if isinstance(value, tuple):
        value = email.utils.collapse_rfc2231_value(value)
    return _unsurrogate(str(value)).strip().strip('"').strip()


def _filename(part: email.message.Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001
        name = ""
    return _header_text(name or _param(part, "name")).strip().lower()


def _is_calendar(part: email.message.Message) -> bool:
    ctype = part.get_content_type()
    if ctype in CALENDAR_TYPES:
        return True
    name = _filename(part)
    return name.endswith((".ics", ".ical", ".vcs")) and ctype not in ("text/html",)


def _decode_bytes(data: bytes, charset: str) -> str:
    """UTF-8 first (every calendar in the corpus is), then the declared charset."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(charset or "latin-1", "replace")
    except LookupError:
        return data.decode("latin-1")


def _part_text(part: email.message.Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if not isinstance(data, bytes):
        payload = part.get_payload()
        return _unsurrogate(payload) if isinstance(payload, str) else ""
    charset = ""
    try:
        charset = part.get_content_charset() or ""
    except Exception:  # noqa: BLE001
        charset = ""
    return _decode_bytes(data, charset)


# --------------------------------------------------------------------------- iCalendar


def _unfold(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # RFC 5545 folds with CRLF + one space; Android folds with a TAB.
    text = re.sub(r"\n[ \t]", "", text)
    return text.split("\n")


Params = dict[str, list[str]]


def _content_line(line: str) -> tuple[str, Params, str] | None:
    """Split ``NAME;P=V;P="V,W":value``; quoted values may hold ``;`` ``:`` ``,``."""
    match = re.match(r"[A-Za-z0-9_-]+", line)
    if not match:
        return None
    name = match.group(0).upper()
    i, n = match.end(), len(line)
    params: Params = {}
    while i < n and line[i] == ";":
        i += 1
        j = i
        while j < n and line[j] not in "=;:":
            j += 1
        pname = line[i:j].strip().upper()
        i = j
        values: list[str] = []
        if i < n and line[i] == "=":
            i += 1
            while True:
                if i < n and line[i] == '"':
                    k = line.find('"', i + 1)
                    if k == -1:
                        values.append(line[i + 1 :])
                        i = n
                        break
                    values.append(line[i + 1 : k])
                    i = k + 1
                else:
                    j = i
                    while j < n and line[j] not in ",;:":
                        j += 1
                    values.append(line[i:j])
                    i = j
                if i < n and line[i] == ",":
                    i += 1
                    continue
                break
        if pname and pname not in params:
            params[pname] = values
    value = line[i + 1 :] if i < n and line[i] == ":" else ""
    return name, params, value


def _first(params: Params, name: str) -> str:
    values = params.get(name) or []
    for v in values:
        if v.strip():
            return v.strip()
    return ""


def unescape_text(value: str) -> str:
    """Undo RFC 5545 TEXT escapes (``\\n`` ``\\N`` ``\\,`` ``\\;`` ``\\\\``)."""

    def repl(m: re.Match[str]) -> str:
        ch = m.group(1)
        return "\n" if ch in "nN" else ch

    return re.sub(r"\\(.)", repl, value)


def parse_ical_datetime(value: str, tzid: str = "") -> datetime | None:
    """A DATE-TIME (or DATE) value as aware UTC; None when unreadable or the zone is unknown.

    A value without ``Z`` and without a zone zoneinfo knows is taken as UTC only
    when `tzid` is empty (floating time, the best guess for a timestamp).
    """
    match = _DT.match(value.strip())
    if not match:
        return None
    year, month, day, hh, mm, ss, _frac, zulu = match.groups()
    try:
        parsed = datetime(  # noqa: DTZ001 - the zone is attached just below
            int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0)
        )
    except ValueError:
        return None
    if zulu:
        return parsed.replace(tzinfo=UTC)
    if tzid:
        try:
            zone = ZoneInfo(tzid.strip().strip('"'))
        except Exception:  # noqa: BLE001 - Windows/Notes names are not IANA zones
            return None
        try:
            return parsed.replace(tzinfo=zone).astimezone(UTC)
        except (OverflowError, ValueError):
            return None
    return parsed.replace(tzinfo=UTC)


def _attendee(params: Params, value: str) -> ReplyAttendee:
    raw = value.strip()
    email_param = normalize_address(_first(params, "EMAIL")) or None
    address = normalize_address(raw)
    delegated = [normalize_address(v) for v in params.get("DELEGATED-TO", []) if v.strip()]
    return ReplyAttendee(
        address=sanitize_text(address, 320, multiline=False),
        email=sanitize_text(email_param, 320, multiline=False) or None,
        name=sanitize_text(_first(params, "CN"), 200, multiline=False) or None,
        partstat=_first(params, "PARTSTAT").upper() or None,
        sent_by=sanitize_text(normalize_address(_first(params, "SENT-BY")), 320, multiline=False)
        or None,
        delegated_to=sanitize_text(delegated[0], 320, multiline=False) if delegated else None,
    )


def _item(method: str, props: list[tuple[str, Params, str]]) -> ReplyItem | None:
    uid = ""
    values: dict[str, tuple[Params, str]] = {}
    attendees: list[ReplyAttendee] = []
    comments: list[str] = []
    private_comments: list[str] = []
    for name, params, value in props:
        if name == "ATTENDEE":
            attendees.append(_attendee(params, value))
        elif name == "COMMENT":
            comments.append(value)
        elif name == "X-CALENDARSERVER-PRIVATE-COMMENT":
            private_comments.append(value)
        elif name not in values:
            values[name] = (params, value)
    if "UID" in values:
        uid = sanitize_text(values["UID"][1], 255, multiline=False)
    if not uid:
        return None
    comment = ""
    for text in comments + private_comments:
        comment = sanitize_text(unescape_text(text))
        if comment:
            break
    sequence = 0
    if "SEQUENCE" in values:
        try:
            sequence = max(0, min(int(values["SEQUENCE"][1].strip()), 2**31 - 1))
        except ValueError:
            sequence = 0
    dtstamp = None
    if "DTSTAMP" in values:
        params, value = values["DTSTAMP"]
        dtstamp = parse_ical_datetime(value) or parse_ical_datetime(value, _first(params, "TZID"))
    dtstart = None
    if "DTSTART" in values:
        params, value = values["DTSTART"]
        dtstart = parse_ical_datetime(value, _first(params, "TZID"))
    organizer = None
    if "ORGANIZER" in values:
        params, value = values["ORGANIZER"]
        organizer = normalize_address(value) or normalize_address(_first(params, "EMAIL")) or None
    recurrence_id = None
    recurrence_start = None
    if "RECURRENCE-ID" in values:
        params, value = values["RECURRENCE-ID"]
        recurrence_id = sanitize_text(value, 100, multiline=False) or None
        recurrence_start = parse_ical_datetime(value, _first(params, "TZID"))
    return ReplyItem(
        method=method,
        uid=uid,
        recurrence_id=recurrence_id,
        attendees=tuple(attendees),
        organizer=sanitize_text(organizer, 320, multiline=False) if organizer else None,
        dtstamp=dtstamp,
        sequence=sequence,
        comment=comment or None,
        dtstart=dtstart,
        recurrence_start=recurrence_start,
    )


def parse_calendar(
    text: str, content_method: str = "", max_events: int = MAX_EVENTS
) -> tuple[list[ReplyItem], str | None]:
    """The VEVENTs of one iCalendar text, and a problem when none can be used.

    Only properties that are direct children of a VEVENT count, so the
    ATTENDEE of an e-mail VALARM is never taken for the replier.
    """
    stack: list[str] = []
    method = ""
    events: list[list[tuple[str, Params, str]]] = []
    current: list[tuple[str, Params, str]] | None = None
    saw_calendar = False
    for line in _unfold(text):
        if not line.strip():
            continue
        parsed = _content_line(line.lstrip())
        if parsed is None:
            continue
        name, params, value = parsed
        if name == "BEGIN":
            kind = value.strip().upper()
            stack.append(kind)
            if kind == "VCALENDAR":
                saw_calendar = True
            if kind == "VEVENT" and current is None and stack.count("VEVENT") == 1:
                if len(events) >= max_events:
                    return [], TOO_MANY_EVENTS
                current = []
            continue
        if name == "END":
            kind = value.strip().upper()
            if kind in stack:
                while stack:
                    top = stack.pop()
                    if top == "VEVENT" and current is not None and "VEVENT" not in stack:
                        events.append(current)
                        current = None
                    if top == kind:
                        break
            continue
        top = stack[-1] if stack else ""
        if name == "METHOD" and top in ("VCALENDAR", "") and not method:
            method = value.strip().upper()
        elif top == "VEVENT" and current is not None:
            current.append((name, params, value))
    if current is not None:
        # A VEVENT that never ended (truncated mail): keep what was read.
        events.append(current)
    if not saw_calendar and not events:
        return [], MALFORMED
    method = method or content_method
    items = [item for props in events if (item := _item(method, props)) is not None]
    if not items:
        return [], MALFORMED
    return items, None


# --------------------------------------------------------------------------- MIME fast path
#
# The stdlib parser costs more than everything else the poller does to a reply. For the
# plain, well-formed message every client sends (ASCII, simple parameters, base64/7bit
# parts), this small reader finds the same calendar texts and header values; whenever
# anything is unusual it gives up (returns None) and the stdlib path reads the message,
# so what it does return is exactly what the stdlib path would (tests compare the two).

_HEADER_LINE = re.compile(r"[\x21-\x39\x3b-\x7e]+:")
_TOKEN = r"[A-Za-z0-9!#$%&'*+.^_`|~=/?{}\[\]-]+"
_SIMPLE_PARAMS = re.compile(
    r"\s*(?:;\s*[A-Za-z0-9_.-]+\s*=\s*(?:\"[^\"\\\r\n]*\"|" + _TOKEN + r")\s*)*;?\s*"
)
_PARAM = re.compile(r";\s*([A-Za-z0-9_.-]+)\s*=\s*(\"[^\"\\\r\n]*\"|" + _TOKEN + r")")
_FAST_CTES = frozenset({"", "7bit", "8bit", "binary", "base64"})
_MAX_FAST_PARTS = 12
"""Parts of a top-level multipart read here (fewer deeper down: at most ~70 leaves in all)."""


class _Head:
    """Header values as the stdlib's compat32 policy returns them (first one wins)."""

    __slots__ = ("values",)

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def get(self, name: str) -> str | None:
        return self.values.get(name.lower())


def _fast_head(lines: list[bytes]) -> tuple[_Head, list[bytes]] | None:
    """Headers and body lines; None unless every header line is plain and a blank line ends them."""
    values: dict[str, str] = {}
    name = ""
    value: list[str] = []
    for at, line in enumerate(lines):
        if line in (b"\r\n", b"\n"):
            if name and name not in values:
                values[name] = "".join(value).rstrip("\r\n")
            return _Head(values), lines[at + 1 :]
        text = line.decode("ascii")
        if text[0] in " \t":
            if not name:
                return None
            value.append(text)
            continue
        match = _HEADER_LINE.match(text)
        if match is None or text.startswith("From "):
            return None
        if name and name not in values:
            values[name] = "".join(value).rstrip("\r\n")
        name = text[: match.end() - 1].lower()
        value = [text[match.end() :].lstrip(" \t")]
    return None


def _fast_params(value: str | None) -> tuple[str, dict[str, str]] | None:
    """(lower-case type, first value of each parameter, unquoted); None when not simple."""
    if value is None:
        return "", {}
    kind, sep, rest = value.partition(";")
    if sep and _SIMPLE_PARAMS.fullmatch(sep + rest) is None:
        return None
    params: dict[str, str] = {}
    for pname, pvalue in _PARAM.findall(sep + rest):
        if len(pvalue) > 1 and pvalue[0] == '"' and pvalue[-1] == '"':
            pvalue = pvalue[1:-1]
        params.setdefault(pname.lower(), pvalue)
    return kind.strip().lower(), params


def _fast_leaves(
    head: _Head, body: list[bytes], found: list[tuple[bool, str, str]], depth: int
) -> bool:
    """Add the calendar texts of one part to `found`; False when the part is not plain."""
    parsed = _fast_params(head.get("content-type"))
    if parsed is None or depth > 2:
        return False
    kind, params = parsed
    if not kind:
        kind = "text/plain"
    if (
        kind.count("/") != 1
        or kind.startswith("message/")
        or kind
        in (
            "multipart/report",
            "multipart/digest",
        )
    ):
        return False
    if kind.startswith("multipart/"):
        boundary = params.get("boundary", "").rstrip()
        if not boundary:
            return False
        return _fast_multipart(boundary, body, found, depth)
    if kind not in CALENDAR_TYPES:
        disposition = _fast_params(head.get("content-disposition"))
        if disposition is None or "name" in params or "filename" in disposition[1]:
            return False
        return True
    cte = (head.get("content-transfer-encoding") or "").lower()
    if cte not in _FAST_CTES:
        return False
    payload = b"".join(body)
    if cte == "base64":
        joined = b"".join(payload.splitlines())
        if len(joined) % 4:
            return False
        try:
            payload = base64.b64decode(joined, validate=True)
        except ValueError:
            return False
    method = params.get("method", "").strip().strip('"').strip().upper()
    found.append((bool(method), _decode_bytes(payload, params.get("charset", "").lower()), method))
    return True


def _fast_multipart(
    boundary: str, lines: list[bytes], found: list[tuple[bool, str, str]], depth: int
) -> bool:
    if depth > 1:
        return False
    separator = ("--" + boundary).encode("ascii")
    parts: list[list[bytes]] = []
    current: list[bytes] | None = None
    closed = False
    for line in lines:
        if line.startswith(separator):
            tail = line[len(separator) :].rstrip(b"\r\n")
            if not tail.strip(b" \t") or tail.rstrip(b" \t") == b"--":
                if current is not None and not current:
                    return False  # two boundary lines in a row
                if current is not None:
                    parts.append(current)
                if tail.rstrip(b" \t") == b"--":
                    closed = current is not None
                    break
                current = []
                continue
        if current is not None:
            current.append(line)
    if not closed or len(parts) > _MAX_FAST_PARTS // (depth + 1):
        return False
    for part in parts:
        split = _fast_head(part)
        if split is None:
            return False
        head, body = split
        if body:
            # The line break before a boundary belongs to the boundary (RFC 2046).
            last = body[-1]
            body[-1] = last[:-2] if last.endswith(b"\r\n") else last[:-1]
        if not _fast_leaves(head, body, found, depth + 1):
            return False
    return True


def _fast_read(raw: bytes) -> tuple[_Head, list[tuple[bool, str, str]]] | None:
    """The headers and calendar candidates of a plain message, or None to use the stdlib."""
    if not raw.isascii() or raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    split = _fast_head(raw.splitlines(keepends=True))
    if split is None:
        return None
    head, body = split
    found: list[tuple[bool, str, str]] = []
    try:
        if not _fast_leaves(head, body, found, 0):
            return None
    except Exception:  # noqa: BLE001 - anything unexpected goes the stdlib way
        return None
    return head, found


# --------------------------------------------------------------------------- whole message


def _split_head(raw: bytes) -> bytes:
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = raw.find(sep)
        if at != -1:
            return raw[: at + len(sep)]
    return raw[:65536]


def _headers(msg: email.message.Message | _Head) -> dict[str, object]:
    message_id = sanitize_text(_header_text(msg.get("Message-ID")), 255, multiline=False)
    return {
        "message_id": message_id or None,
        "from_address": _address(msg.get("From")),
        "sender_address": _address(msg.get("Sender")),
        "date": _date(msg.get("Date")),
        "subject": sanitize_text(_header_text(msg.get("Subject")), 300, multiline=False),
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
            candidates = [(False, _decode_bytes(raw, "utf-8"), "")]
        elif (fast := _fast_read(raw)) is not None:
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
    for count, part in enumerate(_leaves(msg)):
        if count >= MAX_PARTS:
            break
        if not _is_calendar(part):
            continue
        method = _param(part, "method").upper()
        found.append((bool(method), _part_text(part), method))
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
