"""Mail fixtures: settings that point at the test SMTP/IMAP servers, and unique mailboxes."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from store.settings import Settings, use_settings


@pytest.fixture
def mail_settings(settings: Settings, mail_servers: Any) -> Iterator[Settings]:
    """The test settings with SMTP and IMAP at the loopback servers (no TLS)."""
    organizer = mail_servers.add_mailbox(f"training-{uuid.uuid4().hex[:8]}@example.test")
    value = dataclasses.replace(
        settings,
        organizer_email=organizer,
        smtp_host=mail_servers.smtp_host,
        smtp_port=mail_servers.smtp_port,
        smtp_security="none",
        imap_host=mail_servers.imap_host,
        imap_port=mail_servers.imap_port,
        imap_security="none",
        imap_user=organizer,
        imap_password="secret",
    )
    use_settings(value)
    yield value
    use_settings(settings)


@pytest.fixture
def new_address(mail_servers: Any) -> Callable[[str], str]:
    """Make a fresh mailbox whose address starts with `name` (unique per test)."""

    def make(name: str) -> str:
        address: str = mail_servers.add_mailbox(f"{name}-{uuid.uuid4().hex[:8]}@example.test")
        return address

    return make
