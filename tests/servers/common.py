"""What every test server harness shares: loopback only, timeouts, free ports, skip or fail."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

HOST = "127.0.0.1"
"""Every server listens here only: tests never open a port beyond loopback."""

START_TIMEOUT = 20.0
"""Seconds a server may take to come up; generous because CI shares 2 cores with xdist."""

IO_TIMEOUT = 10.0
"""Seconds for one network round trip or admin command before we call it hung."""


# --------------------------------------------------------------------------- helpers


def missing(what: str) -> NoReturn:
    """Skip (developer machine) or fail (CI) because a server's software is not installed."""
    hint = f"{what}; run `bash scripts/test` as root to install it"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {hint}", pytrace=False)
    pytest.skip(hint)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def tail(path: Path, lines: int = 30) -> str:
    """Return the last lines of a log file, or a note that it does not exist."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"({path}: {exc.strerror})"
    return "\n".join(text.splitlines()[-lines:]) or f"({path} is empty)"


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:port right now."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def is_root() -> bool:
    return os.geteuid() == 0


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a child server and reap it; kill it if it ignores SIGTERM."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=IO_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=IO_TIMEOUT)
