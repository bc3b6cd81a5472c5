"""The register of a session page: the attendee table, its cells, icons and the trainer's answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.coordinate import Coordinate

from screens.plain import clean, plain
from screens.widgets.fast_table import FastTable
from screens.widgets.table_cursor import highlighted_key
from store.read_models import AttendeeRow, Declined, SessionDetail

CALENDAR_ICONS = {
    "not_invited": "—",
    "invited": "✉",
    "accepted": "✓",
    "tentative": "?",
    "declined": "✗",
}
QUEUED_ICON = "…"
"""An invitation no mail server accepted yet: it waits in the outbox."""
STATUS_TEXT = {
    "enrolled": "enrolled",
    "attended": "attended",
    "no_show": "no-show",
    "waitlisted": "waitlisted",
    "offered": "offered",
    "requested": "requested",
}


class AttendeeTable(FastTable[str | Text]):
    """The register; hovering a row shows its calendar response as a tooltip."""

    def __init__(self, describe: Callable[[str], str], *, id: str) -> None:
        super().__init__(id=id, cursor_type="row")
        self._describe = describe
        self._tip: str | None = None

    def watch_hover_coordinate(self, old: Coordinate, value: Coordinate) -> None:
        """Show the hovered row's response details as the tooltip."""
        super().watch_hover_coordinate(old, value)
        try:
            key = self.coordinate_to_cell_key(Coordinate(value.row, 0)).row_key.value
        except Exception:  # noqa: BLE001 - hovering the header or an empty table
            key = None
        tip = self._describe(key) if key else None
        # Setting the tooltip re-announces the hover; only set it when it changes.
        if tip != self._tip:
            self._tip = tip
            self.tooltip = plain(tip) if tip else None


def trainer_answer(d: SessionDetail, zone: Any) -> Text:
    """The trainer's calendar answer, with the way out when they declined."""
    state = d.trainer_calendar
    icon = CALENDAR_ICONS.get(state, "?")
    if state == "not_invited":
        return Text("")
    if state == "invited":
        return Text(f" {icon} invited, no answer yet", style="dim")
    text = Text(f" {icon} {state} {when_text(d.trainer_responded_at, zone)}".rstrip())
    if d.trainer_comment:
        text.append(clean(f" “{d.trainer_comment}”"))
    if state == "declined":
        text.stylize("bold red")
        if d.status == "scheduled":
            text.append(" · t assigns another trainer", style="dim")
    return text


def when_text(value: datetime | None, zone: Any) -> str:
    if value is None:
        return ""
    return f"{value.astimezone(zone):%d %b %H:%M}"


def offer_text(offers: list[AttendeeRow], zone: Any) -> Text:
    """ "Offered: Bob Baker until 30 Nov 14:00" for each place held for an offer."""
    text = Text("Offered: ", style="bold yellow")
    text.append(", ".join(f"{r.name} until {when_text(r.offer_expires_at, zone)}" for r in offers))
    text.append("  ")
    return text


def calendar_icon(r: AttendeeRow) -> str:
    """The Calendar column: the answer's icon, or … while the invitation is still queued."""
    if r.calendar == "invited" and r.mail_waiting:
        return QUEUED_ICON
    return CALENDAR_ICONS.get(r.calendar, "?")


def attendee_cells(r: AttendeeRow, zone: Any) -> list[str | Text]:
    style = {"attended": "bold", "no_show": "dim"}.get(r.status, "")
    return [
        plain(r.name, style),
        plain(r.department),
        Text(STATUS_TEXT.get(r.status, r.status), style=style),
        calendar_icon(r),
        when_text(r.responded_at, zone),
        str(r.notes) if r.notes else "",
    ]


def waiting_cells(r: AttendeeRow, zone: Any) -> list[str | Text]:
    return [
        str(r.waitlist_position or ""),
        plain(r.name),
        plain(r.department),
        calendar_icon(r),
        when_text(r.responded_at, zone),
    ]


def fill_table(table: FastTable[Any], rows: list[tuple[str, list[Any]]]) -> None:
    """Show `rows`, updating cells in place when the same people are listed.

    Rebuilding only when the set of rows changed keeps the cursor (and the
    admin's place in a long register) where it was.
    """
    keys = [key for key, _ in rows]
    current = [row.key.value for row in table.ordered_rows]
    if keys == current:
        columns = list(table.columns)
        for key, cells in rows:
            old = table.get_row(key)
            for column, new, before in zip(columns, cells, old, strict=False):
                if str(new) != str(before) or (
                    isinstance(new, Text) and isinstance(before, Text) and new.style != before.style
                ):
                    table.update_cell(key, column, new)
        return
    kept = highlighted_key(table)
    row_index = table.cursor_row
    table.clear()
    table.add_rows_keyed(rows)
    if not table.row_count:
        return
    if kept in keys:
        row_index = keys.index(kept)
    table.move_cursor(row=min(row_index, table.row_count - 1), animate=False)


def answers_text(
    offers: list[AttendeeRow], declined: list[Declined], waiting: bool, zone: Any
) -> Text:
    """The held places with their deadlines, then who declined and when."""
    text = offer_text(offers, zone) if offers else Text()
    if declined:
        text.append("Declined: ", style="bold")
        text.append(
            clean(
                ", ".join(
                    f"{r.name} {when_text(r.responded_at, zone)}".rstrip()
                    + (" (place given up)" if r.status == "cancelled" else "")
                    for r in declined
                ),
                one_line=True,
            )
        )
        if waiting:
            text.append("  · w invites the next in line", style="dim")
    return text


def details_text(d: SessionDetail, zone: Any) -> Text:
    """The page's head: title, status, when and where, trainer and answer, places, audience,
    cancellation and materials."""
    from store.session_input import describe_when

    where = d.location if d.type == "in_person" else (d.online_url or "online")
    cap = "unlimited" if d.max_attendees is None else f"{d.max_attendees} places"
    text = Text()
    text.append(clean(f"{d.title}"), style="bold")
    text.append(f"  #{d.id}  {d.status.replace('_', ' ')}", style="dim")
    if d.finalised:
        text.append("  register finalised", style="dim")
    text.append(clean(f"\n{describe_when(d.start, d.end, zone)} · {where}"))
    text.append(clean(f"\nTrainer {d.trainer or '—'}"))
    if d.trainer:
        text.append_text(trainer_answer(d, zone))
    text.append(clean(f" · {cap}"))
    if d.expiry_months:
        text.append(clean(f" · expires after {d.expiry_months} months"))
    rules = [
        f"{name}: {', '.join(values)}"
        for name, values in (
            ("roles", d.visibility.get("role", [])),
            ("departments", d.visibility.get("department", [])),
            ("locations", d.visibility.get("location", [])),
        )
        if values
    ]
    text.append(clean(f" · for {'; '.join(rules) if rules else 'everyone'}"))
    if d.cancel_reason:
        text.append(clean(f"\nCancelled: {d.cancel_reason}"), style="bold")
    if d.materials:
        text.append(clean("\nMaterials: " + " · ".join(f"{n} <{u}>" for n, u in d.materials)))
    return text


def row_text(row: AttendeeRow, zone: Any, sending: str | None) -> str:
    """One person's booking and calendar answer, for the detail line under the register.

    `sending` is why queued mail is not going out, if the app knows.
    """
    parts = [f"{row.name} <{row.email}>", STATUS_TEXT.get(row.status, row.status)]
    icon = CALENDAR_ICONS.get(row.calendar, "?")
    if row.calendar == "not_invited":
        parts.append(f"{icon} not invited")
    elif row.calendar == "invited" and row.mail_waiting:
        why = f": {sending}" if sending else ""
        parts.append(f"{QUEUED_ICON} invitation queued, not sent yet{why}")
    elif row.calendar == "invited":
        when = when_text(row.invited_at, zone)
        parts.append(f"{icon} invited {when}, no answer yet" if when else f"{icon} invited")
    else:
        parts.append(f"{icon} {row.calendar} {when_text(row.responded_at, zone)}".rstrip())
    if row.comment:
        parts.append(f"“{row.comment}”")
    if row.waitlist_position:
        parts.append(f"waitlist #{row.waitlist_position}")
    if row.mail_waiting and row.calendar != "invited":
        parts.append("mail to them waits to be sent")
    if row.notes:
        parts.append(f"{row.notes} note(s)")
    return " · ".join(parts)
