"""The booking workflow through the real SMTP -> Dovecot stack: emailed approvals and offers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import time_machine

from mail.poller import poll_once
from mail.tick import tick
from store.approvals import set_manager, set_session_policy
from store.booking import book, unbook
from store.clock import utcnow
from store.db import close_database, database, open_database
from store.inbound import InboundMessage
from store.models import Enrolment, Outbox, Person, Session
from store.people import PersonInput, add_person
from store.session_input import SessionInput
from store.sessions import create_sessions
from store.settings import Settings, load_settings, use_settings
from tests.mail.test_poll_e2e import append, deliver_smtp, rollcall
from tests.replies import client_reply
from tests.servers import MailServers

pytestmark = pytest.mark.mailserver

ORGANIZER = "training@example.test"
BOSS = "boss@example.test"


@pytest.fixture
def env(tmp_path: Path, mail_servers: MailServers) -> Iterator[dict[str, str]]:
    for address in (ORGANIZER, BOSS, "ann@example.test", "bob@example.test", "cy@example.test"):
        mail_servers.add_mailbox(address)
        mail_servers.wipe(address)
    yield {
        "ROLLCALL_DB": str(tmp_path / "rollcall.db"),
        "ROLLCALL_TIMEZONE": "Europe/London",
        "ROLLCALL_ORGANIZER_EMAIL": ORGANIZER,
        "ROLLCALL_IMAP_HOST": mail_servers.imap_host,
        "ROLLCALL_IMAP_PORT": str(mail_servers.imap_port),
        "ROLLCALL_IMAP_USER": ORGANIZER,
        "ROLLCALL_IMAP_PASSWORD": "secret",
        "ROLLCALL_IMAP_SECURITY": "none",
        "ROLLCALL_SMTP_HOST": mail_servers.smtp_host,
        "ROLLCALL_SMTP_PORT": str(mail_servers.smtp_port),
        "ROLLCALL_SMTP_SECURITY": "none",
    }
    mail_servers.wipe(ORGANIZER)


@pytest.fixture
def db(env: dict[str, str]) -> Iterator[Settings]:
    settings = load_settings(environ=env)
    use_settings(settings)
    open_database(env["ROLLCALL_DB"])
    yield settings
    close_database()
    database.initialize(None)


def _session(max_attendees: int) -> Session:
    return create_sessions(
        SessionInput(
            title="Fire Safety",
            date=(utcnow() + timedelta(days=10)).date(),
            start="09:30",
            duration_minutes=60,
            location="Room 1",
            max_attendees=max_attendees,
        )
    )[0]


def _status(email: str) -> str:
    return str(Enrolment.select().join(Person).where(Person.email == email).get().status)


def _send(env: dict[str, str]) -> None:
    code, sent, err = rollcall(env, "mail", "send", "--json")
    assert code == 0, err
    assert (sent["failed"], sent["pending"]) == (0, 0)


def _request_mail(servers: MailServers, learner_name: str) -> tuple[str, str]:
    """(Message-ID, Subject) of the request about `learner_name` in the manager's inbox."""
    for message in servers.messages(BOSS):
        if learner_name in message.text:
            return message.headers["message-id"][0].strip(), message.subject
    raise AssertionError(f"no request about {learner_name}")


def _reply(*, sender: str, subject: str, text: str, html: str | None, refs: str | None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ORGANIZER
    msg["Subject"] = f"Re: {subject}"
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@client.test>"
    if refs:
        msg["In-Reply-To"] = refs
        msg["References"] = f"<thread-start@client.test> {refs}"
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def _gmail(answer: str, subject: str) -> tuple[str, str]:
    quoted = (
        "> Reply to this email with APPROVE or DECLINE as the first word\n"
        "> DECLINE if the dates do not suit.\n"
    )
    text = f"{answer}\n\nOn Mon, 1 Dec 2026 at 09:00, Training team <{ORGANIZER}> wrote:\n{quoted}"
    html = (
        f'<div dir="ltr">{answer}</div><br><div class="gmail_quote"><div>On Mon wrote:</div>'
        f"<blockquote>DECLINE or APPROVE {subject}</blockquote></div>"
    )
    return text, html


def _outlook(answer: str) -> tuple[str, str]:
    text = (
        f"{answer} - the team is short that week\r\n\r\n"
        "________________________________\r\n"
        f"From: Training team <{ORGANIZER}>\r\nSent: Monday, 1 December 2026 09:00\r\n"
        "Subject: Approval needed\r\n\r\nReply with APPROVE or DECLINE as the first word\r\n"
    )
    html = (
        f"<html><head><style>p {{margin:0}}</style></head><body><p>{answer} - short</p>"
        '<div id="divRplyFwdMsg"><b>From:</b> Training team APPROVE</div></body></html>'
    )
    return text, html


def test_manager_answers_by_email_only_from_their_address_and_only_as_a_reply(
    mail_servers: MailServers, env: dict[str, str], db: Settings
) -> None:
    add_person(PersonInput(email=BOSS, name="Bea Boss"))
    for name in ("ann", "bob"):
        add_person(PersonInput(email=f"{name}@example.test", name=name.title()))
        set_manager(f"{name}@example.test", BOSS)
    session = _session(5)
    set_session_policy(session.id, approval="manager")
    assert book(session.id, "ann@example.test").status == "requested"
    assert book(session.id, "bob@example.test").status == "requested"
    _send(env)
    ann_id, ann_subject = _request_mail(mail_servers, "Ann (ann@example.test)")
    bob_id, bob_subject = _request_mail(mail_servers, "Bob (bob@example.test)")
    assert ann_subject.startswith("Approval needed: Fire Safety")

    text, html = _gmail("APPROVE", ann_subject)
    # Another address, and the manager without the references: refused with a reason.
    deliver_smtp(
        mail_servers,
        _reply(
            sender="mallory@example.test", subject=ann_subject, text=text, html=html, refs=ann_id
        ),
        "mallory@example.test",
    )
    append(mail_servers, _reply(sender=BOSS, subject=ann_subject, text=text, html=html, refs=None))
    poll_once(db)
    assert _status("ann@example.test") == "requested"
    reasons = sorted(str(e.reason) for e in InboundMessage.select())
    assert any("not the learner's manager" in r for r in reasons), reasons
    assert any("does not refer to a request" in r for r in reasons), reasons

    # The manager's Gmail reply (answer on top, the request quoted below) approves.
    deliver_smtp(
        mail_servers,
        _reply(sender=BOSS, subject=ann_subject, text=text, html=html, refs=ann_id),
        BOSS,
    )
    # An Outlook reply whose quoted request says APPROVE declines: only the typed word counts.
    text, html = _outlook("Decline")
    append(
        mail_servers, _reply(sender=BOSS, subject=bob_subject, text=text, html=None, refs=bob_id)
    )
    report = poll_once(db)
    assert (report.fetched, report.applied) == (2, 2)
    assert _status("ann@example.test") == "enrolled"
    assert _status("bob@example.test") == "cancelled"
    _send(env)
    kinds = {m.headers["x-rollcall-kind"][0] for m in mail_servers.messages("ann@example.test")}
    assert kinds == {"request_approved", "invitation"}
    declined = list(mail_servers.messages("bob@example.test"))
    assert [m.subject.split(":")[0] for m in declined] == ["Request declined"]


def test_offers_taken_from_a_calendar_reply_and_passed_on_when_unanswered(
    mail_servers: MailServers, env: dict[str, str], db: Settings
) -> None:
    session = _session(1)
    set_session_policy(session.id, offer_hours=6)
    for name in ("ann", "bob", "cy"):
        add_person(PersonInput(email=f"{name}@example.test", name=name.title()))
        book(session.id, f"{name}@example.test")
    unbook(session.id, "ann@example.test")
    assert _status("bob@example.test") == "offered"
    _send(env)
    offer = mail_servers.messages("bob@example.test")[-1]
    assert "A place is yours if you accept by" in " ".join(offer.text.split())
    assert b"METHOD:REQUEST" in offer.obj.as_bytes() or "REQUEST" in offer.obj.as_string()

    # Bob accepts in Outlook: the client-format ACCEPTED reply takes the place.
    raw, partstat = client_reply(
        "outlook2010", session.uid, "bob@example.test", ORGANIZER, utcnow()
    )
    assert partstat == "ACCEPTED"
    deliver_smtp(mail_servers, raw, "bob@example.test")
    assert poll_once(db).applied == 1
    assert _status("bob@example.test") == "enrolled"

    # Bob drops out; Cy is offered the place and never answers.
    unbook(session.id, "bob@example.test")
    assert _status("cy@example.test") == "offered"
    deadline = Enrolment.get(Enrolment.status == "offered").offer_expires_at
    with time_machine.travel(deadline - timedelta(minutes=5), tick=False):
        assert tick().offers_passed == 0
    with time_machine.travel(deadline + timedelta(minutes=1), tick=False):
        assert tick().offers_passed == 1
    assert _status("cy@example.test") == "cancelled"
    # The tick ran at the travelled clock: its mail is due from then; send it now.
    Outbox.update(next_attempt_at=utcnow()).where(Outbox.status == "pending").execute()
    _send(env)
    last = mail_servers.messages("cy@example.test")[-1]
    assert last.subject.startswith("Offer passed on")
    assert "METHOD:CANCEL" in last.obj.as_string().replace("\r\n", "\n") or any(
        part.get_param("method") == "CANCEL" for part in last.obj.walk()
    )
