"""Poll the organizer's IMAP folder once: read each new message, apply it, move what was handled."""

from __future__ import annotations

import dataclasses
import imaplib
import queue
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessage
from imap_tools.errors import (
    ImapToolsError,
    MailboxFolderCreateError,
    MailboxFolderSelectError,
    MailboxFolderStatusError,
    MailboxLoginError,
)

from mail.answer import with_answer
from mail.reply import read_reply
from store.db import write_transaction
from store.errors import ServiceUnavailable, ValidationError
from store.rsvp import (
    Handled,
    ImapPosition,
    apply_reply,
    mark_moved,
    pending_moves,
    read_position,
    reset_position,
)
from store.settings import Settings, current_settings

BATCH = 200
"""Messages fetched per FETCH command: bounds memory, keeps round trips few."""

APPLY_GROUP = 100
"""Messages applied per write transaction: one commit for many, while other writers
(the app, the CLI) wait at most a few milliseconds for the lock."""

TIMEOUT = 30.0
"""Seconds before a silent server counts as unreachable."""

T = TypeVar("T")

_SIZE = re.compile(rb"UID (\d+).*?RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+).*?UID (\d+)")


@dataclass(frozen=True)
class PollReport:
    """What one poll did: messages newly handled, of which applied and ignored."""

    fetched: int = 0
    applied: int = 0
    ignored: int = 0
    moved: int = 0

    def as_dict(self) -> dict[str, int]:
        """The contract's JSON shape for `mail poll`."""
        return {"fetched": self.fetched, "applied": self.applied, "ignored": self.ignored}


class _RawMessage(MailMessage):
    """A fetched message kept as bytes: the reader parses it once, its own way."""

    def __init__(self, fetch_data: list[Any]) -> None:
        raw, uid_data, flag_data = self._get_message_data_parts(fetch_data)
        self._raw_uid_data = uid_data
        self._raw_flag_data = flag_data
        self.raw: bytes = raw


def mailbox_key(settings: Settings) -> str:
    """The key under which the read position of the configured folder is stored."""
    return f"{settings.imap_user}@{settings.imap_host}:{settings.imap_port}/{settings.imap_folder}"


def connect(settings: Settings) -> BaseMailBox:
    """Log in to the configured IMAP server; `ServiceUnavailable` when it cannot be reached."""
    if not settings.imap_host:
        raise ValidationError("no IMAP server is configured", field="imap_host")
    kinds: dict[str, type[BaseMailBox]] = {
        "none": MailBoxUnencrypted,
        "starttls": MailBoxStartTls,
        "tls": MailBox,
    }
    kind = kinds.get(settings.imap_security)
    if kind is None:
        raise ValidationError("expected none, starttls or tls", field="imap_security")
    try:
        box = kind(settings.imap_host, port=settings.imap_port, timeout=TIMEOUT)  # type: ignore[call-arg]
    except (OSError, imaplib.IMAP4.error, ImapToolsError) as exc:
        raise ServiceUnavailable(
            "imap", f"cannot reach {settings.imap_host}:{settings.imap_port}: {exc}"
        ) from exc
    try:
        box.login(settings.imap_user, settings.imap_secret(), initial_folder=None)
    except MailboxLoginError as exc:
        _close(box)
        raise ValidationError(f"the IMAP login was refused: {exc}", field="imap_user") from exc
    except (OSError, imaplib.IMAP4.error, ImapToolsError) as exc:
        _close(box)
        raise ServiceUnavailable("imap", f"login failed: {exc}") from exc
    box.email_message_class = _RawMessage
    return box


def _close(box: BaseMailBox) -> None:
    try:
        box.logout()
    except Exception:  # noqa: BLE001 - the connection may already be gone
        try:
            box.client.shutdown()
        except Exception:  # noqa: BLE001
            pass


def poll_once(settings: Settings | None = None, *, batch: int = BATCH) -> PollReport:
    """Read the configured folder once and apply every new message exactly once.

    Messages are applied in groups of `APPLY_GROUP` per transaction, each in
    its own savepoint. Safe to interrupt anywhere: log entries and the read
    position commit together with what they applied, and moves to the
    processed folder are retried on the next poll.
    Raises `ServiceUnavailable("imap", ...)` when the server cannot be reached
    or the connection drops (what was committed before stays committed).
    """
    settings = settings or current_settings()
    box = connect(settings)
    try:
        return _poll(box, settings, max(2, batch))
    except (MailboxFolderSelectError, MailboxFolderStatusError) as exc:
        raise ValidationError(
            f"cannot open folder {settings.imap_folder!r}: {exc}", field="imap_folder"
        ) from exc
    except (TimeoutError, OSError, imaplib.IMAP4.abort, imaplib.IMAP4.error) as exc:
        raise ServiceUnavailable("imap", f"connection lost: {exc}") from exc
    except ImapToolsError as exc:
        raise ServiceUnavailable("imap", str(exc)) from exc
    finally:
        _close(box)


def _poll(box: BaseMailBox, settings: Settings, batch: int) -> PollReport:
    folder = settings.imap_folder
    key = mailbox_key(settings)
    status = box.folder.status(folder, ["UIDVALIDITY"])
    uidvalidity = int(status["UIDVALIDITY"])
    box.folder.set(folder)
    position = read_position(key)
    if position is None or position[0] != uidvalidity:
        reset_position(key, uidvalidity)
        last = 0
    else:
        last = position[1]
    processed = _processed_folder(box, settings.imap_processed_folder)
    moved = _move_pending(box, folder, uidvalidity, processed)
    uids = sorted(u for u in (int(x) for x in box.uids(f"UID {last + 1}:*")) if u > last)
    fetched = applied = ignored = 0
    # Committed groups are moved by the fetch thread between two fetches, while this
    # thread applies; what it moved is recorded here once it is done.
    mover = _Mover(processed if processed != folder else None)
    try:
        for fetched_batch in _prefetched(box, uids, batch, settings.max_message_bytes, mover):
            for group in _chunks(fetched_batch, APPLY_GROUP):
                committed: list[int] = []
                for handled in _apply_group(group, key, folder, uidvalidity, settings):
                    if not handled.new:
                        continue
                    fetched += 1
                    if handled.entry.move_pending:
                        committed.append(int(handled.entry.imap_uid))
                    if handled.entry.outcome == "applied":
                        applied += 1
                    else:
                        ignored += 1
                mover.request(committed)
    finally:
        mark_moved(folder, uidvalidity, mover.done)
    moved += len(mover.done)
    # The fetch thread is done with the connection: move what is left.
    moved += _move_pending(box, folder, uidvalidity, processed)
    return PollReport(fetched=fetched, applied=applied, ignored=ignored, moved=moved)


def _apply_group(
    group: list[tuple[int, bytes, int]], key: str, folder: str, uidvalidity: int, settings: Settings
) -> list[Handled]:
    """Read a few messages, then apply them in one write transaction, each in its own savepoint.

    One commit per group instead of per message: the log rows, the read
    position and the enrolment changes of the group still commit together, so
    a crash before the commit leaves every message of the group to the next
    poll. A message whose apply raises is rolled back alone; the ones before it
    are committed, then the error is raised.
    """
    read = []
    for uid, raw, size in group:
        # An oversized message arrives as its header only; the reader reports it too large.
        limit = 0 if size > settings.max_message_bytes else settings.max_message_bytes
        message = read_reply(raw, max_bytes=limit)
        message = with_answer(message, raw)
        if message.size != size:
            message = dataclasses.replace(message, size=size)
        read.append((uid, raw, message))
    done: list[Handled] = []
    failure: BaseException | None = None
    # Parsing is done before taking the write lock, so the lock is held only for SQL.
    with write_transaction():
        for uid, raw, message in read:
            try:
                done.append(
                    apply_reply(
                        message, raw=raw, position=ImapPosition(key, folder, uidvalidity, uid)
                    )
                )
            except Exception as exc:  # noqa: BLE001 - raised below, after the commit
                failure = exc
                break
    if failure is not None:
        raise failure
    return done


class _Mover:
    """UIDs committed by the applying thread, moved by the fetch thread (which owns the connection).

    A move done but not yet recorded (crash in between) is repeated by the next
    poll: moving a UID that already left the folder does nothing.
    """

    def __init__(self, target: str | None) -> None:
        self.target = target
        self.waiting: queue.SimpleQueue[list[int]] = queue.SimpleQueue()
        self.done: list[int] = []

    def request(self, uids: list[int]) -> None:
        if uids and self.target is not None:
            self.waiting.put(uids)

    def run(self, box: BaseMailBox) -> None:
        """Move what has been committed so far (in the fetch thread)."""
        uids: list[int] = []
        while True:
            try:
                uids += self.waiting.get_nowait()
            except queue.Empty:
                break
        if uids and self.target is not None:
            box.move([str(u) for u in uids], self.target, chunks=500)
            self.done += uids


def _prefetched(
    box: BaseMailBox, uids: list[int], batch: int, max_bytes: int, mover: _Mover | None = None
) -> Iterator[list[tuple[int, bytes, int]]]:
    """Batches fetched one ahead by a thread, so the server sends the next while we apply.

    Only that thread talks to the server until the generator ends; before each
    fetch it moves what `mover` was given. An IMAP error there is raised here
    after the batches fetched before it.
    """
    handoff: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for chunk in _chunks(uids, batch):
                if mover is not None:
                    mover.run(box)
                if not put(("batch", list(_fetch(box, chunk, max_bytes)))):
                    return
            put(("done", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            put(("error", exc))

    thread = threading.Thread(target=work, name="rollcall-imap-fetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = handoff.get()
            if kind == "batch":
                yield value
            elif kind == "done":
                return
            else:
                raise value
    finally:
        stop.set()
        thread.join(TIMEOUT + 5)


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _sizes(box: BaseMailBox, uids: list[int]) -> dict[int, int]:
    result, data = box.client.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)")
    sizes: dict[int, int] = {}
    if result != "OK":
        return sizes
    for line in data:
        if not isinstance(line, bytes):
            continue
        match = _SIZE.search(line)
        if match:
            if match.group(1):
                sizes[int(match.group(1))] = int(match.group(2))
            else:
                sizes[int(match.group(4))] = int(match.group(3))
    return sizes


def _fetch(box: BaseMailBox, uids: list[int], max_bytes: int) -> Iterator[tuple[int, bytes, int]]:
    """(uid, bytes, size) in UID order; oversized messages come as their header only."""
    sizes = _sizes(box, uids)
    small = [u for u in uids if sizes.get(u, 0) <= max_bytes]
    large = [u for u in uids if sizes.get(u, 0) > max_bytes]
    found: dict[int, tuple[bytes, int]] = {}
    if small:
        for msg in box.fetch(uid_list=[str(u) for u in small], mark_seen=False, bulk=True):
            raw = msg.raw  # type: ignore[attr-defined]
            if msg.uid:
                found[int(msg.uid)] = (raw, len(raw))
    if large:
        for msg in box.fetch(
            uid_list=[str(u) for u in large], mark_seen=False, bulk=True, headers_only=True
        ):
            if msg.uid:
                uid = int(msg.uid)
                found[uid] = (msg.raw, sizes[uid])  # type: ignore[attr-defined]
    for uid in uids:
        if uid in found:
            raw, size = found[uid]
            yield uid, raw, size


def _processed_folder(box: BaseMailBox, name: str) -> str:
    """`name` written with the server's hierarchy delimiter, created if missing."""
    folders = box.folder.list()
    delim = folders[0].delim if folders else "/"
    if delim and delim != "/":
        name = name.replace("/", delim)
    if not any(f.name == name for f in folders):
        try:
            box.folder.create(name)
        except MailboxFolderCreateError:
            # Another poller (a second worker, the open app) may have created it between
            # the listing and the CREATE: that is the folder wanted, not a failure.
            if not box.folder.exists(name):
                raise
    return name


def _move_pending(box: BaseMailBox, folder: str, uidvalidity: int, processed: str) -> int:
    uids = pending_moves(folder, uidvalidity)
    if not uids or processed == folder:
        mark_moved(folder, uidvalidity, uids)
        return 0
    box.move([str(u) for u in uids], processed, chunks=500)
    mark_moved(folder, uidvalidity, uids)
    return len(uids)


__all__ = ["PollReport", "connect", "mailbox_key", "poll_once"]
