"""Sessions written as JSON text for the list commands: the values of the stored rows, byte for
byte as `json.dumps(..., ensure_ascii=False, indent=2)` writes them, on both backends."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cli.context import emit_json_texts
from store import session_json
from store.models import Enrolment, Material, Series, Session, SessionVisibility
from store.people import PersonInput, add_person, add_trainer
from store.serialize import iter_session_dicts, iter_session_json, session_dict
from store.session_input import MaterialInput, SessionInput
from store.session_queries import sessions_query
from store.sessions import create_sessions

pytestmark = pytest.mark.usefixtures("store")

NASTY = (
    'Tab\there "quoted" back\\slash \x01\x08\x0c\x1f\x7f nl\n cr\r'
    " \u2028\u2029 emoji \U0001f600 CJK \u4e2d\u6587 accents \u00e9\u00fc\u00df"
)
"""Everything a JSON encoder may escape or must leave alone, as stored text."""

NOW = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)
STATUSES = ("enrolled", "attended", "no_show", "waitlisted", "offered", "requested", "cancelled")


def _session(title: str, day: str, hour: str, **fields: Any) -> Session:
    return create_sessions(SessionInput(title, day, hour, 60, **fields), allow_clash=True)[0]


def build() -> None:
    """Four sessions: cancelled with every field and nasty text, completed, in progress, plain."""
    add_trainer("trainer@example.test", "Tess Trainer")
    learners = [
        add_person(PersonInput(f"l{i}@example.test", f"Learner {i}", "Ops", "Engineer", "Leeds"))
        for i in range(len(STATUSES))
    ]
    full = _session(
        "Full",
        "2031-09-01",
        "09:30",
        location="Room 1",
        trainer="trainer@example.test",
        max_attendees=3,
        roles=["Engineer", "Other"],
        departments=["Ops"],
        materials=[
            MaterialInput("Agenda", "https://example.test/a"),
            MaterialInput("Map", "https://example.test/m"),
        ],
        expiry_months=12,
    )
    # Stored as it may come from elsewhere (an import, an older version): not cleaned on input.
    Session.update(
        title=NASTY,
        description=NASTY,
        location=NASTY,
        cancel_reason=NASTY,
        cancelled_at=NOW - timedelta(days=1),
        trainer_responded_at=datetime(2031, 5, 1, 8, 0, 0, 123456, tzinfo=UTC),
        offer_hours=0,
    ).where(Session.id == full.id).execute()
    Material.update(name=NASTY, url=NASTY).where(Material.name == "Agenda").execute()
    # Places that are not the order the materials were made in: the list follows the places.
    for name, position in (("Map", -1), (NASTY, 1), ("Map", 0)):
        Material.update(position=position).where(Material.name == name).execute()
    SessionVisibility.update(value=NASTY).where(SessionVisibility.value == "Other").execute()
    Enrolment.insert_many(
        [
            {
                "session": full.id,
                "person": person.id,
                "status": status,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for person, status in zip(learners, STATUSES, strict=True)
        ]
    ).execute()
    done = _session("Done", "2031-03-01", "10:00", online_url="https://meet.example.test/x")
    Session.update(start=datetime(2031, 3, 1, 10, 0, 0, 500000, tzinfo=UTC)).where(
        Session.id == done.id
    ).execute()
    _session("Now", "2031-06-01", "12:30", location="Room 2", max_attendees=1)
    _session("Later", "2031-10-01", "09:00", location="Room 3")
    Session.update(start=NOW - timedelta(minutes=30), end=NOW + timedelta(minutes=30)).where(
        Session.title == "Now"
    ).execute()
    series = Series.create(id='series "1"', rule="FREQ=WEEKLY")
    Session.update(series=series).where(Session.title == "Later").execute()


def expected(session: Session) -> dict[str, Any]:
    """The contract's shape of `session`, from the models, at NOW (the reference)."""
    counts = Counter(e.status for e in Enrolment.select().where(Enrolment.session == session))
    taken = counts["enrolled"] + counts["attended"] + counts["no_show"]
    rules = SessionVisibility.select().where(SessionVisibility.session == session)
    rule_sets = {
        d: [r.value for r in rules.order_by(SessionVisibility.id) if r.dimension == d]
        for d in ("role", "department", "location")
    }
    materials = Material.select().where(Material.session == session).order_by(Material.position)
    if session.cancelled_at is not None:
        status = "cancelled"
    elif session.finalised_at is not None or session.end <= NOW:
        status = "completed"
    elif session.start <= NOW:
        status = "in_progress"
    else:
        status = "scheduled"
    cap = session.max_attendees
    responded = session.trainer_responded_at
    derived = {
        "course": session.course.title,
        "start": session.start.isoformat(),
        "end": session.end.isoformat(),
        "trainer": session.trainer.person.email if session.trainer else None,
        "enrolled": taken,
        "waitlisted": counts["waitlisted"],
        "remaining": None if cap is None else max(0, cap - taken - counts["offered"]),
        "status": status,
        "visibility": {
            "roles": rule_sets["role"],
            "departments": rule_sets["department"],
            "locations": rule_sets["location"],
        },
        "materials": [{"name": m.name, "url": m.url} for m in materials],
        "trainer_responded_at": responded.isoformat() if responded else None,
        "offered": counts["offered"],
        "requested": counts["requested"],
    }
    # The rest are the session's columns as stored.
    return {key: derived[key] if key in derived else getattr(session, key) for key in FIELDS}


FIELDS = (
    "id title course description start end duration_minutes type location online_url trainer"
    " max_attendees enrolled waitlisted remaining status cancel_reason visibility materials"
    " expiry_months series_id uid sequence trainer_calendar trainer_responded_at offered"
    " requested approval offer_hours"
).split()
"""The contract's fields of a listed session, in order (CLI.md)."""


def reference() -> list[dict[str, Any]]:
    return [expected(s) for s in Session.select().order_by(Session.start, Session.id)]


def test_text_is_json_dumps_of_the_stored_values(capsys: pytest.CaptureFixture[str]) -> None:
    build()
    rows = reference()
    assert [r["status"] for r in rows] == ["completed", "in_progress", "cancelled", "scheduled"]
    assert rows[2]["title"] == NASTY
    assert rows[2]["enrolled"] == 3
    assert rows[2]["remaining"] == 0
    assert rows[0]["start"].endswith(".500000+00:00")
    assert rows[3]["visibility"]["roles"] == []
    assert rows[3]["series_id"] == 'series "1"'
    emit_json_texts(iter_session_json(sessions_query(now=NOW), now=NOW))
    written = capsys.readouterr().out
    assert written == json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    assert list(iter_session_dicts(sessions_query(now=NOW), now=NOW)) == rows
    cancelled = Session.get(Session.cancelled_at.is_null(False))
    assert session_dict(cancelled, now=NOW) == rows[2]


def test_pages_filters_limit_and_offset_read_the_same_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pages of two: the key carries on across pages, with filters on start and the status."""
    build()
    rows = reference()
    monkeypatch.setattr(session_json, "PAGE_SIZE", 2)

    def ids(**flags: Any) -> list[int]:
        limit, offset = flags.pop("limit", None), flags.pop("offset", None)
        query = sessions_query(now=NOW, **flags)
        texts = iter_session_json(query, limit=limit, offset=offset, now=NOW)
        return [json.loads(text)["id"] for text in texts]

    every = [r["id"] for r in rows]
    assert ids() == every
    assert ids(offset=1) == every[1:]
    assert ids(offset=1, limit=2) == every[1:3]
    assert ids(limit=3) == every[:3]
    assert ids(start_from=NOW - timedelta(hours=1)) == every[1:]
    assert ids(status="scheduled") == [rows[3]["id"]]
    assert ids(status="completed", offset=1) == []
    assert [json.loads(t) for t in iter_session_json(sessions_query(now=NOW), now=NOW)] == rows
