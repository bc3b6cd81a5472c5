"""The Email form of the session page: recipients, subject, message, calendar invitation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, SelectionList, TextArea

from screens.base import Refusal, run_rule
from screens.form import RollcallForm
from screens.keymap import KEYMAP
from screens.plain import assemble, plain
from screens.widgets.buttons import dialog_buttons
from screens.widgets.ticks import TickBox, TickList
from store.outbox import InviteResult
from store.read_models import AttendeeRow

FIELDS = {"to": "to", "subject": "subject", "message": "message"}
"""The rule's `RollcallError.field` -> the form field whose error line shows it."""


class EmailForm(RollcallForm[InviteResult | None]):
    """Write to a session's people; dismisses with what `invite` queued, or None."""

    BINDING_GROUP_TITLE = "Email"
    BINDINGS = KEYMAP["email-form"]
    DEFAULT_CSS = """
    EmailForm .dialog { width: 80; }
    EmailForm SelectionList { height: auto; max-height: 10; }
    EmailForm TextArea { height: 5; }
    """

    @dataclass
    class Refused(Message):
        """The rule refused; show its message next to its field."""

        message: str
        field: str | None

    @dataclass
    class Queued(Message):
        """The mail is in the outbox."""

        result: InviteResult

    def __init__(
        self, session_id: int, title: str, enrolled: Sequence[AttendeeRow],
        waitlisted: Sequence[AttendeeRow],
    ) -> None:  # fmt: skip
        super().__init__()
        self.session_id = session_id
        self.session_title = title
        self.enrolled = list(enrolled)
        self.waitlisted = list(waitlisted)
        self.showing_waitlist = False

    def compose(self) -> ComposeResult:
        """Recipients, subject, message, the calendar checkbox, buttons."""
        with VerticalScroll(classes="dialog"):
            yield Label(assemble("Email: ", (self.session_title, "")), classes="dialog-title")
            yield Label("To (space toggles)", classes="field-label")
            yield TickList[str](
                *[(_label(r), r.email, True) for r in self.enrolled], id="recipients"
            )
            yield Label("", id="error-to", classes="field-error")
            yield TickBox("Show waitlisted (ctrl+t)", False, id="show-waitlisted")
            yield Label("Subject (optional)", classes="field-label")
            yield Input(placeholder="Subject", id="subject")
            yield Label("", id="error-subject", classes="field-error")
            yield Label("Message", classes="field-label")
            yield TextArea(id="message")
            yield Label("", id="error-message", classes="field-error")
            yield TickBox("Confirm calendar invitation", True, id="with-calendar")
            yield Label("", id="error-general", classes="field-error")
            yield dialog_buttons("Send (ctrl+s)", "send")

    def on_mount(self) -> None:
        """Start on the recipients."""
        self.query_one("#recipients", SelectionList).focus()

    def action_toggle_waitlist(self) -> None:
        """Show or hide the waitlisted people as possible recipients."""
        box = self.query_one("#show-waitlisted", Checkbox)
        box.value = not box.value

    @on(Checkbox.Changed, "#show-waitlisted")
    def _waitlist(self, event: Checkbox.Changed) -> None:
        recipients: SelectionList[str] = self.query_one("#recipients", SelectionList)
        if event.value and not self.showing_waitlist:
            recipients.add_options([(_label(r), r.email, False) for r in self.waitlisted])
        elif not event.value and self.showing_waitlist:
            for row in self.waitlisted:
                recipients.remove_option(row.email)
        self.showing_waitlist = event.value

    @on(Button.Pressed)
    async def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            await self.action_send()
        else:
            self.action_abandon()

    async def action_send(self) -> None:
        """Queue the mail in a worker; errors come back next to their field."""
        await self.keys_settled()
        self.clear_errors()
        recipients: SelectionList[str] = self.query_one("#recipients", SelectionList)
        emails = list(recipients.selected)
        subject = self.query_one("#subject", Input).value.strip()
        message = self.query_one("#message", TextArea).text
        with_calendar = self.query_one("#with-calendar", Checkbox).value
        self.query_one("#send", Button).disabled = True
        self._queue(emails, subject or None, message, with_calendar)

    @work(thread=True, exclusive=True, exit_on_error=False, group="email-send")
    def _queue(
        self, emails: list[str], subject: str | None, message: str, with_calendar: bool
    ) -> None:
        from store.outbox import invite

        result = run_rule(
            self,
            lambda: invite(self.session_id, emails, message, with_calendar, subject=subject),
            self.Refused,
        )
        if result is Refusal.REFUSED:
            return
        self.post_message(self.Queued(result))

    @on(Refused)
    def _refused(self, event: Refused) -> None:
        self.query_one("#send", Button).disabled = False
        self.show_error(event.message, event.field)

    @on(Queued)
    def _queued(self, event: Queued) -> None:
        self.dismiss(event.result)

    def show_error(self, message: str, field: str | None) -> None:
        """Show `message` on the line under `field` (or at the bottom)."""
        name = FIELDS.get(field or "", "general")
        self.show_field_error(name, message, focus=name != "to")


def _label(row: AttendeeRow) -> Text:
    extra = f" (waitlist #{row.waitlist_position})" if row.status == "waitlisted" else ""
    return plain(f"{row.name} <{row.email}>{extra}")
