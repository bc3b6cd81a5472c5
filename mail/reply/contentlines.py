"""A forgiving iCalendar content-line reader: unfolding, parameters, values, VEVENT items."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from mail.reply.limits import MAX_EVENTS
from mail.reply.sanitize import sanitize_text
from store.replydata import (
    MALFORMED,
    TOO_MANY_EVENTS,
    ReplyAttendee,
    ReplyItem,
    normalize_address,
)

_DT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(\d*)(Z?))?$")


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
