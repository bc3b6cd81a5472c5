"""A private OpenSSH server on 127.0.0.1 whose keys file is the one rollcall manages.

sshd runs as root (it must, to switch to the logged-in account) on a free
port with its own host key; the service account is the account running the
tests. Each person's key is made with ssh-keygen in the test's folder and
used with the real ``ssh`` client.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers.common import HOST, START_TIMEOUT, free_port, missing, port_open, tail

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
ROLLCALL = str(Path(sys.executable).with_name("rollcall"))


@dataclass
class SshServer:
    """The running sshd, the service account's config and how to reach it."""

    port: int
    folder: Path
    config: Path
    """rollcall's config file of the service account (database, keys file, shell command)."""
    keys_file: Path
    login: str

    def keygen(self, name: str) -> Path:
        """A new ed25519 key pair; returns the private key's path (``.pub`` beside it)."""
        key = self.folder / "keys" / name
        key.parent.mkdir(exist_ok=True)
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)],
            check=True,
        )
        return key

    def ssh_command(self, key: Path, *args: str) -> list[str]:
        """The ``ssh`` command line that logs in with `key` (args: options, then the command)."""
        return [
            "ssh",
            "-F",
            "/dev/null",
            "-p",
            str(self.port),
            "-i",
            str(key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            *args[:-1],
            f"{self.login}@{HOST}",
            *args[-1:],
        ]

    def ssh(self, key: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run ``ssh`` with `key`; the last argument is the remote command line."""
        return subprocess.run(
            self.ssh_command(key, *args),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )


@pytest.fixture
def ssh_server(tmp_path: Path) -> Iterator[SshServer]:
    """sshd on a free port, its AuthorizedKeysFile the file `rollcall access` writes."""
    if not Path(SSHD).exists() or shutil.which("ssh") is None:
        missing("OpenSSH (openssh-server and the ssh client) is not installed")
    if os.geteuid() != 0:
        missing("sshd must start as root to log anyone in")
    folder = tmp_path / "sshd"
    folder.mkdir()
    # sshd's privilege separation needs its empty directory.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    host_key = folder / "host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    keys_file = folder / "authorized_keys"
    port = free_port()
    sshd_config = folder / "sshd_config"
    sshd_config.write_text(
        "\n".join(
            [
                f"Port {port}",
                f"ListenAddress {HOST}",
                f"HostKey {host_key}",
                f"PidFile {folder / 'sshd.pid'}",
                f"AuthorizedKeysFile {keys_file}",
                # The test folder lives under the world-writable /tmp.
                "StrictModes no",
                "UsePAM no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin yes",
                "PermitUserEnvironment no",
                # What README recommends for the service account.
                "PermitTTY yes",
                "DisableForwarding yes",
                "LogLevel VERBOSE",
                "",
            ]
        )
    )
    data = tmp_path / "service"
    data.mkdir()
    config = data / "config.toml"
    config.write_text(
        f'db = "{data / "rollcall.db"}"\n'
        'timezone = "UTC"\n'
        f'authorized_keys = "{keys_file}"\n'
        f'shell_command = "{ROLLCALL} --config {config}"\n'
    )
    log = folder / "sshd.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(sshd_config)], stderr=out)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not port_open(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"sshd did not start:\n{tail(log)}", pytrace=False)
            time.sleep(0.05)
        import pwd

        yield SshServer(port, folder, config, keys_file, pwd.getpwuid(os.getuid()).pw_name)
    finally:
        process.terminate()
        process.wait(timeout=10)
