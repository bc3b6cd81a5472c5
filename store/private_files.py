"""Files that hold people's data (database, backups, exports): created for their owner only."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
_PRIVATE_UMASK = 0o077


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Files and folders created inside are readable by their owner only.

    The umask is process-wide; it is held only around the creation itself.
    Callers still chmod explicitly, as a file may exist with looser bits.
    """
    old = os.umask(_PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(old)


def private_temp_path(target: Path) -> Path:
    """A new empty file (mode 0600) beside `target`, to be renamed over it when complete."""
    with private_umask():
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    Path(name).chmod(PRIVATE_FILE_MODE)
    return Path(name)


def write_private_text(path: Path, text: str) -> None:
    """Write `text` to `path` (mode 0600) all at once: a failed write leaves no half file."""
    path = path.expanduser()
    temp = private_temp_path(path)
    try:
        temp.write_text(text, encoding="utf-8")
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    path.chmod(PRIVATE_FILE_MODE)
