"""The session form (add and edit): every field, errors shown next to the field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Select,
    TextArea,
)

from screens.base import db_thread
from screens.form import FieldCheck, RollcallForm
from screens.keymap import KEYMAP
from screens.widgets.buttons import dialog_buttons
from screens.widgets.pickers import FieldInput, MaterialsEditor, VisibilityPicker
from screens.widgets.ticks import TickBox, TickRadio
from store import validate
from store.clock import utcnow
from store.errors import PlaceClash, RollcallError, ValidationError
from store.read_models import TrainerChoice, known_values, trainer_choices
from store.recurrence import Repeat
from store.session_input import MaterialInput, SessionInput

FIELD_OF_ERROR = {
    "title": "title",
    "course": "course",
    "description": "description",
    "date": "date",
    "start": "start",
    "duration": "duration",
    "location": "location",
    "online_url": "online_url",
    "trainer": "trainer",
    "max": "max",
    "expiry_months": "expiry_months",
    "material": "materials",
    "for_role": "roles",
    "for_department": "departments",
    "for_location": "locations",
    "repeat": "repeat",
    "count": "count",
    "until": "until",
    "notes": "notes",
}
"""The rules' `RollcallError.field` -> the form field whose error line shows the message."""


def _optional(check: FieldCheck) -> FieldCheck:
    """`check`, except that a blank field is fine."""
    return lambda text: check(text) if text.strip() else None


def _duration(text: str) -> object:
    from store.session_input import MAX_DURATION

    minutes = validate.positive_int(text, "duration")
    if minutes > MAX_DURATION:
        raise ValidationError(f"duration must be at most {MAX_DURATION} minutes", "duration")
    return minutes


FIELD_CHECKS: dict[str, FieldCheck] = {
    "title": lambda text: validate.required_text(text, "title"),
    "date": lambda text: validate.parse_date(text, "date"),
    "start": lambda text: validate.parse_time(text, "start"),
    "duration": _duration,
    "online_url": _optional(lambda text: validate.url(text, "online_url")),
    "max": _optional(lambda text: validate.positive_int(text, "max")),
    "expiry_months": _optional(lambda text: validate.positive_int(text, "expiry_months")),
    "count": _optional(lambda text: validate.positive_int(text, "count")),
    "until": _optional(lambda text: validate.parse_date(text, "until")),
}
"""The same checks the rules make on one field, run as it is typed and left."""


_LOCKS = {"unlimited": "#max", "generate_link": "#online_url"}
"""Each tick box and the field it empties and locks while ticked."""


class SessionForm(RollcallForm[int | None]):
    """Add a session (with recurrence) or edit one; dismisses with the session id."""

    BINDING_GROUP_TITLE = "Session form"
    FIELD_CHECKS = FIELD_CHECKS
    BINDINGS = KEYMAP["session-form"]

    @dataclass
    class Prepared(Message):
        """Trainers, known visibility values and (for edit) the current values."""

        trainers: list[TrainerChoice]
        values: dict[str, list[str]]
        current: SessionInput | None

    @dataclass
    class Saved(Message):
        """The rule accepted the form."""

        session_id: int
        text: str

    @dataclass
    class Rejected(Message):
        """The rule refused: its message and field."""

        message: str
        field: str | None

    @dataclass
    class PlaceTaken(Message):
        """Another session overlaps in the same place: save only if the admin says so."""

        message: str

    def __init__(self, session_id: int | None = None, *, focus_field: str | None = None) -> None:
        super().__init__()
        self.session_id = session_id
        self.saving = False
        self.focus_field = focus_field
        """The field to put the cursor in once the form is filled (``trainer`` to replace one)."""
        self.allow_clash = False
        """Set once the admin chose to share the place with an overlapping session."""

    # Layout -------------------------------------------------------------

    def _field(
        self, label: str, widget: Widget, name: str, *, warning: bool = False
    ) -> ComposeResult:
        with Vertical(classes="form-field", id=f"field-{name}"):
            yield Label(label, classes="field-label")
            yield widget
            yield Label("", id=f"error-{name}", classes="field-error")
            if warning:
                yield Label("", id=f"warning-{name}", classes="field-warning")

    def compose(self) -> ComposeResult:
        """Every field of a session in one scrolling column."""
        tomorrow = (utcnow() + timedelta(days=1)).astimezone(self.app.settings.zone).date()  # type: ignore[attr-defined]
        title = "New session" if self.session_id is None else f"Edit session {self.session_id}"
        with Vertical(id="form-box"):
            yield Label(title, id="form-title")
            with VerticalScroll(id="form-body", can_focus=False):
                yield from self._field("Title", FieldInput(id="title"), "title")
                yield from self._field(
                    "Course (blank: same as title)", FieldInput(id="course"), "course"
                )
                yield from self._field("Description", FieldInput(id="description"), "description")
                with Horizontal(classes="form-row"):
                    yield from self._field(
                        "Date (YYYY-MM-DD)",
                        FieldInput(tomorrow.isoformat(), id="date"),
                        "date",
                        warning=True,
                    )
                    yield from self._field(
                        "Start (HH:MM)", FieldInput("09:30", id="start"), "start"
                    )
                    yield from self._field(
                        "Minutes", FieldInput("60", id="duration", type="integer"), "duration"
                    )
                with RadioSet(id="kind"):
                    yield TickRadio("In person", value=True, id="kind-in-person")
                    yield TickRadio("Online", id="kind-online")
                yield from self._field("Location", FieldInput(id="location"), "location")
                with Vertical(id="online-box"):
                    yield from self._field(
                        "Meeting URL",
                        FieldInput(placeholder="https://…", id="online_url"),
                        "online_url",
                    )
                    yield TickBox("Generate meeting link", id="generate_link")
                yield from self._field(
                    "Trainer",
                    Select[str]([], prompt="No trainer", id="trainer", compact=True),
                    "trainer",
                )
                with Horizontal(classes="form-row"):
                    yield from self._field(
                        "Max attendees", FieldInput(id="max", type="integer"), "max"
                    )
                    yield TickBox("Unlimited", id="unlimited")
                with Vertical(id="visibility"):
                    yield Label("Who can see it (All = everyone)", classes="field-label")
                    with Horizontal(classes="form-row"):
                        yield VisibilityPicker("Job roles", [], id="roles")
                        yield VisibilityPicker("Departments", [], id="departments")
                        yield VisibilityPicker("Locations", [], id="locations")
                    for name in ("roles", "departments", "locations"):
                        yield Label("", id=f"error-{name}", classes="field-error")
                yield Label("Pre-read materials", classes="field-label")
                yield MaterialsEditor(id="materials")
                yield Label("", id="error-materials", classes="field-error")
                yield from self._field(
                    "Attendance expires after (months, blank: never)",
                    FieldInput(id="expiry_months", type="integer"),
                    "expiry_months",
                )
                yield from self._field("Notes", TextArea(id="notes"), "notes")
                if self.session_id is None:
                    with Vertical(id="recurrence"):
                        with Horizontal(classes="form-row"):
                            yield from self._field(
                                "Repeat",
                                Select(
                                    [
                                        ("Daily", "daily"),
                                        ("Weekly", "weekly"),
                                        ("Monthly", "monthly"),
                                    ],
                                    prompt="Does not repeat",
                                    id="repeat",
                                    compact=True,
                                ),
                                "repeat",
                            )
                            yield from self._field(
                                "Times", FieldInput(id="count", type="integer"), "count"
                            )
                            yield from self._field(
                                "or until (YYYY-MM-DD)", FieldInput(id="until"), "until"
                            )
                yield Label("", id="error-general", classes="field-error")
            yield dialog_buttons("Save (ctrl+s)", "save")
        yield Footer()

    def on_mount(self) -> None:
        """Read trainers and pick lists (and the session when editing)."""
        self._set_kind(online=False)
        self.prepare()
        self.query_one("#title", Input).focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="form-prepare")
    def prepare(self) -> None:
        """Read what the pickers offer, and the current values when editing."""
        from store.session_input import session_input_of
        from store.sessions import get_session

        with db_thread():
            trainers = trainer_choices()
            values = {d: known_values(d) for d in ("role", "department", "location")}
            current = None
            if self.session_id is not None:
                current = session_input_of(get_session(self.session_id))
        self.post_message(self.Prepared(trainers, values, current))

    @on(Prepared)
    def _prepared(self, event: Prepared) -> None:
        select = self.query_one("#trainer", Select)
        select.set_options([(f"{t.name} <{t.email}>", t.email) for t in event.trainers])
        for name, dim in (
            ("roles", "role"),
            ("departments", "department"),
            ("locations", "location"),
        ):
            picker = self.query_one(f"#{name}", VisibilityPicker)
            picker.options = []
            picker.set_values([])
            from textual.widgets import SelectionList

            picks = picker.query_one(SelectionList)
            picks.clear_options()
            picks.add_options([(v, v) for v in event.values[dim]])
            picker.options = list(event.values[dim])
        if event.current is not None:
            self._fill(event.current, event.trainers)
            self.call_after_refresh(self.mark_clean)
        if self.focus_field:
            self.query_one(f"#{self.focus_field}").focus()

    def _fill(self, data: SessionInput, trainers: list[TrainerChoice]) -> None:
        def put(name: str, value: object) -> None:
            self.query_one(f"#{name}", Input).value = "" if value is None else str(value)

        put("title", data.title)
        put("course", data.course if data.course != data.title else "")
        put("description", data.description)
        put("date", data.date)
        start = data.start
        put("start", start.strftime("%H:%M") if hasattr(start, "strftime") else start)
        put("duration", data.duration_minutes)
        put("location", data.location)
        put("online_url", data.online_url)
        online = bool(data.online_url) and not data.location
        self.query_one("#kind-online", RadioButton).value = online
        self.query_one("#kind-in-person", RadioButton).value = not online
        self._set_kind(online)
        if data.trainer:
            if not any(t.email == data.trainer for t in trainers):
                select = self.query_one("#trainer", Select)
                select.set_options(
                    [(f"{t.name} <{t.email}>", t.email) for t in trainers]
                    + [(data.trainer, data.trainer)]
                )
            self.query_one("#trainer", Select).value = data.trainer
        unlimited = data.max_attendees in (None, "")
        put("max", data.max_attendees)
        self.query_one("#unlimited", Checkbox).value = unlimited
        self.query_one("#roles", VisibilityPicker).set_values(list(data.roles))
        self.query_one("#departments", VisibilityPicker).set_values(list(data.departments))
        self.query_one("#locations", VisibilityPicker).set_values(list(data.locations))
        self.query_one(MaterialsEditor).set_values([(m.name, m.url) for m in data.materials])
        put("expiry_months", data.expiry_months)
        self.query_one("#notes", TextArea).text = data.notes

    # Behaviour ------------------------------------------------------------

    def _set_kind(self, online: bool) -> None:
        self.query_one("#field-location").display = not online
        self.query_one("#online-box").display = online

    @on(Input.Changed, "#date")
    def _date_changed(self, event: Input.Changed) -> None:
        """Warn (without refusing) when the date is before today: maybe a typo."""
        warning = self.query_one("#warning-date", Label)
        try:
            day = validate.parse_date(event.value, "date")
        except RollcallError:
            day = None
        today = utcnow().astimezone(self.app.settings.zone).date()  # type: ignore[attr-defined]
        past = day is not None and day < today
        warning.update("date is in the past; saving is allowed" if past else "")
        warning.set_class(past, "-shown")

    @on(RadioSet.Changed, "#kind")
    def _kind_changed(self, event: RadioSet.Changed) -> None:
        self._set_kind(event.pressed.id == "kind-online")

    @on(Checkbox.Changed, "#unlimited, #generate_link")
    def _switched_off(self, event: Checkbox.Changed) -> None:
        """ "No limit" empties and locks the maximum; "generate a link" the address."""
        field = self.query_one(_LOCKS[event.checkbox.id or ""], Input)
        field.disabled = event.value
        if event.value:
            field.value = ""

    def collect(self) -> tuple[SessionInput, dict[str, str]]:
        """What the form holds, as a `SessionInput`, plus the raw recurrence fields."""

        def text(name: str) -> str:
            return self.query_one(f"#{name}", Input).value

        online = self.query_one("#kind-online", RadioButton).value
        trainer = self.query_one("#trainer", Select).value
        data = SessionInput(
            title=text("title"),
            course=text("course") or None,
            description=text("description"),
            date=text("date"),
            start=text("start"),
            duration_minutes=text("duration"),
            location=None if online else text("location"),
            online_url=text("online_url") if online else None,
            generate_link=online and self.query_one("#generate_link", Checkbox).value,
            trainer=trainer if isinstance(trainer, str) else None,
            max_attendees=None if self.query_one("#unlimited", Checkbox).value else text("max"),
            roles=self.query_one("#roles", VisibilityPicker).values,
            departments=self.query_one("#departments", VisibilityPicker).values,
            locations=self.query_one("#locations", VisibilityPicker).values,
            materials=[MaterialInput(n, u) for n, u in self.query_one(MaterialsEditor).values],
            expiry_months=text("expiry_months") or None,
            notes=self.query_one("#notes", TextArea).text,
        )
        repeat: dict[str, str] = {}
        if self.session_id is None:
            choice = self.query_one("#repeat", Select).value
            repeat = {
                "frequency": choice if isinstance(choice, str) else "",
                "count": text("count"),
                "until": text("until"),
            }
        return data, repeat

    async def action_save(self) -> None:
        """Hand the form to the rule in a worker, once every key typed before is in."""
        if self.saving:
            return
        await self.keys_settled()
        if self.saving:
            return
        self.clear_errors()
        data, repeat = self.collect()
        self.saving = True
        self.query_one("#save", Button).disabled = True
        self.save(data, repeat)

    @work(thread=True, exclusive=True, exit_on_error=False, group="form-save")
    def save(self, data: SessionInput, repeat: dict[str, str]) -> None:
        """Create or edit through the rules; post `Saved` or `Rejected`."""
        from store.sessions import create_sessions, edit_session

        try:
            with db_thread():
                if self.session_id is None:
                    from store.interest import create_with_policy

                    rule = _repeat_of(repeat)
                    # As from the command line: people waiting for the course are booked.
                    created = create_with_policy(
                        lambda: create_sessions(data, rule, allow_clash=self.allow_clash),
                        None,
                        None,
                    )
                    text = (
                        f"{len(created)} sessions created"
                        if len(created) > 1
                        else "Session created"
                    )
                    self.post_message(self.Saved(created[0].id, text))
                else:
                    changes: dict[str, Any] = {
                        name: getattr(data, name) for name in SessionInput.__dataclass_fields__
                    }
                    if not data.generate_link:
                        changes.pop("generate_link")
                    result = edit_session(self.session_id, changes, allow_clash=self.allow_clash)
                    text = (
                        f"Saved: {', '.join(result.changed)} changed"
                        if result.changed
                        else "Nothing changed"
                    )
                    if result.calendar_changed:
                        text += "; attendees will get an update"
                    self.post_message(self.Saved(self.session_id, text))
        except PlaceClash as exc:
            self.post_message(self.PlaceTaken(exc.message))
        except RollcallError as exc:
            self.post_message(self.Rejected(exc.message, exc.field))

    @on(PlaceTaken)
    def _place_taken(self, event: PlaceTaken) -> None:
        from screens.dialogs import ConfirmModal

        self.saving = False
        self.query_one("#save", Button).disabled = False

        def answered(share: bool | None) -> None:
            if share:
                self.allow_clash = True
                self.call_later(self.action_save)
            else:
                self.show_error(event.message, "location")

        self.app.push_screen(
            ConfirmModal(f"{event.message}.\n\nBook the place anyway?", "Book anyway"), answered
        )

    @on(Saved)
    def _saved(self, event: Saved) -> None:
        from screens.messages import DataChanged

        self.app.notify(event.text)
        self.app.post_message(DataChanged("sessions"))
        self.dismiss(event.session_id)

    @on(Rejected)
    def _rejected(self, event: Rejected) -> None:
        self.allow_clash = False  # a changed form asks about its place again
        self.saving = False
        self.query_one("#save", Button).disabled = False
        self.show_error(event.message, event.field)

    def show_error(self, message: str, field: str | None) -> None:
        """Put a rule's message on the line under its field and focus the field."""
        name = FIELD_OF_ERROR.get(field or "", "general")
        if name == "location" and self.query_one("#kind-online", RadioButton).value:
            name = "online_url"
        self.show_field_error(name, message)


def _repeat_of(raw: dict[str, str]) -> Repeat | None:
    """The recurrence the form asks for; `ValidationError` naming count or until."""
    if not raw.get("frequency"):
        if raw.get("count") or raw.get("until"):
            raise ValidationError("choose how often it repeats", field="repeat")
        return None
    count = raw.get("count", "").strip()
    until = raw.get("until", "").strip()
    return Repeat(
        raw["frequency"],
        count=validate.positive_int(count, "count") if count else None,
        until=validate.parse_date(until, "until") if until else None,
    )
