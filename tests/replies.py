"""Build iTIP replies for tests: plain ones, and real-client samples with our UID and addresses."""

from __future__ import annotations

import base64
import quopri
import re
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "imip"


def stamp(value: datetime) -> str:
    """An iCalendar UTC DATE-TIME."""
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def reply_ics(
    uid: str,
    attendee: str,
    partstat: str = "ACCEPTED",
    *,
    dtstamp: datetime | None = None,
    sequence: int = 0,
    comment: str | None = None,
    method: str = "REPLY",
    organizer: str | None = "training@example.test",
    attendee_params: str = "",
    dtstart: datetime | None = None,
    recurrence_id: datetime | None = None,
) -> str:
    """A minimal REPLY calendar object (CRLF line ends)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//tests//EN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{stamp(dtstamp or datetime.now(UTC))}",
        f"SEQUENCE:{sequence}",
    ]
    if organizer:
        lines.append(f"ORGANIZER:mailto:{organizer}")
    if dtstart is not None:
        lines.append(f"DTSTART:{stamp(dtstart)}")
    if recurrence_id is not None:
        lines.append(f"RECURRENCE-ID:{stamp(recurrence_id)}")
    lines.append(f"ATTENDEE;PARTSTAT={partstat}{attendee_params}:mailto:{attendee}")
    if comment is not None:
        lines.append(f"COMMENT:{comment}")
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines)


def reply_message(
    ics: str,
    *,
    sender: str,
    to: str = "training@example.test",
    message_id: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    """An Outlook-like multipart/alternative reply carrying `ics` base64 with method=REPLY."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = "Accepted: Fire Safety"
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@example.test>"
    for name, value in (extra_headers or {}).items():
        msg[name] = value
    msg.set_content("Reply")
    method = re.search(r"METHOD:(\w+)", ics)
    msg.add_alternative(
        ics.encode(),
        maintype="text",
        subtype="calendar",
        params={"method": method.group(1) if method else "REPLY", "charset": "UTF-8"},
        cte="base64",
    )
    return msg.as_bytes()


# Per-client templates: a corpus reply whose UID, addresses and DTSTAMP are swapped for ours.
CLIENT_SAMPLES = {
    "outlook-mac": ("outlook-mac/reply-accepted-outlook-mac-2011.eml", "ACCEPTED"),
    "gmail": ("google/reply-declined-gmail.eml", "DECLINED"),
    "thunderbird": ("thunderbird/reply-accepted-lightning.eml", "ACCEPTED"),
    "ios": ("apple/reply-tentative-ios.eml", "TENTATIVE"),
    "android": ("android/reply-declined-android-email-base64.eml", "DECLINED"),
    "outlook2010": ("outlook-exchange/reply-accepted-outlook2010-empty-comment.eml", "ACCEPTED"),
    "bluemind": ("bluemind/reply-accepted-bluemind.eml", "ACCEPTED"),
}


def client_reply(
    client: str, uid: str, attendee: str, organizer: str, dtstamp: datetime
) -> tuple[bytes, str]:
    """The client's corpus reply rewritten for our session; returns (bytes, PARTSTAT)."""
    path, partstat = CLIENT_SAMPLES[client]
    raw = (DATA / path).read_bytes()
    ics = _calendar_of(raw)
    old_uid = re.search(r"^UID:(.*)$", ics, re.M)
    old_att = re.search(r"^ATTENDEE[^\n]*?:(?:mailto|MAILTO):([^\s]+)$", ics, re.M)
    assert old_uid, client
    assert old_att, client
    old_org = re.search(r"^ORGANIZER[^\n]*?:(?:mailto|MAILTO):([^\s]+)$", ics, re.M)
    mapping = {old_uid.group(1).strip(): uid, old_att.group(1).strip(): attendee}
    if old_org:
        mapping[old_org.group(1).strip()] = organizer
    new_ics = re.sub(r"^DTSTAMP:.*$", f"DTSTAMP:{stamp(dtstamp)}", ics, flags=re.M)
    for old, new in mapping.items():
        new_ics = new_ics.replace(old, new)
    out = _replace_calendar(raw, ics, new_ics)
    for old, new in mapping.items():
        out = out.replace(old.encode(), new.encode())
    # Each delivery is a new message.
    out = re.sub(
        rb"(?im)^(Message-Id:\s*).*$", b"\\1<" + uuid.uuid4().hex.encode() + b"@client.test>", out
    )
    return out, partstat


def _calendar_of(raw: bytes) -> str:
    from email import message_from_bytes, policy

    msg = message_from_bytes(raw, policy=policy.compat32)
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            text = data.decode("utf-8")
            return re.sub(r"\r?\n[ \t]", "", text.replace("\r\n", "\n"))
    raise AssertionError("no calendar part")


def _replace_calendar(raw: bytes, old_ics: str, new_ics: str) -> bytes:
    """Swap the calendar part's content, re-encoding it as the original was encoded."""
    from email import message_from_bytes, policy

    msg = message_from_bytes(raw, policy=policy.compat32)
    new_ics = "\n".join(_fold(line) for line in new_ics.split("\n"))
    for part in msg.walk():
        if part.get_content_type() in ("text/calendar", "application/ics"):
            cte = (part.get("Content-Transfer-Encoding") or "7bit").lower()
            body = new_ics.replace("\n", "\r\n").encode()
            if cte == "base64":
                part.set_payload(base64.encodebytes(body).decode())
            elif cte == "quoted-printable":
                part.set_payload(quopri.encodestring(body).decode())
            else:
                part.set_payload(new_ics.replace("\n", "\r\n"))
    return msg.as_bytes()


def _fold(line: str, width: int = 74) -> str:
    """Fold one content line (CRLF + space continuation) so no line is too long for SMTP."""
    if len(line) <= width:
        return line
    parts = [line[i : i + width] for i in range(0, len(line), width)]
    return "\n ".join(parts)
