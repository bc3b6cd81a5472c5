"""The Textual application: wiring of screens, bindings, settings and background work."""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker

from screens.base import report_worker_failure
from screens.messages import DataChanged, StatusUpdate
from store.settings import Settings, use_settings
from tui.mail_jobs import MailJobResult, MailRunner, changed_data
from tui.palette import RollcallCommands

STYLES = Path(__file__).parent / "styles"


@dataclass(frozen=True)
class Area:
    """A top-level area of the app: one mode, one screen class, one key."""

    name: str
    """Mode name, also used by ``switch_area('name')``."""
    title: str
    """Shown in the footer, the help and the command palette (``screen: Title``)."""
    load: Callable[[], type[Screen[None]]]
    """Imports and returns the screen class (built with no arguments) when first shown."""
    key: str | None = None
    """Key that switches to the area from anywhere."""


# Each loader imports its screen module when the area is first opened, so the app
# starts with only the sessions list loaded.
def _sessions() -> type[Screen[None]]:
    from screens.sessions import SessionsScreen

    return SessionsScreen


def _people() -> type[Screen[None]]:
    from screens.people import PeopleScreen

    return PeopleScreen


def _trainers() -> type[Screen[None]]:
    from screens.trainers import TrainersScreen

    return TrainersScreen


def _pathways() -> type[Screen[None]]:
    from screens.pathways import PathwaysScreen

    return PathwaysScreen


def _reports() -> type[Screen[None]]:
    from screens.reports import ReportsScreen

    return ReportsScreen


def _mail() -> type[Screen[None]]:
    from screens.mail import MailScreen

    return MailScreen


def _requests() -> type[Screen[None]]:
    from screens.requests import RequestsScreen

    return RequestsScreen


AREAS: list[Area] = [
    Area("sessions", "Sessions", _sessions, "1"),
    Area("people", "People", _people, "2"),
    Area("trainers", "Trainers", _trainers, "3"),
    Area("pathways", "Pathways", _pathways, "4"),
    Area("reports", "Reports", _reports, "5"),
    Area("mail", "Mail", _mail, "6"),
    Area("requests", "Requests", _requests, "7"),
]
"""Every area the admin can switch to, in key order."""


def _factory(area: Area) -> Callable[[], Screen[None]]:
    def build() -> Screen[None]:
        return area.load()()

    return build


class RollcallApp(App[None]):
    """rollcall's terminal app for admins (and, with `as_email`, a learner's own view)."""

    TITLE = "rollcall"
    CSS_PATH = [STYLES / "global.tcss", STYLES / "screens.tcss"]
    COMMANDS = App.COMMANDS | {RollcallCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="help"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="quit-anywhere"),
        Binding("f2", "toggle_dark", "Theme", show=False, id="theme-toggle"),
    ]

    status_text: reactive[str] = reactive("ready")
    """Last news from background work, shown by every screen's status line."""
    status_error: reactive[bool] = reactive(False)
    """True when `status_text` reports a failure."""

    def __init__(self, settings: Settings, as_email: str | None = None) -> None:
        super().__init__()
        self.settings = settings
        """The settings in force (time zone, keymap, mail)."""
        self.as_email = as_email
        """The learner whose view to open, or None for the admin app."""
        use_settings(settings)
        # A learner's app offers their own calendar only: no admin areas, keys or palette entries.
        self.areas = [] if as_email else list(AREAS)
        """The areas whose screens are installed (none in a learner's view)."""
        for area in self.areas:
            self.add_mode(area.name, _factory(area))
            if area.key:
                self.bind(
                    area.key, f"switch_area('{area.name}')", description=area.title, show=False
                )
        if settings.keymap:
            self.set_keymap(dict(settings.keymap))
        self.mail = MailRunner(self, settings)
        """The background mail jobs (started on mount when the settings say so)."""

    def on_mount(self) -> None:
        """Open the learner view or the sessions list; start the mail jobs for admins."""
        # The objects made while starting (modules, styles, widgets) live as long as
        # the app; freezing them keeps a full garbage collection, which otherwise
        # walks all of them and stalls a keystroke by 50 ms or more, down to the
        # objects made since.
        self.call_after_refresh(gc.freeze)
        if self.as_email is None:
            self.switch_mode("sessions")
            if self.mail.start():
                self.status_text = "mail: sending and polling in the background"
            return
        from screens.learner import LearnerScreen

        self.push_screen(LearnerScreen(self.as_email))

    def on_unmount(self) -> None:
        """Stop the mail jobs after the message in flight; unfreeze the startup objects."""
        # Let the collector see the startup objects again (tests open many apps).
        gc.unfreeze()
        self.mail.stop()

    def mail_run_now(self, name: str = "send") -> None:
        """Send (``send``) or poll (``poll``) now instead of at the next interval."""
        self.mail.run_now(name)

    def mail_send_now(self) -> None:
        """Mail was queued: send it now when the app sends mail."""
        if self.mail.running:
            self.mail.run_now("send")

    def palette_commands(self) -> list[tuple[str, Callable[[], object], str]]:
        """Commands of the app itself for the command palette."""
        if self.as_email is not None:
            return []
        return [
            ("mail: send now", lambda: self.mail_run_now("send"), "drain the outbox"),
            ("mail: poll now", lambda: self.mail_run_now("poll"), "read replies"),
        ]

    @on(MailJobResult)
    def _mail_result(self, event: MailJobResult) -> None:
        shown = self.mail.handle(event)
        if shown is not None:
            self.status_text, self.status_error = shown
        what = changed_data(event.name, event.result)
        if what is not None:
            self.post_message(DataChanged(what))
            # The app forwards DataChanged to the screens not shown; tell this one too.
            self.screen.post_message(DataChanged(what))

    def action_switch_area(self, name: str) -> None:
        """Go to a top-level area."""
        if name in {a.name for a in self.areas}:
            self.switch_mode(name)

    def action_help(self) -> None:
        """Show the keys of the current screen."""
        from screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        own: list[tuple[str, str]] = []
        widget: list[tuple[str, str]] = []
        for info in self.screen.active_bindings.values():
            binding = info.binding
            if not binding.description or not info.enabled:
                continue
            # The screen's own keys first; the focused widget's movement keys after.
            target = own if info.node in (self.screen, self) else widget
            target.append((self.get_key_display(binding), binding.description))
        keys = own + [(a.key or "", f"go to {a.title}") for a in self.areas if a.key] + widget
        title = getattr(self.screen, "BINDING_GROUP_TITLE", None) or self.screen.__class__.__name__
        self.push_screen(HelpScreen(title, keys))

    def action_toggle_dark(self) -> None:
        """Switch between a light and a dark theme."""
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    @on(StatusUpdate)
    def _status(self, event: StatusUpdate) -> None:
        self.status_text = event.text
        self.status_error = event.error

    @on(DataChanged)
    def _data_changed(self, event: DataChanged) -> None:
        # Screens waiting in other modes refresh when they are shown again.
        for stack in self._screen_stacks.values():
            for screen in stack:
                if screen is not self.screen:
                    screen.post_message(DataChanged(event.what))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Report failures of the app's own workers (screens report theirs)."""
        report_worker_failure(self.screen, event)


def make_app(settings: Settings, as_email: str | None = None) -> RollcallApp:
    """Build the app; the CLI and the tests share this factory."""
    return RollcallApp(settings, as_email=as_email)


def run_app(settings: Settings, as_email: str | None = None) -> None:
    """Open the app on the already opened database."""
    make_app(settings, as_email).run()
