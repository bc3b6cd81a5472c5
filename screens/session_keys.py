"""What the session page says: why a key does not apply now, and what a removal did.

Pure functions over the session as read (`SessionDetail`) and the highlighted row, so the
page, its key bar and its help give the same reason.
"""

from __future__ import annotations

from typing import Any

from store.read_models import AttendeeRow, SessionDetail
from store.statuses import ACTIVE, MARKED


def removed_text(name: str, moved_up: list[tuple[str, str]]) -> str:
    """What removing someone did: who left, and who the freed place went to, by name."""
    text = f"{name} removed"
    promoted = [who for who, status in moved_up if status == "enrolled"]
    offered = [who for who, status in moved_up if status == "offered"]
    if promoted:
        text += f"; {', '.join(promoted)} promoted from the waitlist"
    if offered:
        text += f"; the place is offered to {', '.join(offered)}"
    return text


def closed_reason(d: SessionDetail) -> str | None:
    """Why nothing about the session's people can change any more, or None."""
    if d.status == "cancelled":
        return "the session is cancelled"
    if d.finalised:
        return "the register is finalised"
    return None


def state_refusal(action: str, d: SessionDetail, row: AttendeeRow | None, zone: Any) -> str | None:
    """Why `action` does not apply to the session `d` (or its highlighted `row`) now, or None."""
    closed = closed_reason(d)
    if action in ("mark", "unmark", "finalise"):
        if closed:
            return closed
        if d.status == "scheduled":
            start = d.start.astimezone(zone)
            return f"attendance opens at the start ({start:%a %d %b %Y %H:%M})"
        if action == "finalise":
            unmarked = [a.name for a in d.attendees if a.status == "enrolled"]
            if unmarked:
                return (
                    f"{len(unmarked)} not marked yet ({', '.join(unmarked[:3])}"
                    f"{', …' if len(unmarked) > 3 else ''}): mark each attended (a) or "
                    "no-show (n) first"
                )
        return row_refusal(action, row)
    if action in ("promote", "invite_next"):
        return closed or (None if d.waitlist else "nobody is on the waitlist")
    if action in ("email", "sheet"):
        return "the session is cancelled" if d.status == "cancelled" else None
    if action == "add_people":
        # A session held may still be added to, to record training that happened.
        return closed
    if action in ("cancel_session", "edit"):
        if closed:
            return closed
        return "the session has taken place" if d.status == "completed" else None
    if action in ("remove", "note"):
        return row_refusal(action, row)
    return None


def row_refusal(action: str, row: AttendeeRow | None) -> str | None:
    """Why `action` does not apply to the highlighted person `row` (None: nobody), or None."""
    if row is None:
        return "highlight a person first"
    if action == "mark" and row.status == "waitlisted":
        return f"{row.name} is on the waitlist: promote them first (p)"
    if action == "unmark" and row.status not in MARKED:
        return f"{row.name} is not marked"
    if action == "remove" and row.status not in ACTIVE:
        return f"{row.name} has no booking to cancel"
    return None
