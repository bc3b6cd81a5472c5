"""The reply reader on odd, broken and hostile input: it reads what it can and never raises."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.reply import read_reply, sanitize_text
from store.replydata import MALFORMED, NOT_CALENDAR, TOO_LARGE, TOO_MANY_EVENTS

DATA = Path(__file__).resolve().parent.parent / "data" / "imip"
SAMPLES = sorted(p for p in DATA.rglob("*") if p.suffix in (".eml", ".ics"))

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{method}"
    "BEGIN:VEVENT\r\nUID:session-7@example.test\r\nDTSTAMP:20261123T101500Z\r\n"
    "SEQUENCE:2\r\nATTENDEE;PARTSTAT=ACCEPTED;CN=Ann:mailto:ann@example.test\r\n"
    "COMMENT:See you\\, then\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def message(
    ics: str,
    *,
    ctype: str = "text/calendar",
    params: dict[str, str] | None = None,
    filename: str | None = None,
    cte: str = "base64",
) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ann <ann@example.test>"
    msg["To"] = "training@example.test"
    msg["Subject"] = "Accepted"
    msg["Message-ID"] = "<m1@example.test>"
    msg.set_content("I will come.")
    maintype, subtype = ctype.split("/")
    msg.add_attachment(
        ics.encode(),
        maintype=maintype,
        subtype=subtype,
        params=params or {},
        filename=filename,
        cte=cte,
        disposition="inline" if filename is None else "attachment",
    )
    return msg.as_bytes()


def test_bare_lowercase_and_quoted_method_parameters() -> None:
    for value in ("REPLY", "reply", '"Reply"'):
        raw = message(ICS.format(method=""), params={"method": value})
        result = read_reply(raw)
        assert result.problem is None, value
        assert result.method == "REPLY"


def test_method_only_in_the_body() -> None:
    result = read_reply(message(ICS.format(method="METHOD:reply\r\n")))
    assert result.method == "REPLY"
    assert result.items[0].comment == "See you, then"


def test_no_method_anywhere_is_not_a_reply() -> None:
    assert read_reply(message(ICS.format(method=""))).problem == NOT_CALENDAR


def test_octet_stream_and_x_any_with_ics_name_are_found() -> None:
    for ctype in ("application/octet-stream", "application/x-any", "application/ics"):
        raw = message(ICS.format(method="METHOD:REPLY\r\n"), ctype=ctype, filename="reply.ics")
        result = read_reply(raw)
        assert result.problem is None, ctype
        assert result.items[0].uid == "session-7@example.test"


def test_quoted_printable_and_8bit_any_charset() -> None:
    ics = ICS.format(method="METHOD:REPLY\r\n").replace("CN=Ann", "CN=Ånn")
    for cte in ("quoted-printable", "8bit", "base64"):
        result = read_reply(message(ics, cte=cte))
        assert result.items[0].attendees[0].name == "Ånn", cte
    latin = EmailMessage()
    latin["From"] = "ann@example.test"
    latin.set_content(
        ics.encode("latin-1"), maintype="text", subtype="calendar", params={"charset": "latin-1"}
    )
    assert read_reply(latin.as_bytes()).items[0].attendees[0].name == "Ånn"


def test_tab_folding_and_lf_line_ends() -> None:
    ics = ICS.format(method="METHOD:REPLY\n").replace("\r\n", "\n")
    ics = ics.replace("mailto:ann@example.test", "mailto:ann@ex\n\tample.test")
    result = read_reply(ics.encode())
    assert result.items[0].attendees[0].address == "ann@example.test"


def test_bounce_and_forwarded_message_are_ignored() -> None:
    inner = message(ICS.format(method="METHOD:REPLY\r\n"))
    forward = EmailMessage()
    forward["From"] = "colleague@example.test"
    forward.set_content("see attached")
    forward.add_attachment(inner, maintype="message", subtype="rfc822")
    assert read_reply(forward.as_bytes()).problem == NOT_CALENDAR
    # A bounce carries our own calendar data inside multipart/report (R5).
    bounce = MIMEMultipart("report", report_type="delivery-status")
    bounce["From"] = "mailer-daemon@example.test"
    bounce.attach(MIMEText("delivery failed"))
    cal = MIMEText(ICS.format(method="METHOD:REPLY\r\n"), "calendar")
    cal.set_param("method", "REPLY")
    bounce.attach(cal)
    assert read_reply(bounce.as_bytes()).problem == NOT_CALENDAR
    # The same calendar part outside the report is found, so the skip is what matters.
    mixed = MIMEMultipart("mixed")
    mixed.attach(cal)
    assert read_reply(mixed.as_bytes()).problem is None


def test_size_cap_and_event_cap() -> None:
    raw = message(ICS.format(method="METHOD:REPLY\r\n"))
    big = read_reply(raw, max_bytes=100)
    assert big.problem == TOO_LARGE
    assert big.message_id == "<m1@example.test>"
    event = ICS.split("BEGIN:VEVENT")[1].split("END:VCALENDAR")[0]
    many = (
        ICS.split("BEGIN:VEVENT")[0].format(method="METHOD:REPLY\r\n")
        + ("BEGIN:VEVENT" + event) * 500
    )
    assert read_reply(many.encode(), max_events=50).problem == TOO_MANY_EVENTS


def test_malformed_calendar_data() -> None:
    for junk in ("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n", "hello", "\x00\xff"):
        result = read_reply(message(junk, params={"method": "REPLY"}))
        assert result.problem == MALFORMED, junk


def test_terminal_escapes_and_controls_are_removed() -> None:
    evil = "\x1b]0;pwned\x07\x1b[31mAnn\x1b[0m\u202e\x07\x00"
    ics = ICS.format(method="METHOD:REPLY\r\n").replace("CN=Ann", f'CN="{evil}"')
    ics = ics.replace("COMMENT:See you\\, then", f"COMMENT:{evil} says\\nhi")
    item = read_reply(message(ics, cte="base64")).items[0]
    assert item.attendees[0].name == "Ann"
    assert item.comment == "Ann says\nhi"
    assert sanitize_text("\x9b2Jx") == "x"


def test_valarm_attendee_is_not_the_replier() -> None:
    ics = ICS.format(method="METHOD:REPLY\r\n").replace(
        "END:VEVENT",
        "BEGIN:VALARM\r\nACTION:EMAIL\r\nATTENDEE:mailto:training@example.test\r\n"
        "END:VALARM\r\nEND:VEVENT",
    )
    item = read_reply(ics.encode()).items[0]
    assert [a.address for a in item.attendees] == ["ann@example.test"]


def test_icloud_email_param_and_uppercase_mailto() -> None:
    ics = ICS.format(method="METHOD:REPLY\r\n").replace(
        "ATTENDEE;PARTSTAT=ACCEPTED;CN=Ann:mailto:ann@example.test",
        'ATTENDEE;EMAIL=Ann@Example.TEST;PARTSTAT=ACCEPTED;SENT-BY="MAILTO:boss@example.test";'
        'DELEGATED-TO="mailto:bob@example.test":MAILTO:2_token@imip.me.com',
    )
    attendee = read_reply(ics.encode()).items[0].attendees[0]
    assert attendee.address == "2_token@imip.me.com"
    assert attendee.email == "ann@example.test"
    assert attendee.sent_by == "boss@example.test"
    assert attendee.delegated_to == "bob@example.test"


def test_gmail_like_duplicate_prefers_the_part_with_method() -> None:
    msg = EmailMessage()
    msg["From"] = "ann@example.test"
    msg.set_content("x")
    good = ICS.format(method="METHOD:REPLY\r\n")
    other = good.replace("ann@example.test", "someone@example.test")
    msg.add_attachment(other.encode(), maintype="application", subtype="ics", filename="invite.ics")
    msg.add_attachment(
        good.encode(), maintype="text", subtype="calendar", params={"method": "REPLY"}
    )
    item = read_reply(msg.as_bytes()).items[0]
    assert item.attendees[0].address == "ann@example.test"


def _mutate(data: bytes, cuts: list[tuple[int, int, bytes]]) -> bytes:
    for at, length, insert in cuts:
        if not data:
            break
        at %= len(data)
        data = data[:at] + insert + data[at + length :]
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SAMPLES),
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=200_000),
            st.integers(min_value=0, max_value=400),
            st.binary(max_size=40)
            | st.sampled_from(
                [
                    b"\r\n ",
                    b"\n\t",
                    b";",
                    b":",
                    b'"',
                    b"=",
                    b"BEGIN:VEVENT\r\n",
                    b"END:VEVENT",
                    b"--",
                    b"Content-Type: multipart/mixed; boundary=x\r\n",
                    b"=0D=0A",
                    b"\x1b[2J",
                ]
            ),
        ),
        max_size=8,
    ),
)
def test_mutated_corpus_messages_never_raise(
    sample: Path, cuts: list[tuple[int, int, bytes]]
) -> None:
    result = read_reply(_mutate(sample.read_bytes(), cuts), max_bytes=5_000_000)
    assert result.problem is not None or result.items


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=3000) | st.text(max_size=2000).map(lambda s: s.encode("utf-8", "replace"))
)
def test_random_bytes_never_raise(raw: bytes) -> None:
    result = read_reply(raw)
    assert result.problem is not None or result.items


def test_base64_garbage_in_calendar_part() -> None:
    raw = message("x", params={"method": "REPLY"}).replace(
        base64.b64encode(b"x"), b"!!!not base64***"
    )
    assert read_reply(raw).problem is not None
