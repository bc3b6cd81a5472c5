"""The session page: details, materials, the register, the waitlist, live updates."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Header, Label, Static
from textual.worker import get_current_worker

from screens.base import Refusal, RollcallScreen, add_columns, db_thread, run_rule
from screens.keymap import KEYMAP
from screens.messages import DataChanged
from screens.plain import plain
from screens.session_keys import removed_text, state_refusal
from screens.widgets.foot import screen_foot
from screens.widgets.register import (
    AttendeeTable,
    answers_text,
    attendee_cells,
    details_text,
    fill_table,
    row_text,
    waiting_cells,
)
from screens.widgets.table_cursor import highlighted_key
from store.db import read_in_thread
from store.read_models import (
    AttendeeRow,
    Declined,
    SessionDetail,
    declined_of,
    session_detail,
    session_stamp,
)
from store.statuses import ACTIVE, MARKED

POLL_SECONDS = 1.5
"""How often the page checks whether the session or its people changed."""


def _read(session_id: int) -> tuple[SessionDetail | None, list[Declined]]:
    detail = session_detail(session_id)
    return detail, declined_of(session_id) if detail is not None else []


def _read_early(session_id: int) -> Future[tuple[SessionDetail | None, list[Declined]]]:
    """Start reading the page in a thread of its own, while the page is still being built."""
    return read_in_thread(lambda: _read(session_id), "session page")


class SessionScreen(RollcallScreen):
    """One session: who is on it, how they answered, and the register."""

    BINDING_GROUP_TITLE = "Session"
    BINDINGS = KEYMAP["session"]

    class Loaded(Message):
        """The session as read now."""

        def __init__(
            self, detail: SessionDetail | None, declined: list[Declined] | None = None
        ) -> None:
            super().__init__()
            self.detail = detail
            self.declined = declined or []

    class Changed(Message):
        """The stamp moved: something changed in the database."""

    @dataclass
    class Done(Message):
        """A rule succeeded; what to say."""

        text: str
        _: KW_ONLY
        mailed: bool = False
        """Mail was queued: the app's sender should run now."""

    def __init__(self, session_id: int) -> None:
        super().__init__()
        self.session_id = session_id
        self.detail: SessionDetail | None = None
        self.by_key: dict[str, AttendeeRow] = {}
        self.stamp: tuple[str, int] | None = None
        self._early: Future[tuple[SessionDetail | None, list[Declined]]] | None = _read_early(
            session_id
        )
        """The first read, started before the page is composed (taken once)."""

    def compose(self) -> ComposeResult:
        """Details, attendees with a detail line, the waitlist, status and footer."""
        yield Header()
        yield Static("loading…", id="details")
        with Vertical(id="people"):
            yield Label("Attendees", id="attendees-title", classes="section-title")
            yield AttendeeTable(self.describe, id="attendees")
            yield Static("", id="detail-line")
            yield Label("Waitlist", id="waitlist-title", classes="section-title")
            yield Static("", id="declined")
            yield AttendeeTable(self.describe, id="waitlist")
        yield from screen_foot()

    def on_mount(self) -> None:
        """Columns, the first read, and the change poll."""
        attendees = self.query_one("#attendees", AttendeeTable)
        add_columns(attendees, "attendees")
        add_columns(self.query_one("#waitlist", AttendeeTable), "waitlist")
        attendees.focus()
        early = self._early
        if early is not None and early.done() and early.exception() is None:
            # Read while the page was composed: its first frame shows the people.
            self._early = None
            detail, declined = early.result()
            if detail is not None:
                self._loaded(self.Loaded(detail, declined))
            else:
                self.post_message(self.Loaded(detail, declined))
        else:
            self.load()
        self.set_interval(POLL_SECONDS, self.poll)

    # Reading ------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="session-load")
    def load(self) -> None:
        """Read the session and its people."""
        early, self._early = self._early, None
        read: tuple[SessionDetail | None, list[Declined]] | None = None
        if early is not None:
            # The read started with the page; if it failed, read again here (and report that).
            with contextlib.suppress(Exception):
                read = early.result()
        if read is None:
            with db_thread():
                read = _read(self.session_id)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(*read))

    @work(thread=True, exclusive=True, exit_on_error=False, group="session-poll")
    def poll(self) -> None:
        """Compare a cheap fingerprint of the session with the one on screen."""
        if self.stamp is None:
            return
        with db_thread():
            stamp = session_stamp(self.session_id)
        if stamp != self.stamp:
            self.post_message(self.Changed())

    @on(Changed)
    def _changed(self) -> None:
        self.load()

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        if event.detail is None:
            self.notify(f"Session {self.session_id} no longer exists", severity="error")
            self.dismiss(None)
            return
        self.detail = event.detail
        self.stamp = event.detail.stamp
        self.by_key = {
            str(r.enrolment_id): r for r in event.detail.attendees + event.detail.waitlist
        }
        self._details(event.detail)
        zone = self.app.settings.zone  # type: ignore[attr-defined]
        attendees = self.query_one("#attendees", AttendeeTable)
        fill_table(
            attendees,
            [(str(r.enrolment_id), attendee_cells(r, zone)) for r in event.detail.attendees],
        )
        waiting = self.query_one("#waitlist", AttendeeTable)
        fill_table(
            waiting, [(str(r.enrolment_id), waiting_cells(r, zone)) for r in event.detail.waitlist]
        )
        cap = "unlimited" if event.detail.max_attendees is None else str(event.detail.max_attendees)
        self.query_one("#attendees-title", Label).update(f"Attendees {event.detail.taken}/{cap}")
        self.query_one("#waitlist-title", Label).update(f"Waitlist ({len(event.detail.waitlist)})")
        waiting.display = bool(event.detail.waitlist)
        self._declined(event.detail, event.declined, zone)
        self._detail_line()
        self.refresh_bindings()

    def _declined(self, d: SessionDetail, declined: list[Declined], zone: Any) -> None:
        """Who declined the invitation and when, next to the people waiting for a place."""
        line = self.query_one("#declined", Static)
        offers = [r for r in d.attendees if r.status == "offered"]
        line.display = bool(declined or offers)
        if offers or declined:
            line.update(answers_text(offers, declined, bool(d.waitlist), zone))

    def _details(self, d: SessionDetail) -> None:
        zone = self.app.settings.zone  # type: ignore[attr-defined]
        self.query_one("#details", Static).update(details_text(d, zone))

    def describe(self, key: str) -> str:
        """The calendar response of one enrolment, for the detail line and tooltip."""
        row = self.by_key.get(key)
        if row is None:
            return ""
        health = getattr(self.app, "mail_health", None)
        sending = health.sending if health is not None else None
        return row_text(row, self.app.settings.zone, sending)  # type: ignore[attr-defined]

    def _detail_line(self) -> None:
        table = self._active_table()
        key = highlighted_key(table)
        self.query_one("#detail-line", Static).update(plain(self.describe(key) if key else ""))

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._detail_line()
        self.refresh_bindings()

    def _active_table(self) -> AttendeeTable:
        waiting = self.query_one("#waitlist", AttendeeTable)
        if self.focused is waiting:
            return waiting
        return self.query_one("#attendees", AttendeeTable)

    def _current(self) -> AttendeeRow | None:
        key = highlighted_key(self._active_table())
        return self.by_key.get(key) if key else None

    # Actions ------------------------------------------------------------

    ROLE_ACTIONS: ClassVar[dict[str, str]] = {
        "mark": "register",
        "unmark": "register",
        "finalise": "register",
        "promote": "promote",
        "invite_next": "promote",
        "email": "email",
        "note": "note",
        "add_people": "enrol",
        "remove": "unbook",
        "edit": "session.edit",
        "replace_trainer": "session.edit",
        "cancel_session": "session.cancel",
    }

    def trains_current(self) -> bool:
        """Whether the person using the app trains this session."""
        from store.access import current_actor

        d = self.detail
        person = current_actor().person_id
        return d is not None and person is not None and d.trainer_person_id == person

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the trainer replacement unless the trainer declined; grey out the rest."""
        if action == "replace_trainer":
            d = self.detail
            # Shown only when it applies: a declined trainer is the exception.
            declined = d is not None and d.trainer_calendar == "declined"
            if not declined or d is None or d.status != "scheduled" or d.finalised:
                return False
        return super().check_action(action, parameters)

    def why_not(self, action: str) -> str | None:
        """Why an action does not apply to the session or the highlighted row now."""
        d = self.detail
        if d is None:
            return None if action in ("back", "reload") else "the session is still loading"
        zone = self.app.settings.zone  # type: ignore[attr-defined]
        return super().why_not(action) or state_refusal(action, d, self._current(), zone)

    def action_back(self) -> None:
        """Back to the list."""
        self.dismiss(None)

    def action_reload(self) -> None:
        """Read again now."""
        self.load()

    def action_mark(self, outcome: str) -> None:
        """Mark the highlighted attendee and move to the next row."""
        from store.attendance import mark

        table = self.query_one("#attendees", AttendeeTable)
        row = self.by_key.get(highlighted_key(table) or "")
        if row is None or row.status == "waitlisted":
            return
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1, animate=False)
        self._rule(
            "mark",
            lambda: mark(self.session_id, row.email, outcome),
            f"{row.name}: {outcome}",
        )

    def action_unmark(self) -> None:
        """Take back the highlighted attendee's mark."""
        from store.attendance import unmark

        row = self._current()
        if row is not None and row.status in MARKED:
            self._rule(
                "unmark", lambda: unmark(self.session_id, row.email), f"{row.name}: unmarked"
            )

    def action_promote(self) -> None:
        """Give a place to the highlighted waitlisted person (or the first in line)."""
        from store.booking import promote

        row = self._current()
        if row is None or row.status != "waitlisted":
            row = self.detail.waitlist[0] if self.detail and self.detail.waitlist else None
        if row is not None:
            self._rule(
                "promote", lambda: promote(self.session_id, row.email), f"{row.name} promoted"
            )

    def action_invite_next(self) -> None:
        """Give the first in line the free place and send them the calendar invitation."""
        from store.booking import promote
        from store.outbox import invite

        d = self.detail
        if d is None or not d.waitlist:
            return
        row = d.waitlist[0]

        def promote_and_invite() -> Any:
            promote(self.session_id, row.email)
            return invite(self.session_id, [row.email])

        self._rule(
            "invite next", promote_and_invite, f"{row.name} promoted and invited", mailed=True
        )

    def action_email(self) -> None:
        """Write to the session's people (with the calendar invitation by default)."""
        from screens.email_form import EmailForm
        from store.outbox import InviteResult

        d = self.detail
        if d is None:
            return

        def sent(result: InviteResult | None) -> None:
            if result is None:
                return
            parts = [f"{result.queued} message(s) queued"]
            if result.invited:
                parts.append(f"{len(result.invited)} to be invited")
            health = getattr(self.app, "mail_health", None)
            if health is not None and health.sending:
                # Queued is not sent: say so, and what to change.
                parts.append(f"nothing leaves until then: {health.sending}")
            self.post_message(self.Done(", ".join(parts), mailed=True))

        enrolled = [r for r in d.attendees if r.status == "enrolled"]
        self.app.push_screen(EmailForm(self.session_id, d.title, enrolled, d.waitlist), sent)

    def action_add_people(self) -> None:
        """Search people and put the chosen one on the session."""
        from screens.people_picker import PeoplePicker

        def chosen(email: str | None) -> None:
            from store.booking import enrol

            if email:
                self._rule(
                    "enrol",
                    lambda: enrol(self.session_id, email),
                    f"{email} added",
                    describe=lambda r: (
                        f"{email}: {r.status}"
                        + (f" #{r.waitlist_position}" if r.waitlist_position else "")
                    ),
                )

        self.app.push_screen(PeoplePicker(self.session_id), chosen)

    def action_remove(self) -> None:
        """Take the highlighted person off the session (they are told)."""
        from screens.dialogs import TextModal
        from store.booking import cancel_booking

        row = self._current()
        if row is None or row.status not in ACTIVE:
            return

        def remove(text: str) -> str:
            done = cancel_booking(self.session_id, row.email, author="admin", reason=text)
            return removed_text(row.name, [(e.person.name, e.status) for e in done.moved_up])

        def reason(text: str | None) -> None:
            if text is not None:
                self._rule("unbook", lambda: remove(text), f"{row.name} removed", describe=str)

        self.app.push_screen(
            TextModal(f"Remove {row.name} from this session? Reason (optional):", required=False),
            reason,
        )

    @dataclass
    class NotesLoaded(Message):
        """An enrolment's notes log, read to show before adding to it."""

        row: AttendeeRow
        notes: list[tuple[datetime, str, str]]

    def action_note(self) -> None:
        """Show the highlighted person's notes log and add to it."""
        row = self._current()
        if row is not None:
            self._load_notes(row)

    @work(thread=True, exit_on_error=False, group="session-notes")
    def _load_notes(self, row: AttendeeRow) -> None:
        from store.read_models import enrolment_notes

        with db_thread():
            notes = enrolment_notes(row.enrolment_id)
        self.post_message(self.NotesLoaded(row, notes))

    @on(NotesLoaded)
    def _notes_loaded(self, event: NotesLoaded) -> None:
        from screens.dialogs import TextModal

        zone = self.app.settings.zone  # type: ignore[attr-defined]
        log = "\n".join(
            f"{when.astimezone(zone):%d %b %H:%M}  {author}: {text}"
            for when, author, text in event.notes[-12:]
        )
        enrolment_id = event.row.enrolment_id

        def write(text: str | None) -> None:
            if text:
                self._note(enrolment_id, text)

        self.app.push_screen(
            TextModal(
                f"Add a note for {event.row.name}:",
                placeholder="note",
                context=log or "No notes yet.",
            ),
            write,
        )

    @work(thread=True, exit_on_error=False, group="session-write")
    def _note(self, enrolment_id: int, text: str) -> None:
        from store.booking import write_note

        if run_rule(self, lambda: write_note(enrolment_id, text)) is Refusal.REFUSED:
            return
        self.post_message(self.Done("Note added"))

    def action_finalise(self) -> None:
        """Close the register (asks first)."""
        from screens.dialogs import confirm
        from store.attendance import finalise

        confirm(
            self,
            "Finalise the register? Marks can no longer change.",
            "Finalise",
            lambda: self._rule("finalise", lambda: finalise(self.session_id), "Register finalised"),
        )

    def action_edit(self) -> None:
        """Edit the session."""
        from screens.session_form import SessionForm

        def saved(_: int | None) -> None:
            self.load()

        self.app.push_screen(SessionForm(self.session_id), saved)

    def action_replace_trainer(self) -> None:
        """The trainer declined: the edit form with the cursor on the trainer (clash-checked)."""
        from screens.session_form import SessionForm

        def saved(_: int | None) -> None:
            self.load()

        self.app.push_screen(SessionForm(self.session_id, focus_field="trainer"), saved)

    def action_sheet(self) -> None:
        """Ask where to save the printable sign-in sheet, then write it in the background."""
        from screens.dialogs import TextModal
        from store.sheet import default_sheet_path

        d = self.detail
        if d is None:
            return

        def chosen(path: str | None) -> None:
            if path:
                self._write_sheet(path)

        self.app.push_screen(
            TextModal(
                "Save the sign-in sheet (PDF) as:",
                value=str(default_sheet_path(d.id, d.title)),
            ),
            chosen,
        )

    @work(thread=True, exit_on_error=False, group="session-sheet")
    def _write_sheet(self, path: str) -> None:
        from store.sheet import write_sheet

        written = run_rule(self, lambda: write_sheet(self.session_id, path))
        if written is Refusal.REFUSED:
            return
        self.post_message(self.Written(f"Sign-in sheet written to {written}"))

    @dataclass
    class Written(Message):
        """A file was written; where."""

        text: str

    @on(Written)
    def _written(self, event: Written) -> None:
        self.notify(event.text, timeout=6)

    def action_cancel_session(self) -> None:
        """Cancel the session (asks for the reason)."""
        from screens.dialogs import TextModal
        from store.session_input import session_name
        from store.sessions import cancel_session

        d = self.detail
        name = session_name(d.title, d.start) if d is not None else "the session"

        def given(reason: str | None) -> None:
            if reason:
                self._rule(
                    "cancel", lambda: cancel_session(self.session_id, reason), f"Cancelled: {name}"
                )

        self.app.push_screen(TextModal("Reason for cancelling (everyone is told):"), given)

    @work(thread=True, exit_on_error=False, group="session-write")
    def _rule(
        self,
        name: str,
        call: Callable[[], Any],
        text: str,
        describe: Callable[[Any], str] | None = None,
        *,
        mailed: bool = False,
    ) -> None:
        """Run one rule in a worker; the page reloads on success, says why on refusal."""
        result = run_rule(self, call)
        if result is Refusal.REFUSED:
            self.post_message(self.Changed())
            return
        self.post_message(self.Done(describe(result) if describe else text, mailed=mailed))

    @on(Done)
    def _done(self, event: Done) -> None:
        self.notify(event.text, timeout=3)
        if event.mailed:
            send_now = getattr(self.app, "mail_send_now", None)
            if send_now is not None:
                send_now()
        self.app.post_message(DataChanged("sessions"))
        self.load()
