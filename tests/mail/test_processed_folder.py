"""The processed folder when two pollers (a worker and the open app) make it at the same time."""

from __future__ import annotations

from typing import Any

import pytest
from imap_tools.errors import MailboxFolderCreateError

from mail.poller import _processed_folder, connect
from store.settings import Settings

pytestmark = pytest.mark.mailserver


def test_a_folder_another_poller_just_created_is_used(
    mail_settings: Settings, mail_servers: Any
) -> None:
    """The other poller's CREATE lands between this one's listing and its own CREATE."""
    mine, theirs = connect(mail_settings), connect(mail_settings)
    try:
        listing = mine.folder.list()  # before the other poller made the folder
        theirs.folder.create("rollcall/processed")
        mine.folder.list = lambda *a, **k: listing  # type: ignore[method-assign]
        assert _processed_folder(mine, "rollcall/processed") == "rollcall/processed"
        assert theirs.folder.exists("rollcall/processed")
    finally:
        mine.logout()
        theirs.logout()


def test_a_folder_the_server_refuses_is_still_an_error(mail_settings: Settings) -> None:
    """A CREATE refused for another reason (a name the server will not take) is not hidden."""
    box = connect(mail_settings)
    try:
        with pytest.raises(MailboxFolderCreateError):
            _processed_folder(box, "bad\x01name")
    finally:
        box.logout()
