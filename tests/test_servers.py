"""The real-server fixtures in tests/servers/ do what the other tests rely on."""

from __future__ import annotations

import asyncio
import uuid
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import peewee
import psycopg2
import pytest
from imap_tools import MailMessage
from playhouse.db_url import connect

from tests.servers import MailServers, PostgresServer

ICS = """\
BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//rollcall//tests//EN\r
METHOD:REQUEST\r
BEGIN:VEVENT\r
UID:{uid}\r
DTSTAMP:20260101T090000Z\r
DTSTART:20260105T090000Z\r
DTEND:20260105T170000Z\r
SUMMARY:Servers fixture check\r
ORGANIZER:mailto:trainer@example.test\r
ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{attendee}\r
END:VEVENT\r
END:VCALENDAR\r
"""


class Note(peewee.Model):
    """A one-column table to prove each database is separate and writable."""

    text = peewee.TextField()


def _address(label: str) -> str:
    """A recipient no other test uses, so tests stay independent on shared servers."""
    return f"{label}-{uuid.uuid4().hex[:8]}@example.test"


def _message(to: list[str], subject: str = "hello") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "trainer@example.test"
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg.set_content("Plain text body.\n.A line starting with a dot survives.\n")
    return msg


@pytest.mark.postgres
def test_two_postgres_databases_are_separate(postgres_server: PostgresServer) -> None:
    urls = [postgres_server.create_database() for _ in range(2)]
    assert urls[0] != urls[1]
    for url in urls:
        assert url.startswith(f"postgresql://postgres@127.0.0.1:{postgres_server.port}/")

    for index, url in enumerate(urls):
        db = connect(url)
        assert isinstance(db, peewee.PostgresqlDatabase)
        with db.bind_ctx([Note]):
            db.create_tables([Note])
            Note.insert_many([{"text": f"db{index}-{n}"} for n in range(index + 1)]).execute()
        db.close()

    for index, url in enumerate(urls):
        db = connect(url)
        with db.bind_ctx([Note]):
            assert sorted(n.text for n in Note.select()) == [
                f"db{index}-{n}" for n in range(index + 1)
            ]
        db.close()

    postgres_server.drop_database(urls[0])
    with pytest.raises(psycopg2.OperationalError, match="does not exist"):
        postgres_server.connect(urls[0].rsplit("/", 1)[-1])
    postgres_server.drop_database(urls[1])


@pytest.mark.postgres
def test_postgres_url_gives_a_named_empty_database(postgres_url: str) -> None:
    db = connect(postgres_url)
    assert db.database == postgres_url.rsplit("/", 1)[-1]
    db.connect()
    assert db.get_tables() == []
    db.close()


async def _send(servers: MailServers, msg: EmailMessage, **kwargs: Any) -> tuple[Any, str]:
    """Send ``msg`` through the test SMTP server on a new connection."""
    return await aiosmtplib.send(
        msg, hostname=servers.smtp_host, port=servers.smtp_port, timeout=5, **kwargs
    )


async def _inbox(servers: MailServers, address: str) -> list[MailMessage]:
    """The address's INBOX, fetched off the event loop (imap_tools blocks)."""
    return await asyncio.to_thread(servers.messages, address)


@pytest.mark.mailserver
async def test_calendar_message_goes_through_smtp_into_imap(mail_servers: MailServers) -> None:
    alice = mail_servers.add_mailbox(_address("alice"))
    msg = _message([alice], subject="Invitation")
    msg.add_alternative(
        ICS.format(uid=uuid.uuid4(), attendee=alice),
        subtype="calendar",
        params={"method": "REQUEST"},
    )

    errors, reply = await _send(mail_servers, msg)

    assert errors == {}
    assert reply.startswith("OK")
    [got] = await _inbox(mail_servers, alice)
    assert got.subject == "Invitation"
    parts = list(got.obj.walk())
    assert [p.get_content_type() for p in parts] == [
        "multipart/alternative",
        "text/plain",
        "text/calendar",
    ]
    assert parts[2].get_param("method") == "REQUEST"
    ics = parts[2].get_payload(decode=True)
    assert isinstance(ics, bytes)
    assert b"ATTENDEE;PARTSTAT=NEEDS-ACTION" in ics
    # The relay re-stuffs dots for LMTP; a line starting with "." must arrive intact.
    assert "\n.A line starting with a dot" in got.text


@pytest.mark.mailserver
async def test_unknown_recipient_is_refused_and_the_others_delivered(
    mail_servers: MailServers,
) -> None:
    bob = mail_servers.add_mailbox(_address("bob"))
    ghost = _address("ghost")

    errors, _ = await _send(mail_servers, _message([bob, ghost]))

    assert list(errors) == [ghost]
    assert errors[ghost].code == 550
    assert len(await _inbox(mail_servers, bob)) == 1

    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await _send(mail_servers, _message([ghost]))
    assert [r.code for r in refused.value.recipients] == [550]

    # Dovecot must not have cached "unknown": a mailbox added now takes mail at once.
    mail_servers.add_mailbox(ghost)
    errors, _ = await _send(mail_servers, _message([ghost]))
    assert errors == {}


@pytest.mark.mailserver
async def test_stop_smtp_refuses_connections_and_start_smtp_brings_it_back(
    mail_servers: MailServers,
) -> None:
    carol = mail_servers.add_mailbox(_address("carol"))
    port = mail_servers.smtp_port

    mail_servers.stop_smtp()
    assert not mail_servers.smtp_running
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await _send(mail_servers, _message([carol]))

    mail_servers.start_smtp()
    assert mail_servers.smtp_port == port
    await _send(mail_servers, _message([carol]))
    assert len(await _inbox(mail_servers, carol)) == 1


@pytest.mark.mailserver
async def test_stop_smtp_cuts_open_connections(mail_servers: MailServers) -> None:
    dave = mail_servers.add_mailbox(_address("dave"))
    host, port = mail_servers.smtp_host, mail_servers.smtp_port
    async with aiosmtplib.SMTP(hostname=host, port=port, timeout=5) as smtp:
        await smtp.send_message(_message([dave]))
        await asyncio.to_thread(mail_servers.stop_smtp)
        with pytest.raises(aiosmtplib.SMTPServerDisconnected):
            await smtp.send_message(_message([dave]))
    assert len(await _inbox(mail_servers, dave)) == 1


@pytest.mark.mailserver
async def test_drop_after_closes_the_connection_mid_batch(mail_servers: MailServers) -> None:
    erin = mail_servers.add_mailbox(_address("erin"))
    mail_servers.drop_after(2)

    host, port = mail_servers.smtp_host, mail_servers.smtp_port
    smtp = aiosmtplib.SMTP(hostname=host, port=port, timeout=5)
    await smtp.connect()
    for n in range(2):
        await smtp.send_message(_message([erin], subject=f"batch {n}"))
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        await smtp.send_message(_message([erin], subject="batch 2"))
    assert not smtp.is_connected

    got = await _inbox(mail_servers, erin)
    assert sorted(m.subject for m in got) == ["batch 0", "batch 1"]

    mail_servers.drop_after(None)
    await _send(mail_servers, _message([erin], subject="batch 2"))
    assert len(await _inbox(mail_servers, erin)) == 3


@pytest.mark.mailserver
async def test_smtp_auth_checks_the_mailbox_password(mail_servers: MailServers) -> None:
    frank = mail_servers.add_mailbox(_address("frank"), password="hunter2")

    await _send(mail_servers, _message([frank]), username=frank, password="hunter2")
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as failed:
        await _send(mail_servers, _message([frank]), username=frank, password="wrong")

    assert failed.value.code == 535
    assert len(await _inbox(mail_servers, frank)) == 1


@pytest.mark.mailserver
def test_wipe_empties_every_folder(mail_servers: MailServers) -> None:
    grace = mail_servers.add_mailbox(_address("grace"))
    asyncio.run(_send(mail_servers, _message([grace])))
    with mail_servers.mailbox(grace) as box:
        box.folder.create("rollcall/processed")
        box.copy(box.uids(), "rollcall/processed")
        assert box.folder.status("rollcall/processed")["MESSAGES"] == 1

    mail_servers.wipe(grace)

    assert mail_servers.messages(grace) == []
    with mail_servers.mailbox(grace) as box:
        assert [f.name for f in box.folder.list()] == ["INBOX"]


@pytest.mark.mailserver
async def test_faults_do_not_outlive_a_test_part_1(mail_servers: MailServers) -> None:
    mail_servers.stop_smtp()
    mail_servers.drop_after(0)


@pytest.mark.mailserver
async def test_faults_do_not_outlive_a_test_part_2(mail_servers: MailServers) -> None:
    # Runs after part 1 (pytest keeps file order): the autouse reset restarted SMTP.
    assert mail_servers.smtp_running
    henry = mail_servers.add_mailbox(_address("henry"))
    assert (await _send(mail_servers, _message([henry])))[0] == {}
