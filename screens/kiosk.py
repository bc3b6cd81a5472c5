"""The kiosk: attendees sign themselves in at the door; nothing else is reachable."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import Worker

from screens.base import db_thread, report_worker_failure
from screens.keymap import KEYMAP
from store.clock import utcnow
from store.errors import RollcallError
from store.kiosk import CheckIn, KioskWindow

SHOW_SECONDS = 4.0
"""How long a confirmation or refusal stays up before the screen clears for the next person."""
ANSWER_SECONDS = 20.0
"""How long a join offer or the exit PIN prompt waits for an answer."""
PROMPT = "Type your email or staff number (or scan your badge) and press Enter"


@dataclass(frozen=True)
class KioskInfo:
    """What the kiosk shows about its session."""

    title: str
    when: str
    place: str
    window: KioskWindow


class KioskScreen(Screen[None]):
    """Self check-in for one session; leaving it needs ``ctrl+x`` and the exit PIN."""

    BINDINGS = KEYMAP["kiosk"]

    @dataclass
    class Info(Message):
        """The session's facts, read once."""

        info: KioskInfo | None
        error: str | None

    @dataclass
    class Answered(Message):
        """The result of one check-in (or why it was refused)."""

        result: CheckIn | None
        error: str | None

    def __init__(self, session_id: int, exit_pin: str) -> None:
        super().__init__()
        self.session_id = session_id
        self._exit_pin = exit_pin
        self.info: KioskInfo | None = None
        self.mode = "check_in"
        """``check_in``, ``join`` (offer to the last person typed) or ``pin`` (exit prompt)."""
        self._pending = ""
        self._clear_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        """The session, the prompt, the box, the answer."""
        with Vertical(id="kiosk"):
            yield Static("", id="kiosk-session")
            yield Static(PROMPT, id="kiosk-prompt")
            with Center():
                yield Input(placeholder="email or staff number", id="kiosk-input")
            yield Static("", id="kiosk-result")
            yield Static("", id="kiosk-window")

    def on_mount(self) -> None:
        """Read the session; keep the window line current."""
        self.query_one(Input).focus()
        self.load()
        self.set_interval(30, self._show_window)

    @work(thread=True, exclusive=True, exit_on_error=False, group="kiosk-load")
    def load(self) -> None:
        """Read the session's title, time, place and check-in window."""
        from store.kiosk import kiosk_window, open_kiosk_session
        from store.session_input import describe_when

        try:
            with db_thread():
                session = open_kiosk_session(self.session_id)
                if session.type == "in_person":
                    place = session.location or ""
                else:
                    place = "online"
                info = KioskInfo(
                    session.title,
                    describe_when(session.start, session.end),
                    place,
                    kiosk_window(session),
                )
        except RollcallError as exc:
            self.post_message(self.Info(None, exc.message))
            return
        self.post_message(self.Info(info, None))

    @on(Info)
    def _info(self, event: Info) -> None:
        if event.info is None:
            self.query_one("#kiosk-session", Static).update(Text(event.error or "", style="bold"))
            return
        self.info = event.info
        text = Text(event.info.title, style="bold")
        text.append(f"\n{event.info.when}")
        if event.info.place:
            text.append(f" · {event.info.place}")
        self.query_one("#kiosk-session", Static).update(text)
        self._show_window()

    def _show_window(self) -> None:
        if self.info is None:
            return
        zone = self.app.settings.zone  # type: ignore[attr-defined]
        window = self.info.window
        state = window.state(utcnow())
        line = self.query_one("#kiosk-window", Static)
        if state == "early":
            opens = window.opens.astimezone(zone)
            line.update(f"Check-in opens at {opens:%H:%M} on {opens:%a} {opens.day} {opens:%b}")
        elif state == "closed":
            line.update("Check-in for this session has closed")
        else:
            line.update(f"Check-in open until {window.closes.astimezone(zone):%H:%M}")

    # Typing ------------------------------------------------------------

    @on(Input.Submitted, "#kiosk-input")
    def _submitted(self, event: Input.Submitted) -> None:
        typed = event.value.strip()
        event.input.value = ""
        if self.mode == "pin":
            self._check_pin(typed)
        elif self.mode == "join":
            identifier, self._pending = self._pending, ""
            self._reset_mode()
            if typed.lower() in ("y", "yes"):
                self.check_in(identifier, join=True)
            else:
                self._show("Not joined. Please see the trainer.", "-refused")
        elif typed:
            self.check_in(typed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="kiosk-check-in")
    def check_in(self, identifier: str, join: bool = False) -> None:
        """Mark the person attended (the store's rule decides everything)."""
        from store.kiosk import kiosk_check_in

        try:
            with db_thread():
                result = kiosk_check_in(self.session_id, identifier, join=join)
        except RollcallError as exc:
            self.post_message(self.Answered(None, exc.message))
            return
        if result.outcome == "can_join":
            self._pending = identifier
        self.post_message(self.Answered(result, None))

    @on(Answered)
    def _answered(self, event: Answered) -> None:
        result = event.result
        if result is None:
            self._show(_sentence(event.error or "refused"), "-refused")
        elif result.outcome == "can_join":
            self.mode = "join"
            self.query_one("#kiosk-prompt", Static).update(
                "Type y and press Enter to join, anything else to cancel"
            )
            self._show(
                f"{result.name}, you are not booked on this session.\n"
                "A place is free: would you like to join?",
                "-offer",
                seconds=ANSWER_SECONDS,
            )
        elif result.outcome == "already":
            self._show(f"{result.name}\nyou are already checked in", "-ok")
        else:
            joined = " (you joined the session)" if result.joined else ""
            self._show(f"Welcome, {result.name}!\nYou are checked in{joined}", "-ok")
        self._show_window()

    def _show(self, message: str, kind: str, seconds: float = SHOW_SECONDS) -> None:
        box = self.query_one("#kiosk-result", Static)
        box.remove_class("-ok", "-refused", "-offer")
        box.add_class(kind)
        box.update(Text(message, style="bold"))
        if self._clear_timer is not None:
            self._clear_timer.stop()
        self._clear_timer = self.set_timer(seconds, self._clear)

    def _clear(self) -> None:
        box = self.query_one("#kiosk-result", Static)
        box.remove_class("-ok", "-refused", "-offer")
        box.update("")
        if self.mode != "check_in":
            self._pending = ""
            self._reset_mode()

    def _reset_mode(self) -> None:
        self.mode = "check_in"
        box = self.query_one("#kiosk-input", Input)
        box.password = False
        box.placeholder = "email or staff number"
        self.query_one("#kiosk-prompt", Static).update(PROMPT)

    # Leaving -----------------------------------------------------------

    def action_exit_prompt(self) -> None:
        """Ask for the exit PIN; only the right one closes the kiosk."""
        self.mode = "pin"
        box = self.query_one("#kiosk-input", Input)
        box.value = ""
        box.password = True
        box.placeholder = "exit PIN"
        self.query_one("#kiosk-prompt", Static).update("Admin: type the exit PIN and press Enter")
        if self._clear_timer is not None:
            self._clear_timer.stop()
        self._clear_timer = self.set_timer(ANSWER_SECONDS, self._clear)

    def _check_pin(self, typed: str) -> None:
        if self._exit_pin and hmac.compare_digest(typed.encode(), self._exit_pin.encode()):
            self.app.exit()
            return
        self._reset_mode()
        self._show("Wrong PIN", "-refused")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Unexpected failures show as a notification; the kiosk stays up."""
        report_worker_failure(self.app, event)


def _sentence(message: str) -> str:
    """A rule's message as the person at the door reads it."""
    return message[:1].upper() + message[1:]
