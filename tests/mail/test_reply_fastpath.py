"""The reader's MIME fast path reads exactly what the stdlib path reads, or steps aside."""

from __future__ import annotations

import contextlib
import email.utils
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail import reply
from mail.reply import read_reply, sanitize_text
from mail.reply import sanitize as reply_sanitize
from mail.reply.fastpath import fast_read
from mail.reply.sanitize import header_address
from store.replydata import ReadMessage, normalize_address
from tests.mail.test_reply_hostile import ICS, message
from tests.replies import CLIENT_SAMPLES, client_reply, reply_ics, reply_message

DATA = Path(__file__).resolve().parent.parent / "data" / "imip"
CORPUS = sorted(p for p in DATA.rglob("*.eml"))
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@contextlib.contextmanager
def stdlib_only() -> Iterator[None]:
    # read_reply looks the fast path up in its package at call time.
    fast = vars(reply)["fast_read"]
    setattr(reply, "fast_read", lambda raw: None)  # noqa: B010
    try:
        yield
    finally:
        setattr(reply, "fast_read", fast)  # noqa: B010


def both(raw: bytes) -> tuple[ReadMessage, ReadMessage, bool]:
    """(fast-path result, stdlib result, whether the fast path took the message)."""
    took = fast_read(raw) is not None
    quick = read_reply(raw, max_bytes=5_000_000)
    with stdlib_only():
        slow = read_reply(raw, max_bytes=5_000_000)
    return quick, slow, took


def _samples() -> list[bytes]:
    ics = ICS.format(method="METHOD:REPLY\r\n")
    out = [p.read_bytes() for p in CORPUS]
    out += [
        reply_message(
            reply_ics("s-1@example.test", "ann@example.test", dtstamp=T0, comment="Late\\, sorry"),
            sender="Ann <ann@example.test>",
        ),
        message(ics, params={"method": "REPLY"}),
        message(ics, params={"method": '"Reply"'}, cte="7bit"),
        message(ics, params={"method": "REPLY"}, cte="quoted-printable"),
        message(ics, ctype="application/octet-stream", filename="invite.ics"),
    ]
    out += [
        client_reply(name, "s-1@example.test", "ann@example.test", "training@example.test", T0)[0]
        for name in CLIENT_SAMPLES
    ]
    return out


SAMPLES = _samples()


def test_plain_messages_take_the_fast_path_and_read_the_same() -> None:
    taken = 0
    for raw in SAMPLES:
        quick, slow, took = both(raw)
        assert quick == slow
        taken += took
    # Outlook, Gmail, Thunderbird, Android, BlueMind and our own test replies are plain.
    assert taken >= 15


BOUNDARY = b"b1"
HEAD = (
    b"From: Ann <ann@example.test>\r\nTo: training@example.test\r\nSubject: Re\r\n"
    b"Message-ID: <x@example.test>\r\nMIME-Version: 1.0\r\n"
)
CAL = ICS.format(method="METHOD:REPLY\r\n").encode()


def multipart(*parts: bytes, ctype: bytes = b"multipart/alternative", tail: bytes = b"--") -> bytes:
    body = b"".join(b"--b1\r\n" + p + b"\r\n" for p in parts)
    return (
        HEAD
        + b"Content-Type: "
        + ctype
        + b'; boundary="b1"\r\n\r\npreamble\r\n'
        + body
        + (b"--b1" + tail + b"\r\nepilogue\r\n")
    )


CAL_PART = b"Content-Type: text/calendar; method=REPLY\r\n\r\n" + CAL
TEXT_PART = b"Content-Type: text/plain\r\n\r\nYes."


@pytest.mark.parametrize(
    ("raw", "fast"),
    [
        (multipart(TEXT_PART, CAL_PART), True),
        (multipart(CAL_PART, CAL_PART.replace(b"ACCEPTED", b"DECLINED")), True),
        (multipart(TEXT_PART, CAL_PART, tail=b"-- \t"), True),
        # Folded, repeated and empty headers.
        (
            multipart(CAL_PART).replace(b"Subject: Re\r\n", b"Subject: Re\r\n  more\r\nX-E:\r\n"),
            True,
        ),
        (multipart(CAL_PART).replace(b"To:", b"From: Bob <bob@example.test>\r\nTo:"), True),
        (multipart(b"Content-Type: text/calendar\r\n\r\n" + CAL), True),
        (multipart(b"\r\n" + CAL), True),  # no headers: text/plain
        # The inner boundary equals the outer one: the outer part ends early.
        (multipart(TEXT_PART, multipart(CAL_PART).split(b"\r\n", 5)[5]), False),
        # Nested multipart/mixed > multipart/alternative.
        (
            multipart(
                b'Content-Type: multipart/alternative; boundary="b2"\r\n\r\n--b2\r\n'
                + CAL_PART
                + b"\r\n--b2--\r\n",
                ctype=b"multipart/mixed",
            ),
            True,
        ),
        # Unusual: the stdlib decides.
        (multipart(TEXT_PART, CAL_PART, tail=b""), False),  # no closing boundary
        (multipart(CAL_PART).replace(b"--b1\r\n", b"--b1\r\n--b1\r\n"), False),
        (multipart(CAL_PART, b""), True),  # an empty part
        (multipart(CAL_PART, ctype=b"multipart/report"), False),
        (multipart(CAL_PART).replace(b"From:", b" From:"), False),
        (multipart(CAL_PART).replace(b"Subject: Re", b"Subject: =?utf-8?q?R=C3=A9?="), True),
        (multipart(CAL_PART).replace(b"Subject: Re", "Subject: Ré".encode()), False),
        (multipart(CAL_PART.replace(b"method=REPLY", b"method*=''REPLY")), False),
        (multipart(CAL_PART.replace(b"text/calendar", b"text/calendar;;")), False),
        # No blank line after the part's header: the calendar lines read as header lines.
        (multipart(CAL_PART.replace(b"\r\n\r\n", b"\r\n")), True),
        (multipart(CAL_PART).replace(b"\r\n", b"\n"), True),
        (multipart(CAL_PART).replace(b"\r\n", b"\r"), False),
        (
            multipart(b"Content-Type: text/plain; name=a.ics\r\n\r\n" + CAL),
            False,
        ),
        (
            multipart(b"Content-Disposition: attachment; filename=a.ics\r\n\r\n" + CAL),
            False,
        ),
        (
            multipart(
                b"Content-Type: text/calendar; method=REPLY\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\nQkVHSU46VkNBTEVOREFSDQ"
            ),
            False,
        ),
        (
            multipart(
                b"Content-Type: text/calendar; method=REPLY\r\n"
                b"Content-Transfer-Encoding: x-uuencode\r\n\r\n" + CAL
            ),
            False,
        ),
    ],
)
def test_crafted_messages(raw: bytes, fast: bool) -> None:
    quick, slow, took = both(raw)
    assert took == fast
    assert quick == slow


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SAMPLES),
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=200_000),
            st.integers(min_value=0, max_value=60),
            st.sampled_from(
                [
                    b"",
                    b"\r\n",
                    b"\n",
                    b"\r\n ",
                    b"\r\n\r\n",
                    b";",
                    b":",
                    b'"',
                    b"=",
                    b" ",
                    b"\t",
                    b"--",
                    b"--b1--\r\n",
                    b"Content-Type: multipart/mixed; boundary=x\r\n",
                    b"Content-Type: text/calendar; method=REPLY\r\n",
                    b"Content-Transfer-Encoding: 7bit\r\n",
                    b"name=x.ics;",
                    b"====",
                    b"QUFB",
                ]
            )
            | st.text(st.characters(min_codepoint=9, max_codepoint=126), max_size=12).map(
                str.encode
            ),
        ),
        max_size=6,
    ),
)
def test_mutated_plain_messages_read_the_same_both_ways(
    raw: bytes, cuts: list[tuple[int, int, bytes]]
) -> None:
    for at, length, insert in cuts:
        at %= len(raw)
        raw = raw[:at] + insert + raw[at + length :]
    quick, slow, _took = both(raw)
    assert quick == slow


@settings(max_examples=300, deadline=None)
@given(st.from_regex(reply_sanitize._PLAIN_ADDRESS, fullmatch=True))
def test_bare_addresses_read_as_getaddresses_reads_them(address: str) -> None:
    pairs = email.utils.getaddresses([address])
    expected = [normalize_address(a) for _name, a in pairs if "@" in a][0]
    assert header_address(address) == (sanitize_text(expected, 320, multiline=False) or None)
