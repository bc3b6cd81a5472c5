"""SMTP security as configured: STARTTLS, implicit TLS and AUTH, against local servers."""

from __future__ import annotations

import dataclasses
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from mail.sender import send_outbox
from store import booking
from store.models import Outbox
from store.settings import Settings
from tests.builders import person, session
from tests.servers import free_port


class Sink:
    """Keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"robot", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    base = tmp_path_factory.mktemp("tls")
    cert, key = base / "cert.pem", base / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """Trust the test certificate (OpenSSL reads SSL_CERT_FILE) and return a server context."""
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def start(sink: Sink, **kwargs: Any) -> tuple[Controller, int]:
    port = free_port()

    controller = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, port


@pytest.fixture
def queued(sqlite_store: str, settings: Settings) -> Iterator[str]:
    s = session()
    ann = person("ann@example.test")
    booking.book(s.id, ann.email)
    return ann.email


def configure(settings: Settings, port: int, **changes: Any) -> Settings:
    return dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port, **changes)


def test_starttls_with_login(queued: str, settings: Settings, trusted: ssl.SSLContext) -> None:
    sink = Sink()
    controller, port = start(
        sink,
        tls_context=trusted,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    try:
        report = send_outbox(
            configure(
                settings, port, smtp_security="starttls", smtp_user="robot", smtp_password="s3cret"
            )
        )
    finally:
        controller.stop()
    assert report.unreachable is None
    assert report.sent == 1
    assert sink.received == [(settings.organizer_email, [queued])]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_implicit_tls_with_password_command(
    queued: str, settings: Settings, trusted: ssl.SSLContext
) -> None:
    sink = Sink()
    controller, port = start(
        # aiosmtpd does not see implicit TLS as "secure" for AUTH; the socket is TLS anyway.
        sink,
        ssl_context=trusted,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    try:
        report = send_outbox(
            configure(
                settings,
                port,
                smtp_security="tls",
                smtp_user="robot",
                smtp_password_command="echo s3cret",
            )
        )
    finally:
        controller.stop()
    assert (report.sent, report.unreachable) == (1, None)
    assert len(sink.received) == 1


def test_wrong_password_is_reported_and_nothing_lost(
    queued: str, settings: Settings, trusted: ssl.SSLContext
) -> None:
    sink = Sink()
    controller, port = start(
        sink,
        tls_context=trusted,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    try:
        report = send_outbox(
            configure(
                settings, port, smtp_security="starttls", smtp_user="robot", smtp_password="wrong"
            )
        )
    finally:
        controller.stop()
    assert report.unreachable
    assert report.pending == 1
    assert sink.received == []
    assert Outbox.get().status == "pending"


def test_untrusted_certificate_is_refused(
    queued: str, settings: Settings, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sink = Sink()
    controller, port = start(sink, tls_context=context, require_starttls=True)
    try:
        report = send_outbox(configure(settings, port, smtp_security="starttls"))
    finally:
        controller.stop()
    assert report.unreachable
    assert "certificate" in report.unreachable.lower()
    assert sink.received == []
