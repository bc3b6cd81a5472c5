"""My calendar: the sessions a learner can see and book, their bookings and pathway progress."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from screens.base import Refusal, RollcallScreen, run_rule
from screens.dialogs import confirm
from screens.keymap import KEYMAP
from screens.messages import Done
from screens.plain import assemble, block, plain
from screens.widgets.footer import KeyFooter
from screens.widgets.progress import progress_text
from store.my_calendar import CalendarRow

TYPE_LABELS = {"in_person": "in person", "online": "online"}
COLUMNS = (
    ("Date", 15),
    ("Time", 5),
    ("My status", 11),
    ("Title", 28),
    ("Where", 14),
    ("Trainer", 14),
    ("Places", 14),
)
"""The list's columns and widths; the learner's own status stays in view at 80 columns."""
LEAVE_WORDS = {
    "enrolled": ("cancel your booking", "Cancel booking", "Your booking is cancelled."),
    "waitlisted": ("leave the waitlist", "Leave waitlist", "You have left the waitlist."),
    "requested": ("withdraw your request", "Withdraw", "Your request is withdrawn."),
    "offered": ("turn down the place offered", "Turn down", "You turned the place down."),
}
"""What `c` does to each kind of booking: the hint, the button, the toast afterwards."""


def link_line(url: str) -> Text:
    """A link on a line of its own, so that wrapping never splits it (see `_show_detail`)."""
    return Text(url, style=f"link {url}")


class LearnerScreen(RollcallScreen):
    """A learner's "My calendar": book with `b`, cancel with `c`."""

    DEFAULT_CSS = """
    LearnerScreen #learner-title { height: 1; padding: 0 1; background: $boost; }
    LearnerScreen #learner-body { height: 1fr; }
    LearnerScreen #learner-sessions { width: 3fr; }
    LearnerScreen #learner-side { width: 2fr; border-left: solid $primary; padding: 0 1; }
    LearnerScreen #learner-detail { height: auto; margin-bottom: 1; text-overflow: ellipsis; }
    LearnerScreen #learner-progress { height: auto; }
    LearnerScreen #learner-body.-narrow { layout: vertical; }
    LearnerScreen #learner-body.-narrow #learner-sessions { width: 100%; height: 1fr; }
    LearnerScreen #learner-body.-narrow #learner-side {
        width: 100%; height: 45%; border-left: none; border-top: solid $primary;
    }
    """
    NARROW = 140
    """Below this width the detail panel goes under the list, which keeps every column."""
    BINDING_GROUP_TITLE = "My calendar"
    BINDINGS = KEYMAP["learner"]

    @dataclass
    class Loaded(Message):
        """The learner's calendar and progress were read."""

        name: str
        rows: list[CalendarRow]
        progress: list[dict[str, object]]
        interests: list[str] = field(default_factory=list)
        """Courses the learner is on the interest list of."""

    def __init__(self, person_email: str) -> None:
        super().__init__()
        self.person_email = person_email
        self.rows: list[CalendarRow] = []

    def compose(self) -> ComposeResult:
        """Title line, the session list, and a side panel with detail and progress."""
        yield Static(assemble("My calendar — ", (self.person_email, "")), id="learner-title")
        with Horizontal(id="learner-body"):
            yield DataTable(id="learner-sessions", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="learner-side"):
                yield Static("Loading…", id="learner-detail")
                yield Static("", id="learner-progress")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Set up the columns and load."""
        table = self.query_one(DataTable)
        # Fixed widths: the list is drawn at its final widths from the first row on.
        for label, width in COLUMNS:
            table.add_column(label, width=width)
        table.focus()
        self.on_resize()
        self.load()

    def on_resize(self) -> None:
        """Put the detail panel beside the list when wide, under it when narrow."""
        self.query_one("#learner-body").set_class(self.app.size.width < self.NARROW, "-narrow")

    @work(thread=True, exclusive=True, exit_on_error=False, group="learner-load")
    def load(self) -> None:
        """Read the calendar and progress in a thread."""
        from store.my_calendar import my_calendar
        from store.pathways import progress
        from store.people import get_person

        def read() -> LearnerScreen.Loaded:
            from store.interest import interest_titles

            person = get_person(self.person_email)
            return self.Loaded(
                person.name, my_calendar(person), progress(person), interest_titles(person)
            )

        loaded = run_rule(self, read)
        if loaded is not Refusal.REFUSED:
            self.post_message(loaded)

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        from store.settings import current_settings

        zone = current_settings().zone
        table = self.query_one(DataTable)
        current = self._current()
        keep = current.session_id if current is not None else None
        table.clear()
        self.rows = event.rows
        cursor = 0
        for index, r in enumerate(event.rows):
            start = r.start.astimezone(zone)
            where = r.location or ("online" if r.online_url else "")
            places = plain(
                r.places_text, style="bold red" if r.places_text == "Session full" else ""
            )
            mine = plain(
                r.booking_text, style="bold green" if r.my_status == "enrolled" else "yellow"
            )
            title = plain(r.title, "strike dim" if r.status == "cancelled" else "")
            table.add_row(
                f"{start:%a %d %b %Y}",
                f"{start:%H:%M}",
                mine,
                title,
                plain(where),
                plain(r.trainer or ""),
                places,
                key=str(r.session_id),
            )
            if r.session_id == keep:
                cursor = index
        self.query_one("#learner-title", Static).update(
            assemble("My calendar — ", (event.name, ""), " (", (self.person_email, ""), ")")
        )
        if event.rows:
            table.move_cursor(row=cursor)
        self._show_detail()
        waiting = plain("\n".join(f"  • {t}" for t in event.interests) or "  (none)")
        self.query_one("#learner-progress", Static).update(
            assemble(
                ("Learning pathways\n", "bold"),
                progress_text(event.progress),
                ("\n\nWaiting for a date", "bold"),
                " (i adds the highlighted course)\n",
                waiting,
            )
        )

    def _current(self) -> CalendarRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        from store.settings import current_settings

        detail = self.query_one("#learner-detail", Static)
        r = self._current()
        if r is None:
            detail.update("No sessions open to you right now.")
            return
        zone = current_settings().zone
        start, end = r.start.astimezone(zone), r.end.astimezone(zone)
        lines = [
            plain(r.title, "bold"),
            plain(f"{start:%A %d %B %Y}, {start:%H:%M}–{end:%H:%M}"),
        ]
        if r.online_url and not r.location:
            lines += [Text("Online, meeting link:"), link_line(r.online_url)]
        else:
            kind = TYPE_LABELS.get(r.type, r.type).capitalize()
            lines.append(assemble(f"{kind}: ", (r.location or "—", "")))
        lines += [
            assemble("Trainer: ", (r.trainer or "—", "")),
            plain(
                f"Places: {r.places_text}" + (f" ({r.waitlisted} waiting)" if r.waitlisted else "")
            ),
        ]
        if r.description:
            lines += [Text(), block(r.description)]
        if r.materials:
            lines += [Text(), Text("Pre-read", style="bold")]
            for name, url in r.materials:
                lines += [assemble("  • ", (name, "")), link_line(url)]
        lines += [Text(), plain(r.reason, "green" if r.can_book else "yellow")]
        if r.can_book:
            lines.append(
                Text("Press b to book" + (" (joins the waitlist)" if "full" in r.reason else ""))
            )
        if r.can_cancel:
            lines.append(Text(f"Press c to {LEAVE_WORDS[r.my_status or 'enrolled'][0]}"))
        # Lines wrap between words only (text-overflow: ellipsis): a link wider than the
        # panel is cut with an ellipsis (still whole as the terminal's link), never folded.
        detail.update(Text("\n").join(lines))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out book/cancel when the highlighted session does not allow them."""
        if action == "accept_offer":
            r = self._current()
            return True if r is not None and r.my_status == "offered" else None
        if action in ("book", "cancel_booking"):
            r = self._current()
            allowed = r is not None and (r.can_book if action == "book" else r.can_cancel)
            return True if allowed else None
        return True

    def action_reload(self) -> None:
        """Read everything again."""
        self.load()

    def action_book(self) -> None:
        """Book the highlighted session, or say why not."""
        r = self._current()
        if r is None:
            return
        if not r.can_book:
            self.notify(r.reason, title="Cannot book", severity="warning")
            return
        from store.my_calendar import same_course_booking

        other = same_course_booking(self.rows, r)
        if other is None:
            self.book(r.session_id)
            return

        held = other.booking_text.lower() or "booked"
        question = (
            f"You already hold {other.title} on {self._when(other)} ({held}). "
            f"Book {r.title} on {self._when(r)} as well?"
        )
        confirm(self, question, "Book both", lambda: self.book(r.session_id))

    def action_cancel_booking(self) -> None:
        """Cancel the learner's booking after a confirmation."""
        r = self._current()
        if r is None:
            return
        if not r.can_cancel:
            self.notify("You have no booking here to cancel.", severity="warning")
            return
        what, button, done = LEAVE_WORDS[r.my_status or "enrolled"]
        question = f"{what[0].upper()}{what[1:]} for {r.title}, {self._when(r)}?"
        confirm(self, question, button, lambda: self.unbook(r.session_id, done))

    def _when(self, row: CalendarRow) -> str:
        from store.session_input import when_text

        return when_text(row.start)

    @work(thread=True, exclusive=True, exit_on_error=False, group="learner-write")
    def book(self, session_id: int) -> None:
        """Book (or join the waitlist) in a thread."""
        from store.booking import book

        email = self.person_email
        result = run_rule(self, lambda: book(session_id, email, author=email))
        if result is Refusal.REFUSED:
            self.post_message(Done(""))  # show the session as it is now
            return
        if result.status == "requested":
            text = "Requested: your manager has been asked to approve it."
        elif result.status == "waitlisted":
            text = (
                f"The session is full: you are number {result.waitlist_position} on the waitlist."
            )
        else:
            text = "Booked. A confirmation will be emailed to you."
        self.post_message(Done(text))

    @work(thread=True, exclusive=True, exit_on_error=False, group="learner-write")
    def unbook(self, session_id: int, done: str = "Your booking is cancelled.") -> None:
        """Cancel the booking (or leave the waitlist) in a thread."""
        from store.booking import unbook

        email = self.person_email
        if run_rule(self, lambda: unbook(session_id, email, author=email)) is Refusal.REFUSED:
            self.post_message(Done(""))
            return
        self.post_message(Done(done))

    def action_accept_offer(self) -> None:
        """Take the place offered on the highlighted session."""
        r = self._current()
        if r is not None and r.my_status == "offered":
            self.write("accept", r.session_id, "", "The place is yours: you are booked.")

    def action_register_interest(self) -> None:
        """Ask to be told when a new date of the highlighted session's course comes."""
        r = self._current()
        if r is not None:
            done = f"You will hear of new dates of {r.course}."
            self.write("interest", r.session_id, r.course, done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="learner-write")
    def write(self, what: str, session_id: int, course: str, done: str) -> None:
        """Accept an offer or register interest in a thread."""
        from store.interest import add_interest
        from store.offers import accept_offer

        email = self.person_email
        rules = {
            "accept": lambda: accept_offer(session_id, email, author=email),
            "interest": lambda: add_interest(course, email, source="learner"),
        }
        refused = run_rule(self, rules[what]) is Refusal.REFUSED
        self.post_message(Done("" if refused else done))
