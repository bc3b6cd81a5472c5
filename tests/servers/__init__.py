"""Pytest plugin: real PostgreSQL, Dovecot (IMAP + LMTP) and SMTP servers on 127.0.0.1.

Loaded from tests/conftest.py (``pytest_plugins``). One module per harness:
`postgres` (a private cluster), `lmtp` (the client the relay delivers with),
`smtp_relay` (the aiosmtpd server with fault injection), `dovecot` (IMAP and
LMTP, and the `mail_servers` fixture that starts the relay in front of it).
Every server fixture is session-scoped and private to the pytest process
(each xdist worker gets its own servers on its own free ports and temp dirs).
When a server's binaries are missing the fixture skips, except under
``CI=true``, where a missing server is a failure: CI must never go green by
skipping the real-server tests.
"""

from __future__ import annotations

from tests.servers.common import HOST, free_port, port_open
from tests.servers.dovecot import MailServers, dovecot_conf, mail_servers, undo_smtp_faults
from tests.servers.postgres import PostgresServer, postgres_server, postgres_url

__all__ = [
    "HOST",
    "MailServers",
    "PostgresServer",
    "dovecot_conf",
    "free_port",
    "mail_servers",
    "port_open",
    "postgres_server",
    "postgres_url",
    "undo_smtp_faults",
]
