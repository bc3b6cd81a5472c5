"""A long JSON list written by two processes taking its pages in turn, in the order of its rows.

Turning a page's rows into Python values and then into text holds the interpreter lock,
so threads cannot share that work; a second process can. After the first page shows the
list is longer than one page, the command forks: the parent takes the even pages, the
child the odd ones. Whoever reads a page passes the key of its last row to the other at
once (before the slower part, making the page's text), so each page still continues after
the last row actually written, as in one process: no row twice, none skipped, whatever is
written meanwhile. The child sends its pages' text to the parent, which writes every page
in turn. Memory holds a page or two in each process.

The messages go through two pipes: `_Channel` frames them (a kind, a length, the bytes).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
from collections.abc import Callable
from typing import IO, Any, BinaryIO

from cli.context import emit_json_texts
from store.errors import ServiceUnavailable
from store.paging import Key, Row, TextPages, texts_from

_NEXT, _LAST, _TEXT, _FAILED = b"N", b"L", b"T", b"F"
"""A page's successor starts after this key / no page follows / a page's text / an error."""

_SEPARATOR = ",\n  "
_SEPARATOR_BYTES = _SEPARATOR.encode()
_PIPE_BYTES = 1 << 20
"""The pipe from the child holds a page's text (Linux): the child goes on to its next page."""


def emit_session_json(query: Any, *, limit: int | None, offset: int | None = None) -> None:
    """Write the sessions of `query` (a session query; start order) as the contract's array."""
    from store.clock import utcnow
    from store.db import can_reconnect, reconnect_after_fork
    from store.session_json import SessionPages

    pages = SessionPages(query, utcnow(), offset=offset)
    emit_json_pages(pages, limit, reconnect_after_fork if can_reconnect() else None)


def emit_json_pages(
    pages: TextPages, limit: int | None, reconnect: Callable[[], None] | None
) -> None:
    """Write the JSON array of `pages`' rows, what `emit_json_texts` writes for them.

    Lists of more than one page are shared with a forked process where that is possible
    (`reconnect` gives it a database connection of its own; None: it cannot have one);
    others are written here.
    """
    page, after, left = pages.take(None, limit)
    out = sys.stdout
    raw = getattr(out, "buffer", None)
    if after is None or raw is None or reconnect is None or not _can_fork():
        emit_json_texts(texts_from(pages, page, after, left))
        return
    out.flush()
    encoding, errors = out.encoding or "utf-8", out.errors or "strict"
    from_parent, to_child = _pipe()
    from_child, to_parent = _pipe(_PIPE_BYTES)
    # What the parent made so far is shared with the child until either writes to it; a
    # collection would write to every object it walks (copying the pages), so those
    # objects are left out of collections while the two run.
    gc.freeze()
    pid = os.fork()
    if pid == 0:
        # Only the parent's ends open in the parent: each side reads the end of its pipe
        # when the other is gone.
        _Channel(from_child, to_child).close()
        _child(pages, reconnect, _Channel(from_parent, to_parent), (encoding, errors))
    from_parent.close()
    to_parent.close()
    channel = _Channel(from_child, to_child)
    try:
        _parent(pages, (page, after, left), channel, raw, (encoding, errors))
    except BaseException:
        channel.close()
        _stop(pid)
        raise
    else:
        channel.close()
        # Done with its last page, or reading the end of its pipe: it ends by itself.
        os.waitpid(pid, 0)
    finally:
        gc.unfreeze()


def _can_fork() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


def _parent(
    pages: TextPages,
    first: tuple[list[Row], Key | None, int | None],
    channel: _Channel,
    out: BinaryIO,
    encoding: tuple[str, str],
) -> None:
    """Take the even pages; write every page in order, the child's from the pipe."""
    page, after, left = first
    channel.send_key(after, left)
    out.write(b"[\n  ")
    out.write(_SEPARATOR.join(pages.texts(page)).encode(*encoding))
    while True:
        # The child's page: where the next one starts, then (later) its text.
        kind, payload = channel.receive()
        if kind == _LAST:
            _write_page(out, channel.receive_text())
            break
        mine, last = _next_page(pages, payload, channel, encoding)
        _write_page(out, channel.receive_text())
        _write_page(out, mine)
        if last:
            break
    out.write(b"\n]\n")
    out.flush()


def _next_page(
    pages: TextPages, key: bytes, channel: _Channel, encoding: tuple[str, str]
) -> tuple[bytes, bool]:
    """Read the page after `key` (the other's message), tell the other where the next one
    starts, then make the page's text; and whether it is the last page."""
    after, left = pickle.loads(key)
    page, after, left = pages.take(after, left)
    channel.send_key(after, left)
    return _SEPARATOR.join(pages.texts(page)).encode(*encoding), after is None


def _write_page(out: BinaryIO, text: bytes) -> None:
    if text:
        out.write(_SEPARATOR_BYTES)
        out.write(text)


def _child(
    pages: TextPages, reconnect: Callable[[], None], channel: _Channel, encoding: tuple[str, str]
) -> None:
    """Take the odd pages until the parent says none is left; never return."""
    status = 0
    try:
        # Interrupted together with the parent (same terminal), it is the parent that reports.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        reconnect()
        while True:
            kind, payload = channel.receive()
            if kind != _NEXT:
                break
            text, last = _next_page(pages, payload, channel, encoding)
            channel.send(_TEXT, text)
            if last:
                break
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which reports it
        status = 1
        with contextlib.suppress(BaseException):
            channel.send(_FAILED, _pickled(exc))
    finally:
        with contextlib.suppress(BaseException):
            channel.close()
        # No clean-up of the parent's objects (its connection, its buffered output).
        os._exit(status)


def _gone() -> ServiceUnavailable:
    return ServiceUnavailable(
        "list output", "the second process writing the list ended before it was done"
    )


def _pickled(exc: BaseException) -> bytes:
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
    except Exception:  # noqa: BLE001 - an error that cannot travel goes as its text
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
    return data


def _stop(pid: int) -> None:
    """End the child (the parent failed or was interrupted) and wait for it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _pipe(size: int | None = None) -> tuple[IO[bytes], IO[bytes]]:
    read, write = os.pipe()
    if size is not None:
        import fcntl

        with contextlib.suppress(OSError, AttributeError):
            fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, size)
    return os.fdopen(read, "rb"), os.fdopen(write, "wb")


class _Channel:
    """Framed messages one way in, one way out: a kind byte, an 8-byte length, the payload."""

    def __init__(self, inbox: IO[bytes], outbox: IO[bytes]) -> None:
        self._in = inbox
        self._out = outbox

    def send(self, kind: bytes, payload: bytes = b"") -> None:
        """Send one message and flush it; if the other process ended, raise why."""
        try:
            self._out.write(kind + len(payload).to_bytes(8, "big"))
            self._out.write(payload)
            self._out.flush()
        except BrokenPipeError:
            # The other process ended: with its error, when it sent one before.
            while True:
                self.receive()

    def send_key(self, after: Key | None, left: int | None) -> None:
        """Tell the other process where the next page starts, or that none follows."""
        if after is None:
            self.send(_LAST)
        else:
            self.send(_NEXT, pickle.dumps((after, left)))

    def receive(self) -> tuple[bytes, bytes]:
        """The next message; the other process's error raised here, or `_gone` if it ended."""
        head = self._in.read(9)
        kind, size = head[:1], int.from_bytes(head[1:], "big")
        payload = self._in.read(size) if size else b""
        if len(head) < 9 or len(payload) < size:
            raise _gone()
        if kind == _FAILED:
            raise pickle.loads(payload)
        return kind, payload

    def receive_text(self) -> bytes:
        """The text of the other process's page."""
        kind, payload = self.receive()
        if kind != _TEXT:
            raise _gone()
        return payload

    def close(self) -> None:
        """Close both ends (the other process then reads the end of its pipe)."""
        for end in (self._out, self._in):
            with contextlib.suppress(OSError):
                end.close()
