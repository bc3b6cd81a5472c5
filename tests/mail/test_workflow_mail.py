"""Workflow messages render in text and HTML with the facts they state; manager answers read."""

from __future__ import annotations

import email
import json
from email import policy

import pytest

from mail.answer import first_word, message_ids, with_answer
from mail.compose import render_bytes
from store.approvals import set_manager, set_session_policy
from store.booking import book, unbook
from store.models import Outbox
from store.replydata import ReadMessage
from tests.builders import person, session

pytestmark = pytest.mark.usefixtures("sqlite_store")


def _rendered(kind: str) -> tuple[str, str, str, str | None]:
    row = Outbox.select().where(Outbox.kind == kind).order_by(Outbox.id.desc()).get()
    raw = render_bytes(row.payload, message_id=row.message_id, created_at=row.created_at)
    msg = email.message_from_bytes(raw, policy=policy.default)
    text = html = ""
    method = None
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_content()
        elif part.get_content_type() == "text/html":
            html = part.get_content()
        elif part.get_content_type() == "text/calendar":
            method = str(part.get_param("method"))
    return str(msg["Subject"]), text, html, method


def test_every_workflow_message_renders_its_facts() -> None:
    person("boss@example.org", "Bea Boss")
    person("ann@example.org", "Ann Adams")
    set_manager("ann@example.org", "boss@example.org")
    created = session(max_attendees=1)
    set_session_policy(created.id, approval="manager", offer_hours=12)
    book(created.id, "ann@example.org")
    subject, text, html, method = _rendered("approval_request")
    assert subject.startswith("Approval needed: Fire Safety")
    assert "Ann Adams (ann@example.org)" in text
    assert "APPROVE" in html
    assert method is None
    from store.approvals import approve

    approve(created.id, "ann@example.org", note="Have fun")
    subject, text, html, _ = _rendered("request_approved")
    assert subject.startswith("Request approved")
    assert "Note: Have fun" in text
    set_session_policy(created.id, approval="none")
    person("bob@example.org", "Bob")
    book(created.id, "bob@example.org")
    unbook(created.id, "ann@example.org")
    subject, text, html, method = _rendered("offer")
    deadline = json.loads(Outbox.get(Outbox.kind == "offer").payload)["offer_expires_at"]
    assert deadline
    assert subject.startswith("Place offered")
    assert "A place is yours if you accept by" in " ".join(text.split())
    assert method == "REQUEST"
    from store.offers import decline_offer

    decline_offer(created.id, "bob@example.org")
    subject, text, html, method = _rendered("offer_passed")
    assert subject.startswith("Offer passed on")
    assert method == "CANCEL"
    for kind in ("approval_request", "request_approved", "offer", "offer_passed"):
        _, text, html, _ = _rendered(kind)
        assert "$" not in text + html, kind


def test_first_word_skips_nothing_typed_and_stops_at_quotes() -> None:
    assert first_word("\n\n  Approve.\n> DECLINE") == "Approve."
    assert first_word("> APPROVE\nDecline") is None
    assert first_word("On Mon, 1 Dec 2026, Training <t@x> wrote:\n> APPROVE") is None
    assert first_word("-----Original Message-----\nAPPROVE") is None
    assert first_word("") is None
    assert message_ids("<a@x> <b@y>\r\n <c@z>") == ("<a@x>", "<b@y>", "<c@z>")


def test_with_answer_reads_only_mail_that_is_not_a_calendar_reply() -> None:
    raw = (
        b"From: boss@example.org\r\nIn-Reply-To: <req@x>\r\nReferences: <t@x> <req@x>\r\n"
        b"Content-Type: text/html\r\n\r\n<div>DECLINE</div><blockquote>APPROVE</blockquote>\r\n"
    )
    read = with_answer(ReadMessage(problem="not a calendar reply"), raw)
    assert (read.references, read.first_word) == (("<req@x>", "<t@x>"), "DECLINE")
    untouched = ReadMessage(problem="message too large")
    assert with_answer(untouched, raw) is untouched
