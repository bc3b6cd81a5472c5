"""Names and subjects in any script survive the trip: RFC 2047 words within limits, no injection."""

from __future__ import annotations

import email.header
import re
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.compose import render_bytes
from tests.mail.checks import calendar_data, parse
from tests.mail.test_builders import payload

STAMP = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
ENCODED_WORD = re.compile(r"=\?[^?]+\?[bBqQ]\?[^?]*\?=")


def raw_headers(data: dict[str, object]) -> tuple[bytes, str]:
    raw = render_bytes(data, message_id="<h1@example.test>", created_at=STAMP, now=STAMP)
    head = raw.split(b"\r\n\r\n", 1)[0]
    return raw, head.decode("ascii")


def unfolded(head: str) -> list[str]:
    return head.replace("\r\n ", " ").replace("\r\n\t", " ").split("\r\n")


def decoded(value: str) -> str:
    return str(email.header.make_header(email.header.decode_header(value)))


NAMES = [
    "Zoë Ångström-Sjöberg de la Fuente y Martínez-Villalobos, Head of Health & Safety",
    "王小明 (上海分公司 人力资源部 培训与发展中心 高级经理)",
    "Ελένη Παπαδοπούλου-Κωνσταντινίδου 🎓🔥 Training Coordinator",
    "Nguyễn Thị Minh Khai — Phòng Đào tạo và Phát triển Nguồn nhân lực",
]


@pytest.mark.parametrize("name", NAMES)
def test_long_display_names_use_encoded_words_of_at_most_75_characters(name: str) -> None:
    data = payload(recipient={"email": "ann@example.test", "name": name})
    raw, head = raw_headers(data)
    words = ENCODED_WORD.findall(head)
    assert words, head
    assert all(len(word) <= 75 for word in words), [len(w) for w in words]
    for line in head.split("\r\n"):
        assert len(line) <= 998
    to = next(line for line in unfolded(head) if line.startswith("To: "))[4:]
    phrase, address = to.rsplit(" <", 1)
    # Decoded as RFC 2047 section 6.2 says: the space between two encoded-words
    # is not text. (CPython's newer address parser keeps it, a known bug real
    # mail clients do not share.)
    assert decoded(phrase) == name
    assert address == "ann@example.test>"


@pytest.mark.parametrize(
    "subject",
    [
        "Sécurité incendie – Übung",
        "消防安全培训 第二期",
        "Fire Safety 🔥🧯 refresher",
        "Plain ASCII",
    ],
)
def test_subjects_in_any_script_decode_to_the_same_text(subject: str) -> None:
    data = payload("message", subject=subject, message="Hello", with_calendar=False)
    raw, head = raw_headers(data)
    assert all(len(word) <= 75 for word in ENCODED_WORD.findall(head))
    subject_line = next(line for line in unfolded(head) if line.startswith("Subject: "))
    assert decoded(subject_line[9:]) == subject


def test_a_line_break_in_a_subject_or_name_cannot_add_headers() -> None:
    data = payload(
        "message",
        subject="Badge\r\nBcc: everyone@example.test\nX-Evil: 1",
        message="Hello",
        with_calendar=False,
        recipient={"email": "ann@example.test", "name": "Ann\r\nBcc: x@example.test"},
    )
    raw, head = raw_headers(data)
    msg = parse(raw)
    assert msg["Bcc"] is None
    assert msg["X-Evil"] is None
    assert msg["Subject"] == "Badge Bcc: everyone@example.test X-Evil: 1"
    assert "Date:" in head
    assert "MIME-Version: 1.0" in head


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=120
    ).filter(str.strip),
    name=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=80),
)
def test_folded_calendar_lines_never_split_a_character(title: str, name: str) -> None:
    data = payload()
    data["session"]["title"] = title
    data["recipient"] = {"email": "ann@example.test", "name": name}
    raw, head = raw_headers(data)
    for _method, ics in calendar_data(parse(raw)):
        for line in ics.split(b"\r\n"):
            assert len(line) <= 75
            line.decode("utf-8")  # each folded line is whole UTF-8 on its own
    assert all(len(word) <= 75 for word in ENCODED_WORD.findall(head))
    assert parse(raw)["To"].addresses[0].addr_spec == "ann@example.test"
