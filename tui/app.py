"""The Textual application: wiring of screens, bindings, settings and background work."""

from __future__ import annotations

import gc
from collections.abc import Callable, Hashable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.actions import ActionParseResult
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.worker import Worker

from screens.base import ExplainsKeys, report_worker_failure
from screens.messages import DataChanged, StatusUpdate
from screens.plain import clean
from store.read_models import SessionPage, TrainerDecline
from store.settings import Settings, use_settings
from tui.mail_jobs import MailJobResult, MailRunner, changed_data
from tui.palette import RollcallCommands, own_binding

if TYPE_CHECKING:
    from store.outbox import Backlog

STYLES = Path(__file__).parent / "styles"


@dataclass(frozen=True)
class Area:
    """A top-level area of the app: one mode, one screen class, one key."""

    name: str
    """Mode name, also used by ``switch_area('name')``."""
    title: str
    """Shown in the footer, the help and the command palette (``screen: Title``)."""
    key: str | None = None
    """Key that switches to the area from anywhere."""
    roles: tuple[str, ...] = ("admin", "trainer", "manager")
    """The roles the area is shown to (what a role may change, the store decides)."""

    def load(self) -> type[Screen[None]]:
        """The area's screen class (built with no arguments), imported when first shown."""
        return _screen_class(self.name)


STAFF = ("admin", "trainer")
"""Who sees everyone's people, pathways and reports (a manager sees the sessions only)."""


def _screen_class(area: str) -> type[Screen[None]]:
    """The screen class of `area`, imported when the area is first opened.

    The imports stay here, not at the top, so the app starts with only the sessions list
    loaded; written out (not built from strings) so the import contracts see them.
    """
    screen: type[Screen[None]]
    if area == "sessions":
        from screens.sessions import SessionsScreen as screen
    elif area == "people":
        from screens.people import PeopleScreen as screen
    elif area == "trainers":
        from screens.trainers import TrainersScreen as screen
    elif area == "pathways":
        from screens.pathways import PathwaysScreen as screen
    elif area == "reports":
        from screens.reports import ReportsScreen as screen
    elif area == "mail":
        from screens.mail import MailScreen as screen
    elif area == "audit":
        from screens.audit import AuditScreen as screen
    elif area == "requests":
        from screens.requests import RequestsScreen as screen
    else:
        from screens.team import TeamScreen as screen
    return screen


AREAS: list[Area] = [
    Area("sessions", "Sessions", "1"),
    Area("people", "People", "2", STAFF),
    Area("trainers", "Trainers", "3", STAFF),
    Area("pathways", "Pathways", "4", STAFF),
    Area("reports", "Reports", "5", STAFF),
    Area("mail", "Mail", "6", ("admin",)),
    Area("audit", "Audit", "7", ("admin",)),
    Area("requests", "Requests", "8", ("admin", "manager")),
    Area("team", "Team", "9", ("manager",)),
]
"""Every area the admin can switch to, in key order."""


DECLINE_CHECK_SECONDS = 20.0
"""How often the app looks for trainers' declines (they may arrive through the worker)."""


@dataclass
class OutboxBacklog(Message):
    """The outbox as read now: what no server accepted yet."""

    backlog: Backlog


@dataclass
class TrainerDeclines(Message):
    """Upcoming sessions whose trainer declined, as read now."""

    declines: list[TrainerDecline]


def _factory(app: App[None], area: Area) -> Callable[[], Screen[None]]:
    def build() -> Screen[None]:
        screen = area.load()()
        # The new screen is styled from the current stylesheet when it mounts, like a pushed
        # one. Textual takes a mode's new screen for one that missed a stylesheet change and
        # re-parses every stylesheet twice while switching to it (tens of milliseconds).
        screen._css_update_count = app._css_update_count
        return screen

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

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A toast whose text is always shown literally (`markup` is ignored).

        Messages quote names, titles and replies; screens' and widgets' own
        ``notify`` arrive here with ``markup=True`` by default.
        """
        del markup
        super().notify(
            clean(message),
            title=clean(title, one_line=True),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    status_text: reactive[str] = reactive("ready")
    """Last news from background work, shown by every screen's status line."""
    status_error: reactive[bool] = reactive(False)
    """True when `status_text` reports a failure."""
    mail_notice: reactive[str] = reactive("")
    """Why mail is not going out or replies not read, shown until it no longer holds."""

    def __init__(
        self,
        settings: Settings,
        as_email: str | None = None,
        *,
        restricted: bool = False,
        first_window: Future[tuple[SessionPage, int, int]] | None = None,
        cache_styles: bool = False,
    ) -> None:
        super().__init__()
        self.first_window = first_window
        """The home list's first rows, being read since before Textual loaded (taken once)."""
        from store.access import current_actor

        self.restricted = restricted or as_email is not None
        """A learner's view or an SSH key's forced command: no screenshots written to disk."""
        self._styles_loaded: set[Hashable] | None = None
        if cache_styles and not self.restricted:
            from tui import style_cache

            self._styles_loaded = style_cache.load(self.stylesheet)
        self.role = current_actor().role
        """The role of whoever runs the app: what the store lets them change."""
        self.settings = settings
        """The settings in force (time zone, keymap, mail)."""
        self.as_email = as_email
        """The learner whose view to open, or None for the admin app."""
        use_settings(settings)
        # A learner's app offers their own calendar only: no admin areas, keys or palette entries.
        self.areas = [] if as_email else [a for a in AREAS if self.role in a.roles]
        """The areas whose screens are installed (none in a learner's view)."""
        for area in self.areas:
            self.add_mode(area.name, _factory(self, area))
            if area.key:
                self.bind(
                    area.key, f"switch_area('{area.name}')", description=area.title, show=False
                )
        if settings.keymap:
            self.set_keymap(dict(settings.keymap))
        self.mail = MailRunner(self, settings)
        """The background mail jobs (started on mount when the settings say so)."""
        self.declines_seen: set[int] = set()
        """Sessions whose trainer's decline the status line already announced."""
        from mail.health import configured

        self.mail_health = configured(settings)
        """What stops mail now (settings, the last send and poll); see `mail_notice`."""
        self.backlog: Backlog | None = None
        """The outbox as last read: mail not accepted by a server yet."""

    def on_mount(self) -> None:
        """Open the learner view or the sessions list; start the mail jobs for admins."""
        # The objects made while starting (modules, styles, widgets) live as long as
        # the app; freezing them keeps a full garbage collection, which otherwise
        # walks all of them and stalls a keystroke by 50 ms or more, down to the
        # objects made since. The collector is switched on again then (`tui.launch`
        # starts the app with it off: nearly all it allocates while starting stays).
        self.call_after_refresh(self._after_first_frame)
        if self.as_email is None:
            self._show_mail_notice()
            self.switch_mode("sessions")
            # Only an admin's app sends and polls (others may not touch the outbox).
            if self.role == "admin" and self.mail.start():
                self.status_text = "mail: sending and polling in the background"
            # Whoever reads the replies (this app or the worker), a trainer's decline shows here.
            # Read once the first frame is drawn: its thread would contend with the drawing.
            self.call_after_refresh(self.check_trainer_declines)
            self.set_interval(DECLINE_CHECK_SECONDS, self.check_trainer_declines)
            return
        from screens.learner import LearnerScreen

        self.push_screen(LearnerScreen(self.as_email))

    def _after_first_frame(self) -> None:
        gc.freeze()
        gc.enable()
        if self._styles_loaded is not None:
            from tui import style_cache

            style_cache.save(self.stylesheet, self._styles_loaded)
            self._styles_loaded = None

    def on_unmount(self) -> None:
        """Stop the mail jobs after the message in flight; unfreeze the startup objects."""
        # Let the collector see the startup objects again (tests open many apps).
        gc.unfreeze()
        self.mail.stop()

    def mail_run_now(self, name: str = "send") -> None:
        """Send (``send``) or poll (``poll``) now instead of at the next interval."""
        self.mail.run_now(name)

    def mail_send_now(self) -> None:
        """Mail was queued: send it now when the app sends mail (and count what waits)."""
        if self.mail.running:
            self.mail.run_now("send")
        else:
            self.check_trainer_declines()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own commands, without the screenshot (a file) where the app is restricted."""
        for command in super().get_system_commands(screen):
            if not (self.restricted and command.title == "Screenshot"):
                yield command

    def deliver_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        """Save a screenshot, except in a restricted app (it would write a file on the server)."""
        if self.restricted:
            self.notify("Screenshots are not available here", severity="warning")
            return None
        return super().deliver_screenshot(filename, path, time_format)

    def palette_commands(self) -> list[tuple[str, Callable[[], object], str]]:
        """Commands of the app itself for the command palette."""
        if self.as_email is not None or self.role != "admin":
            return []
        return [
            ("mail: send now", lambda: self.mail_run_now("send"), "drain the outbox"),
            ("mail: poll now", lambda: self.mail_run_now("poll"), "read replies"),
        ]

    @on(MailJobResult)
    def _mail_result(self, event: MailJobResult) -> None:
        self._follow_health(event)
        shown = self.mail.handle(event)
        if shown is not None:
            self.status_text, self.status_error = shown
        what = changed_data(event.name, event.result)
        if what is not None:
            self.post_message(DataChanged(what))
            # The app forwards DataChanged to the screens not shown; tell this one too.
            self.screen.post_message(DataChanged(what))

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Run an action; a switched-off one says why instead of doing nothing."""
        target, name, params = self._parse_action(
            action, self if default_namespace is None else default_namespace, namespaces
        )
        if not target.check_action(name, params) and isinstance(target, ExplainsKeys):
            reason = target.why_not(name)
            if reason is not None:
                self.notify(reason, title="Not available", severity="warning", timeout=6)
                return True
        return await super().run_action(action, default_namespace, namespaces)

    def _follow_health(self, event: MailJobResult) -> None:
        from mail.health import after_poll, after_send
        from store.errors import ServiceUnavailable

        error = event.error
        problem = error.detail if isinstance(error, ServiceUnavailable) else None
        if event.name == "send" and (problem or event.result is not None):
            unreachable = problem or getattr(event.result, "unreachable", None)
            self.mail_health = after_send(self.mail_health, self.settings, unreachable)
        elif event.name == "poll" and (problem or event.result is not None):
            self.mail_health = after_poll(self.mail_health, self.settings, problem)
        self._show_mail_notice()
        if event.name == "send":
            self.check_trainer_declines()

    def _show_mail_notice(self) -> None:
        from mail.health import backlog_text

        health = self.mail_health
        waiting = backlog_text(self.backlog, self.settings.zone) if self.backlog else ""
        sending = health.sending
        if waiting and (sending or (self.backlog and self.backlog.last_error)):
            sending = f"{sending}; {waiting}" if sending else waiting
        self.mail_notice = " · ".join(p for p in (sending, health.reading) if p)

    async def action_switch_area(self, name: str) -> None:
        """Go to a top-level area, on its main list (a page opened from it is closed)."""
        if name not in {a.name for a in self.areas}:
            return
        await self.switch_mode(name)
        # A dialog stays (it may hold typing); pages opened from the list close.
        while len(self.screen_stack) > 1 and not isinstance(self.screen, ModalScreen):
            await self.pop_screen()

    def action_help(self) -> None:
        """Show the keys of the current screen."""
        from screens.help import HelpScreen

        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        # The screen's own keys, each once (several keys may share an action), greyed-out
        # ones with the reason; the app's keys after; never the widgets' built-in keys.
        keys: dict[tuple[str, str], list[str]] = {}
        dimmed: dict[tuple[str, str], str] = {}
        for node in (screen, self):
            for info in screen.active_bindings.values():
                binding = info.binding
                if info.node is not node or not own_binding(binding):
                    continue
                entry = (binding.action, binding.description)
                shown = keys.setdefault(entry, [])
                if self.get_key_display(binding) not in shown:
                    shown.append(self.get_key_display(binding))
                if not info.enabled and isinstance(node, ExplainsKeys):
                    _, name, _ = self._parse_action(binding.action, node)
                    dimmed[entry] = node.why_not(name) or "not available here"
        rows = [(", ".join(shown), description) for (_, description), shown in keys.items()]
        notes = {(", ".join(keys[entry]), entry[1]): reason for entry, reason in dimmed.items()}
        rows += [(a.key or "", f"go to {a.title}") for a in self.areas if a.key]
        title = getattr(screen, "BINDING_GROUP_TITLE", None) or screen.__class__.__name__
        self.push_screen(HelpScreen(title, rows, notes))

    def action_toggle_dark(self) -> None:
        """Switch between a light and a dark theme."""
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def check_trainer_declines(self) -> None:
        """Look for upcoming sessions whose trainer declined, and at the outbox (in a worker)."""
        self.run_worker(
            self._read_trainer_declines,
            thread=True,
            group="trainer-declines",
            exclusive=True,
            exit_on_error=False,
            name="trainer declines",
        )

    def _read_trainer_declines(self) -> None:
        from screens.base import db_thread
        from store.outbox import backlog
        from store.read_models import trainer_declines

        with db_thread():
            found = trainer_declines()
            waiting = backlog()
        self.post_message(TrainerDeclines(found))
        self.post_message(OutboxBacklog(waiting))

    @on(OutboxBacklog)
    def _outbox_backlog(self, event: OutboxBacklog) -> None:
        self.backlog = event.backlog
        self._show_mail_notice()

    @on(TrainerDeclines)
    def _trainer_declines(self, event: TrainerDeclines) -> None:
        ids = {d.session_id for d in event.declines}
        new = [d for d in event.declines if d.session_id not in self.declines_seen]
        self.declines_seen = ids
        if not new:
            return
        zone = self.settings.zone
        first = new[0]
        start = first.start.astimezone(zone)
        more = f" (+{len(new) - 1} more)" if len(new) > 1 else ""
        self.status_text = (
            f"Trainer declined: {first.trainer} for {first.title} #{first.session_id} "
            f"{start:%a} {start.day} {start:%b %H:%M}{more}; open it, t assigns another"
        )
        self.status_error = True

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
        report_worker_failure(self, event)


class KioskApp(App[None], inherit_bindings=False):
    """The kiosk mode: one session's check-in screen and nothing else.

    No inherited keys (ctrl+q, ctrl+c), no command palette, no areas, no help,
    no text selection; the screen's ``ctrl+x`` and the exit PIN end it.
    """

    TITLE = "rollcall kiosk"
    CSS_PATH = [STYLES / "global.tcss", STYLES / "screens.tcss"]
    ENABLE_COMMAND_PALETTE = False
    ALLOW_SELECT = False
    BINDINGS = []

    def __init__(self, settings: Settings, session_id: int) -> None:
        super().__init__()
        self.settings = settings
        """The settings in force (time zone, kiosk window and exit PIN)."""
        self.session_id = session_id
        use_settings(settings)

    def on_mount(self) -> None:
        """Show the check-in screen."""
        from screens.kiosk import KioskScreen

        self.push_screen(KioskScreen(self.session_id, self.settings.kiosk_exit_pin))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Refuse every app action a key or a click could reach (quit, palette, screenshot)."""
        return False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Report failures of the app's own workers on the kiosk screen."""
        report_worker_failure(self, event)


def make_app(
    settings: Settings,
    as_email: str | None = None,
    *,
    restricted: bool = False,
    first_window: Future[tuple[SessionPage, int, int]] | None = None,
    cache_styles: bool = False,
) -> RollcallApp:
    """Build the app; the CLI and the tests share this factory.

    With `cache_styles` (the program, not the tests) the parsed stylesheets are kept
    between starts (`tui.style_cache`), except in a restricted app.
    """
    return RollcallApp(
        settings,
        as_email=as_email,
        restricted=restricted,
        first_window=first_window,
        cache_styles=cache_styles,
    )


def run_app(
    settings: Settings,
    as_email: str | None = None,
    *,
    restricted: bool = False,
    kiosk_session: int | None = None,
    first_window: Future[tuple[SessionPage, int, int]] | None = None,
) -> None:
    """Open the app on the already opened database (the kiosk mode with `kiosk_session`).

    `first_window` is the home list's first rows, already being read (`tui.launch`).
    """
    if kiosk_session is not None:
        KioskApp(settings, kiosk_session).run()
        return
    make_app(
        settings, as_email, restricted=restricted, first_window=first_window, cache_styles=True
    ).run()
