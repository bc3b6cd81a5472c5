"""One person's page: details, bookings, waitlists, completions, pathways, notes about them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Header, Label, Static

from screens.base import Refusal, RollcallScreen, run_rule
from screens.keymap import KEYMAP
from screens.plain import block, plain
from screens.widgets.foot import screen_foot
from store.local_time import span_text
from store.person_page import BookingLine, PersonPage
from store.read_models import PersonRow

STATUS_WORDS = {
    "enrolled": "booked",
    "waitlisted": "waiting",
    "attended": "attended",
    "no_show": "no-show",
    "cancelled": "cancelled",
}
"""An enrolment status as the page says it."""


def _when(moment: datetime, end: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a %d %b %Y} {span_text(moment, end, zone)}"


def _booking(line: BookingLine, zone: ZoneInfo, *, over: bool = False) -> Text:
    status = STATUS_WORDS.get(line.status, line.status)
    if over and line.status == "enrolled" and not line.session_cancelled:
        status = "booked, not marked"
    if line.status == "waitlisted" and line.waitlist_position:
        status = f"waitlist #{line.waitlist_position}"
    if line.session_cancelled:
        status += " (session cancelled)"
    place = f" · {line.place}" if line.place else ""
    return plain(
        f"  {_when(line.start, line.end, zone)}  {line.title} #{line.session_id}{place} · {status}"
    )


def page_text(page: PersonPage, zone: ZoneInfo) -> Text:
    """The whole page as plain text (names and notes never read as markup)."""
    out = Text()

    def section(title: str, empty: str, lines: list[Text]) -> None:
        out.append(f"\n{title}\n", style="bold")
        if not lines:
            out.append(f"  {empty}\n", style="dim")
        for line in lines:
            out.append_text(line)
            out.append("\n")

    about = [
        ("Email", page.email),
        ("Department", page.department),
        ("Role", page.role),
        ("Location", page.location),
        ("Manager", page.manager),
    ]
    for label, value in about:
        if value:
            out.append_text(plain(f"{label}: {value}"))
            out.append("\n")
    flags = ["active" if page.active else "inactive"]
    if page.trainer:
        flags.append("trainer")
    out.append(", ".join(flags) + "\n", style="" if page.active else "bold")
    if page.notes:
        out.append_text(block(f"Notes: {page.notes}"))
        out.append("\n")
    section("Upcoming bookings", "none", [_booking(b, zone) for b in page.upcoming])
    section("Waitlists", "none", [_booking(b, zone) for b in page.waitlists])
    section("Past and cancelled", "none", [_booking(b, zone, over=True) for b in page.past])
    section(
        "Completions",
        "none recorded",
        [
            plain(
                f"  {c.what}: done {c.completed_on:%d %b %Y}, "
                + (
                    f"{'expired' if c.expired else 'expires'} {c.expires_on:%d %b %Y}"
                    if c.expires_on
                    else "does not expire"
                )
                + f" ({c.source})",
                "bold" if c.expired else "",
            )
            for c in page.completions
        ],
    )
    steps: list[Text] = []
    for p in page.pathways:
        done = "complete" if p["complete"] else f"{p['percent']}%"
        steps.append(plain(f"  {p['name']}: {done}"))
        steps += [
            plain(f"    [{'x' if r['done'] else ' '}] {r['label']}") for r in p["requirements"]
        ]
    section("Pathways", "no pathways defined", steps)
    section(
        "Notes about them",
        "none",
        [
            plain(
                f"  {n.written_at.astimezone(zone):%d %b %Y %H:%M} {n.author} on "
                f"{n.session_title} ({n.session_start.astimezone(zone):%d %b %Y}): {n.text}"
            )
            for n in page.notes_about
        ],
    )
    return out


class PersonScreen(RollcallScreen):
    """Everything about one person; `e` edits their details, escape goes back."""

    BINDING_GROUP_TITLE = "Person"
    BINDINGS = KEYMAP["person"]
    ROLE_ACTIONS: ClassVar[dict[str, str]] = {"edit": "people"}

    @dataclass
    class Loaded(Message):
        """The page was read."""

        page: PersonPage

    def __init__(self, email: str) -> None:
        super().__init__()
        self.email = email
        self.page: PersonPage | None = None

    def compose(self) -> ComposeResult:
        """Name, the page, the info bar and footer."""
        yield Header()
        yield Label("", id="person-name", classes="section-title")
        with VerticalScroll(id="person-body"):
            yield Static("Reading…", id="person-page")
        yield from screen_foot()

    def on_mount(self) -> None:
        """Read the page; the body takes the keys (up/down scroll)."""
        self.query_one("#person-body").focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="person-page")
    def load(self) -> None:
        """Read the page in a worker."""
        from store.person_page import person_page

        page = run_rule(self, lambda: person_page(self.email))
        if page is not Refusal.REFUSED:
            self.post_message(self.Loaded(page))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.page = event.page
        self.query_one("#person-name", Label).update(plain(event.page.name, "bold"))
        zone = self.app.settings.zone  # type: ignore[attr-defined]
        self.query_one("#person-page", Static).update(page_text(event.page, zone))

    def action_back(self) -> None:
        """Back to the list."""
        self.dismiss(None)

    def action_reload(self) -> None:
        """Read again."""
        self.load()

    def action_edit(self) -> None:
        """Edit the person's details; the page reads again after a save."""
        if self.page is None:
            return
        from screens.people import PersonForm

        p = self.page
        row = PersonRow(
            id=p.id, email=p.email, name=p.name, department=p.department, role=p.role,
            location=p.location, active=p.active, trainer=p.trainer,
        )  # fmt: skip

        def saved(done: bool | None) -> None:
            if done:
                self.load()

        self.app.push_screen(PersonForm(row), saved)
