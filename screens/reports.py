"""Reports: no-shows, attendance, responses, expiry and fill rate, with charts and CSV export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option
from textual_plotext import PlotextPlot

from screens.base import Refusal, RollcallScreen, db_thread, run_rule
from screens.dialogs import FormModal, confirm
from screens.keymap import KEYMAP
from screens.messages import Done, RuleRefused
from screens.plain import clean, plain
from screens.widgets.bars import bar_chart
from screens.widgets.footer import KeyFooter
from store.errors import RollcallError
from store.pathways import today
from store.reports import DAY_REPORTS

SHOWN_ROWS = 200
"""Rows put in the table at once; the CSV export always has them all."""

CHARTS: dict[str, tuple[str, str, str]] = {
    # report name -> (chart kind, label column, value column)
    "no-shows-course": ("bar", "course", "rate"),
    "no-shows-department": ("bar", "department", "rate"),
    "no-shows-trainer": ("bar", "trainer", "rate"),
    "attendance": ("line", "period", "rate"),
    "attendance-weekly": ("line", "period", "rate"),
    "responses": ("bar", "course", "response_rate"),
    "response-times": ("bar", "bucket", "responses"),
    "fill-rate": ("bar", "course", "rate"),
    "fill-rate-monthly": ("line", "month", "rate"),
}
"""Reports a picture explains better than a table; the rest are tables only."""

WINDOWS: tuple[tuple[str, int | None], ...] = (
    ("all time", None),
    ("last 12 months", 365),
    ("last 3 months", 91),
)
"""Periods `p` cycles through. All time first: its queries read covering indexes only."""

CHART_TITLES = {"rate": "%", "response_rate": "% answered", "responses": "answers"}

FIRST_COLUMNS = dict.fromkeys(
    DAY_REPORTS, ("name", "item", "expires_on", "days_left", "status", "booked_session")
)
"""Columns a report shows first: who, what and when it expires, before the email and kind."""


class ReportsScreen(RollcallScreen):
    """Pick a report on the left; its chart and rows show on the right. `x` exports CSV."""

    DEFAULT_CSS = """
    ReportsScreen #reports-body { height: 1fr; }
    ReportsScreen #report-list { width: 34; }
    ReportsScreen #report-main { width: 1fr; padding: 0 1; }
    ReportsScreen #report-title { height: auto; }
    ReportsScreen #report-chart { height: 14; }
    ReportsScreen #report-chart.hidden { display: none; }
    ReportsScreen #report-bars { height: auto; max-height: 16; margin-bottom: 1; }
    ReportsScreen #report-bars.hidden { display: none; }
    ReportsScreen #report-rows { height: 1fr; }
    """
    BINDING_GROUP_TITLE = "Reports"
    BINDINGS = KEYMAP["reports"]

    @dataclass
    class Loaded(Message):
        """A report's rows were computed."""

        name: str
        rows: list[dict[str, Any]]

    @dataclass
    class Exported(Message):
        """A CSV file was written."""

        path: str
        count: int

    def __init__(self, report: str = "no-shows-course", days: int = 30) -> None:
        super().__init__()
        self.report = report
        self.days = days
        self.rows: list[dict[str, Any]] = []
        self.window = 0
        """Index into `WINDOWS`."""
        self.loaded: str | None = None
        """The report whose rows are on screen."""

    def compose(self) -> ComposeResult:
        """The list of reports, and the chart and table of the chosen one."""
        from store.reports import REPORTS

        with Horizontal(id="reports-body"):
            yield OptionList(
                *[Option(title, id=name) for name, (title, _) in REPORTS.items()],
                id="report-list",
            )
            with Vertical(id="report-main"):
                yield Static("", id="report-title")
                yield PlotextPlot(id="report-chart")
                yield Static("", id="report-bars", classes="hidden")
                yield DataTable(id="report-rows", zebra_stripes=True, cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Highlight the first report and load it."""
        options = self.query_one(OptionList)
        options.highlighted = options.get_option_index(self.report)
        options.focus()
        self.load()

    @on(OptionList.OptionHighlighted)
    def _chosen(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != event.option_list.highlighted:
            return  # stale: the list's own first highlight, overtaken in on_mount
        name = event.option.id
        if name and name != self.report:
            self.report = name
            self.load()

    def action_reload(self) -> None:
        """Compute the report again."""
        self.load()

    def action_switch_focus(self) -> None:
        """Move between the report list and the rows."""
        options = self.query_one(OptionList)
        table = self.query_one(DataTable)
        (table if options.has_focus else options).focus()

    def _title(self, loading: bool = False) -> str:
        from store.reports import REPORTS

        title = REPORTS[self.report][0]
        if self.report in DAY_REPORTS:
            title += f" (next {self.days} days)"
        else:
            label = WINDOWS[self.window][0]
            title += " — all sessions" if self.window == 0 else f" — sessions of the {label}"
        return f"[b]{escape(title)}[/b]" + ("  [dim]computing…[/dim]" if loading else "")

    def load(self) -> None:
        """Say the chosen report is being computed, and compute it in a thread."""
        self.query_one("#report-title", Static).update(self._title(True))
        span = WINDOWS[self.window][1]
        since = None if span is None else today() - timedelta(days=span)
        self.compute(self.report, self.days, since)

    def action_period(self) -> None:
        """Cycle the period the reports cover: a year, three months, all time."""
        self.window = (self.window + 1) % len(WINDOWS)
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="report-load")
    def compute(self, name: str, days: int, since: date | None) -> None:
        """Run one report; the rows come back in `Loaded`."""
        from store.reports import run_report

        if name in DAY_REPORTS:
            # Thousands may be due; the screen shows the most urgent, the export
            # recomputes them all.
            rows = run_rule(self, lambda: run_report(name, days=days, limit=SHOWN_ROWS))
        else:
            rows = run_rule(self, lambda: run_report(name, since=since))
        if rows is not Refusal.REFUSED:
            self.post_message(self.Loaded(name, rows))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        if event.name != self.report:
            return  # the admin moved on; a newer load is coming
        self.rows = event.rows
        self.loaded = event.name
        table = self.query_one(DataTable)
        table.clear(columns=True)
        shown = event.rows[:SHOWN_ROWS]
        if shown:
            first = [k for k in FIRST_COLUMNS.get(event.name, ()) if k in shown[0]]
            keys = first + [k for k in shown[0] if k not in first]
            table.add_columns(*[key.replace("_", " ") for key in keys])
            for row in shown:
                table.add_row(*[plain("" if row[k] is None else row[k]) for k in keys])
        note = ""
        if len(event.rows) > SHOWN_ROWS:
            note = f"\n[dim]showing {SHOWN_ROWS} of {len(event.rows)} rows; x exports all[/dim]"
        elif not event.rows:
            note = "\n[dim]no data yet[/dim]"
        self.query_one("#report-title", Static).update(self._title() + note)
        self._chart(event.name, event.rows)

    def _chart(self, name: str, rows: list[dict[str, Any]]) -> None:
        chart = self.query_one(PlotextPlot)
        bars = self.query_one("#report-bars", Static)
        spec = CHARTS.get(name)
        kind = spec[0] if spec is not None and rows else None
        chart.set_class(kind != "line", "hidden")
        bars.set_class(kind != "bar", "hidden")
        if spec is None or not rows:
            return
        _, label_key, value_key = spec
        # Labels are stored text (departments, titles): no control codes reach the plot.
        points = [
            (clean(r[label_key], one_line=True), float(r[value_key]))
            for r in rows
            if r[value_key] is not None
        ]
        if kind == "bar":
            # Horizontal bars, each with its label and value; the worst (highest) first, at
            # most 15 so the rows stay in view (the table has them all).
            if name != "response-times":
                points = sorted(points, key=lambda p: -p[1])[:15]
            width = self.query_one("#report-main").content_size.width or 60
            percent = value_key in ("rate", "response_rate")
            title = CHART_TITLES.get(value_key, value_key)
            bars.update(
                Text.assemble((f"{title}\n", "dim"), bar_chart(points, width, percent=percent))
            )
            return
        points = points[-36:]
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        labels = [p[0] for p in points]
        values = [p[1] for p in points]
        plt.plot(list(range(len(values))), values, marker="braille")
        step = max(1, len(labels) // 8)
        plt.xticks(list(range(0, len(labels), step)), labels[::step])
        if value_key in ("rate", "response_rate"):
            plt.ylim(0, 100)
        plt.title(CHART_TITLES.get(value_key, value_key))
        chart.refresh()

    def on_resize(self) -> None:
        """Draw the bars again at the new width."""
        if self.loaded is not None and CHARTS.get(self.loaded, ("",))[0] == "bar":
            self._chart(self.loaded, self.rows)

    def _due_row(self) -> dict[str, Any] | None:
        """The highlighted row when it is a course someone must renew."""
        if self.loaded not in DAY_REPORTS:
            return None
        table = self.query_one(DataTable)
        if not 0 <= table.cursor_row < min(len(self.rows), SHOWN_ROWS):
            return None
        row = self.rows[table.cursor_row]
        return row if row.get("kind") == "course" else None

    ROLE_ACTIONS: ClassVar[dict[str, str]] = {
        "book_next": "enrol",
        "register_interest": "interest",
    }

    def why_not(self, action: str) -> str | None:
        """Booking and interest are for admins, on a course row of the expiring or due report."""
        refused = super().why_not(action)
        if refused or action not in ("book_next", "register_interest"):
            return refused
        if self._due_row() is None:
            return "highlight a course row of the expiring or due-for-renewal report"
        return None

    @on(DataTable.RowHighlighted)
    def _row_moved(self) -> None:
        self.refresh_bindings()

    @dataclass
    class NextFound(Message):
        """The session a person due for renewal would be booked onto, to ask about."""

        email: str
        name: str
        session_id: int
        session: str
        """Its title and start in words: "Fire Safety, Thu 3 Dec 2026 09:30"."""
        full: bool

    def action_book_next(self) -> None:
        """Find the next session of the highlighted person's course, then ask, naming it."""
        row = self._due_row()
        if row is not None:
            self.find_next(str(row["email"]), str(row["name"]), str(row["item"]))

    @work(thread=True, exclusive=True, exit_on_error=False, group="report-book")
    def find_next(self, email: str, name: str, course: str) -> None:
        """Read the next session of the course in a thread; `NextFound` asks about it."""
        from store.completions import next_session
        from store.errors import RuleViolation
        from store.session_input import session_name
        from store.sessions import count_occupying

        def find() -> ReportsScreen.NextFound:
            session = next_session(course, email)
            if session is None:
                raise RuleViolation(
                    f"no scheduled session of {course} to book {email} onto", field="course"
                )
            most = session.max_attendees
            full = most is not None and count_occupying(session) >= most
            label = session_name(session.title, session.start)
            return self.NextFound(email, name, session.id, label, full)

        found = run_rule(self, find)
        if found is not Refusal.REFUSED:
            self.post_message(found)

    @on(NextFound)
    def _next_found(self, event: NextFound) -> None:
        full = " It is full: they would join the waitlist." if event.full else ""
        question = f"Book {event.name} ({event.email}) onto {event.session}?{full}"
        confirm(
            self,
            question,
            "Book",
            lambda: self.book_next(event.email, event.session_id, event.session),
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="report-book")
    def book_next(self, email: str, session_id: int, session: str) -> None:
        """Enrol on the session named in the question; the report reloads to show it."""
        from store.booking import enrol

        result = run_rule(self, lambda: enrol(session_id, email))
        if result is Refusal.REFUSED:
            return
        if result.status == "waitlisted":
            text = f"{email}: {session} is full; waitlisted at {result.waitlist_position}"
        else:
            text = f"{email} enrolled on {session}"
        self.post_message(Done(text))

    def action_register_interest(self) -> None:
        """Put the highlighted person on the interest list of the course they must renew."""
        row = self._due_row()
        if row is not None:
            self.register_interest(str(row["email"]), str(row["item"]))

    @work(thread=True, exclusive=True, exit_on_error=False, group="report-book")
    def register_interest(self, email: str, course: str) -> None:
        """Add to the interest list in a thread: a new date of the course will invite them."""
        from store.interest import add_interest

        if run_rule(self, lambda: add_interest(course, email, source="renewal")) is Refusal.REFUSED:
            return
        self.post_message(Done(f"{email} is on the interest list of {course}"))

    def action_days(self) -> None:
        """Change the window of the expiring and due reports."""
        form = FormModal(
            "Completions expiring within how many days?",
            [("days", "Days", str(self.days))],
            required=("days",),
        )
        self.app.push_screen(form, self._days_answered)

    def _days_answered(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        from store.validate import positive_int

        try:
            self.days = positive_int(values["days"], "days", allow_zero=True)
        except RollcallError as exc:
            self.notify(str(exc), title="Refused", severity="error")
            return
        if self.report not in DAY_REPORTS:
            self.report = "expiring"
            options = self.query_one(OptionList)
            options.highlighted = options.get_option_index("expiring")
        self.load()

    def action_export(self) -> None:
        """Ask for a file name and write every row of the report as CSV."""
        default = str(Path.cwd() / f"rollcall-{self.report}.csv")
        form = FormModal("Export as CSV", [("path", "File", default)], required=("path",))

        def answered(values: dict[str, str] | None) -> None:
            if values is not None:
                self.export(values["path"], self.loaded or self.report, self.days, self.rows)

        self.app.push_screen(form, answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="report-export")
    def export(self, path: str, name: str, days: int, shown: list[dict[str, Any]]) -> None:
        """Write the CSV in a thread; the capped lists are computed again in full."""
        from store.private_files import write_private_text
        from store.reports import run_report, to_csv

        rows = list(shown)
        if name in DAY_REPORTS:
            with db_thread():
                rows = run_report(name, days=days)
        target = Path(path).expanduser()
        try:
            write_private_text(target, to_csv(rows))
        except OSError as exc:
            self.post_message(RuleRefused(f"cannot write {target}: {exc}", "file"))
            return
        self.post_message(self.Exported(str(target), len(rows)))

    @on(Exported)
    def _exported(self, event: Exported) -> None:
        self.notify(f"Wrote {event.count} rows to {event.path}")
