"""Render an outbox row's payload into the email people receive (text, HTML, iCalendar)."""

from __future__ import annotations

import base64
import binascii
import email
import html
import json
import unicodedata
import uuid
from datetime import UTC, datetime
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from functools import cache, lru_cache
from importlib import resources
from string import Template
from typing import Any, NotRequired, TypedDict, Unpack
from zoneinfo import ZoneInfo

from mail import ical
from store.clock import utcnow
from store.local_time import span_text, start_text

WORKFLOW_SUBJECTS = {
    "approval_request": "Approval needed",
    "request_approved": "Request approved",
    "request_declined": "Request declined",
    "request_expired": "Request expired",
    "offer": "Place offered",
    "offer_passed": "Offer passed on",
    "interest_full": "New date (full)",
}
"""Subjects of the approval, offer and interest-list messages."""

SUBJECTS = {
    "confirmation": "Booking confirmed",
    "waitlisted": "Waitlisted",
    "promoted": "Place confirmed",
    "invitation": "Invitation",
    "update": "Updated invitation",
    "cancellation": "Cancelled",
    "removal": "Booking cancelled",
    "reminder": "Reminder",
    "trainer_assignment": "Trainer invitation",
    "trainer_removal": "No longer training",
    "trainer_declined": "Trainer declined",
    **WORKFLOW_SUBJECTS,
}
"""Subject prefix per kind; a "message" uses the admin's own subject."""

CHANGE_WORDS = {
    "start": "date or time",
    "duration_minutes": "duration",
    "location": "location",
    "online_url": "meeting link",
    "title": "title",
    "description": "description",
    "trainer": "trainer",
    "materials": "pre-read",
}


@cache
def _template(name: str) -> Template:
    text = resources.files("mail").joinpath("templates", name).read_text(encoding="utf-8")
    return Template(text)


def _zone(payload: dict[str, Any]) -> ZoneInfo:
    return ZoneInfo(payload.get("timezone") or "UTC")


def _local(payload: dict[str, Any], key: str) -> datetime:
    moment = datetime.fromisoformat(payload["session"][key])
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_zone(payload))


def short_when(payload: dict[str, Any]) -> str:
    """The start as a subject shows it, in the configured zone: ``Tue 1 Dec 09:30``."""
    start = _local(payload, "start")
    return f"{start:%a} {start.day} {start:%b} {start_text(start, _zone(payload))}"


def long_when(payload: dict[str, Any]) -> str:
    """Start and end as a body shows them: ``Tuesday 1 December 2026, 09:30-10:30 (Zone)``."""
    session = payload["session"]
    return _long_when(session["start"], session["end"], payload.get("timezone") or "UTC")


@lru_cache(maxsize=1024)
def _long_when(start_iso: str, end_iso: str, zone_name: str) -> str:
    payload = {"session": {"start": start_iso, "end": end_iso}, "timezone": zone_name}
    start, end = _local(payload, "start"), _local(payload, "end")
    zone = _zone(payload)
    return f"{start:%A} {start.day} {start:%B %Y}, {span_text(start, end, zone)} ({zone.key})"


def subject_for(payload: dict[str, Any]) -> str:
    """The subject line a person recognises: ``Invitation: Fire Safety, Tue 1 Dec 09:30``."""
    kind = payload["kind"]
    session = payload.get("session")
    topic = f"{session['title']}, {short_when(payload)}" if session else ""
    if kind == "message":
        own = str(payload.get("subject") or "").strip()
        if not own and topic and payload.get("with_calendar"):
            return f"{SUBJECTS['invitation']}: {topic}"
        return own or topic or "Message from the training team"
    prefix = SUBJECTS.get(kind, kind.replace("_", " ").capitalize())
    return f"{prefix}: {topic}" if topic else prefix


def _values(payload: dict[str, Any], method: str | None) -> dict[str, str]:
    session = payload.get("session") or {}
    recipient = payload["recipient"]
    organizer = payload["organizer"]
    changed = [CHANGE_WORDS.get(c, c) for c in payload.get("changed") or []]
    reason = str(payload.get("reason") or session.get("cancel_reason") or "").strip()
    footer = ""
    if method == ical.REQUEST:
        footer = "Answer with your calendar's Accept or Decline buttons; we read the reply."
    elif method == ical.CANCEL:
        footer = "Your calendar program can remove the event from your calendar."
    position = (payload.get("enrolment") or {}).get("waitlist_position")
    return {
        "name": recipient.get("name") or recipient["email"],
        "title": session.get("title", ""),
        "when_long": long_when(payload) if session else "",
        "where": session.get("location") or ("online" if session.get("online_url") else ""),
        "link": session.get("online_url") or "",
        "changed": ", ".join(changed) or "details",
        "reason": reason or "not given",
        "position": str(position) if position else "-",
        "footer": footer,
        "organizer": organizer.get("name") or organizer["email"],
        "message": str(payload.get("message") or ""),
        **workflow_values(payload),
    }


def workflow_values(payload: dict[str, Any]) -> dict[str, str]:
    """Values the approval and offer templates name: learner, note, offer deadline."""
    learner = payload.get("learner") or {}
    deadline = payload.get("offer_expires_at")
    when = ""
    if deadline:
        moment = datetime.fromisoformat(deadline).astimezone(_zone(payload))
        when = f"{moment:%A} {moment.day} {moment:%B %Y} {start_text(moment, _zone(payload))}"
    note = str(payload.get("note") or "").strip()
    return {
        "learner": learner.get("name") or learner.get("email") or "",
        "learner_email": learner.get("email") or "",
        "note_line": f"\n\nNote: {note}" if note else "",
        "deadline": when,
    }


def render_text(
    payload: dict[str, Any], method: str | None, values: dict[str, str] | None = None
) -> str:
    """The text/plain body."""
    values = values or _values(payload, method)
    session = payload.get("session") or {}
    extra = dict(values)
    extra["reason_line"] = f"\n\nReason: {values['reason']}" if payload.get("reason") else ""
    body = _template(f"{payload['kind']}.txt").safe_substitute(extra)
    if session:
        materials = session.get("materials") or []
        extra["link_line"] = f"\nLink:  {values['link']}" if values["link"] else ""
        extra["materials_block"] = (
            "\n\nPre-read:\n" + "\n".join(f"- {m['name']}: {m['url']}" for m in materials)
            if materials
            else ""
        )
        trainer = session.get("trainer")
        extra["trainer_line"] = (
            f"\nTrainer: {trainer.get('name') or trainer['email']}" if trainer else ""
        )
        if values["footer"]:
            extra["footer"] = "\n" + values["footer"] + "\n"
        body += _template("details.txt").safe_substitute(extra)
    return body


def _paragraphs(text: str) -> str:
    blocks = [b for b in text.strip().split("\n\n") if b.strip()]
    return "\n".join(
        "<p>" + html.escape(b.strip()).replace("\n", "<br>\n") + "</p>" for b in blocks
    )


def render_html(
    payload: dict[str, Any],
    method: str | None,
    subject: str,
    values: dict[str, str] | None = None,
) -> str:
    """The text/html body (every value escaped)."""
    values = {k: html.escape(v) for k, v in (values or _values(payload, method)).items()}
    values["message"] = _paragraphs(str(payload.get("message") or ""))
    values["reason_line"] = f"<br>Reason: {values['reason']}" if payload.get("reason") else ""
    session = payload.get("session") or {}
    body = _template(f"{payload['kind']}.html").safe_substitute(values)
    if session:
        link = values["link"]
        values["link_row"] = (
            f'\n<tr><td>Link</td><td><a href="{link}">{link}</a></td></tr>' if link else ""
        )
        trainer = session.get("trainer")
        values["trainer_row"] = (
            f"\n<tr><td>Trainer</td><td>{html.escape(trainer.get('name') or trainer['email'])}"
            "</td></tr>"
            if trainer
            else ""
        )
        materials = session.get("materials") or []
        values["materials_block"] = (
            "\n<p>Pre-read:</p>\n<ul>\n"
            + "\n".join(
                f'<li><a href="{html.escape(m["url"])}">{html.escape(m["name"])}</a></li>'
                for m in materials
            )
            + "\n</ul>"
            if materials
            else ""
        )
        values["footer"] = f"<p>{values['footer']}</p>" if values["footer"] else ""
        body += _template("details.html").safe_substitute(values)
    return _template("layout.html").safe_substitute(subject=html.escape(subject), body=body)


def one_line(value: str) -> str:
    """A header value on one line: line breaks and other control characters become spaces."""
    return " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in value).split())


_WORD_BYTES = 45
"""UTF-8 bytes per encoded-word: ``=?utf-8?b?`` + 60 base64 characters + ``?=`` is 72."""


def encoded_words(text: str) -> str:
    """`text` as RFC 2047 base64 encoded-words of at most 75 characters, folded.

    Words split between characters, never inside one; decoders join adjacent
    encoded-words without the folding space (RFC 2047 section 6.2).
    """
    chunks: list[bytes] = []
    current = b""
    for char in text:
        data = char.encode("utf-8")
        if current and len(current) + len(data) > _WORD_BYTES:
            chunks.append(current)
            current = b""
        current += data
    chunks.append(current)
    return "\r\n ".join(
        f"=?utf-8?b?{base64.b64encode(chunk).decode('ascii')}?=" for chunk in chunks
    )


def _address_header(header: str, name: str, address: str) -> str:
    name = one_line(name)
    if name.isascii():
        return f"{header}: {formataddr((name, address))}"
    return f"{header}: {encoded_words(name)}\r\n <{address}>"


def _text_header(name: str, value: str) -> str:
    value = one_line(value)
    if (
        value.isascii()
        and len(value) < 900
        and "\n" not in value
        and "\r" not in value
        and "=?" not in value
    ):
        return f"{name}: {value}"
    if value.isascii():
        encoded = Header(value, "us-ascii", header_name=name).encode(linesep="\r\n")
        return f"{name}: {encoded}"
    return f"{name}: {encoded_words(value)}"


def _qp(text: str) -> bytes:
    body = text.replace("\r\n", "\n").encode("utf-8")
    if not body.endswith(b"\n"):
        body += b"\n"
    return binascii.b2a_qp(body, istext=True).replace(b"\n", b"\r\n")


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _part(headers: list[str], body: bytes) -> bytes:
    return ("\r\n".join(headers) + "\r\n\r\n").encode("ascii") + body


def _multipart(subtype: str, parts: list[bytes]) -> tuple[str, bytes]:
    boundary = f"=_rollcall_{uuid.uuid4().hex}"
    out = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    out += b"--" + boundary.encode() + b"--\r\n"
    return f'multipart/{subtype}; boundary="{boundary}"', out


def render_bytes(
    payload: dict[str, Any] | str,
    *,
    message_id: str,
    created_at: datetime,
    now: datetime | None = None,
) -> bytes:
    """Render one outbox payload into the message bytes sent over SMTP (CRLF, 7-bit).

    Layout (docs/itip-rules.md S3): multipart/mixed > multipart/alternative (text/plain,
    text/html, text/calendar; method=...) + application/ics attachment when the
    kind carries a calendar object; otherwise multipart/alternative of text and
    HTML. The calendar parts are base64 of the exact iCalendar bytes, so CRLF
    survives (S4, S5). `created_at` (when the change was made) becomes the
    DTSTAMP; `now` the Date header. Written directly rather than through
    `email.message` because the sender renders thousands per batch.
    """
    data: dict[str, Any] = json.loads(payload) if isinstance(payload, str) else payload
    now = now or utcnow()
    calendar = ical.build_calendar(data, created_at)
    method = calendar.method if calendar else None
    subject = subject_for(data)
    organizer = data["organizer"]
    recipient = data["recipient"]
    values = _values(data, method)

    text = _part(
        [
            'Content-Type: text/plain; charset="utf-8"',
            "Content-Transfer-Encoding: quoted-printable",
        ],
        _qp(render_text(data, method, values)),
    )
    page = _part(
        ['Content-Type: text/html; charset="utf-8"', "Content-Transfer-Encoding: quoted-printable"],
        _qp(render_html(data, method, subject, values)),
    )
    if calendar is None:
        content_type, body = _multipart("alternative", [text, page])
    else:
        encoded = _b64(calendar.data)
        inline = _part(
            [
                f'Content-Type: text/calendar; method="{calendar.method}"; charset="UTF-8"',
                "Content-Transfer-Encoding: base64",
            ],
            encoded,
        )
        alt_type, alt_body = _multipart("alternative", [text, page, inline])
        alternative = _part([f"Content-Type: {alt_type}"], alt_body)
        attachment = _part(
            [
                'Content-Type: application/ics; name="invite.ics"',
                'Content-Disposition: attachment; filename="invite.ics"',
                "Content-Transfer-Encoding: base64",
            ],
            encoded,
        )
        content_type, body = _multipart("mixed", [alternative, attachment])
    headers = [
        _address_header("From", organizer.get("name") or "", organizer["email"]),
        _address_header("To", recipient.get("name") or "", recipient["email"]),
        _text_header("Subject", subject),
        f"Date: {format_datetime(now.astimezone(UTC))}",
        f"Message-ID: {message_id}",
        f"X-Rollcall-Kind: {data['kind']}",
        "MIME-Version: 1.0",
        f"Content-Type: {content_type}",
    ]
    return _part(headers, body)


class Stamps(TypedDict):
    """What makes one rendering of a payload a message of its own (`render_bytes`' keywords)."""

    message_id: str
    created_at: datetime
    now: NotRequired[datetime | None]


def build_message(payload: dict[str, Any] | str, **stamps: Unpack[Stamps]) -> EmailMessage:
    """Render one outbox payload into an `EmailMessage` (the parsed `render_bytes`)."""
    raw = render_bytes(payload, **stamps)
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def message_bytes(msg: EmailMessage) -> bytes:
    """The message as sent over SMTP (CRLF line ends)."""
    return msg.as_bytes(policy=policy.SMTP)
