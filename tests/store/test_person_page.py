"""The person page's read model on SQLite and PostgreSQL: lists, expiry, notes, fixed queries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store.booking import add_note
from store.clock import utcnow
from store.errors import NotFound
from store.models import Completion, Course, ElearningItem, Enrolment, Person
from store.pathways import add_pathway, add_requirement
from store.person_page import person_page
from store.sessions import create_sessions
from tests.builders import person, session, session_input, trainer
from tests.cli.test_listing import QueryCounter

pytestmark = pytest.mark.usefixtures("store")


def _enrol(
    who: Person, days: int, status: str, title: str, position: int | None = None
) -> Enrolment:
    when = (utcnow() + timedelta(days=days)).date()
    s = create_sessions(session_input(title=title, date=when), allow_clash=True)[0]
    return Enrolment.create(session=s, person=who, status=status, waitlist_position=position)


def _record(who: Person, sessions: int) -> None:
    for n in range(sessions):
        e = _enrol(who, 5 + n, "enrolled", f"Course {n}")
        add_note(e, f"note {n}", author="admin")
        Completion.create(
            person=who, course=e.session.course, completed_on=utcnow().date(), source="manual"
        )


def test_bookings_waitlists_completions_pathways_and_notes() -> None:
    ann = person("ann@example.org", "Ann Adams", department="Sales")
    boss = person("boss@example.org", "Bea Boss")
    Person.update(manager=boss).where(Person.id == ann.id).execute()
    soon = _enrol(ann, 3, "enrolled", "First Aid")
    _enrol(ann, 10, "waitlisted", "Ladder Safety", position=2)
    old = _enrol(ann, -30, "attended", "Fire Safety")
    _enrol(ann, -20, "no_show", "Manual Handling")
    add_note(old, "left early", author="hana")
    fire = Course.get(Course.title == "Fire Safety")
    today = utcnow().date()
    Completion.create(
        person=ann, course=fire, completed_on=today - timedelta(days=400),
        expires_on=today - timedelta(days=35), source="attendance",
    )  # fmt: skip
    item = ElearningItem.create(name="GDPR module")
    Completion.create(
        person=ann, elearning=item, completed_on=today - timedelta(days=5),
        expires_on=today + timedelta(days=360), source="import",
    )  # fmt: skip
    pathway = add_pathway("New starter")
    add_requirement(pathway.id, courses=["Fire Safety"])
    add_requirement(pathway.id, elearning="GDPR module")

    page = person_page(ann.id)

    assert (page.name, page.email, page.department) == ("Ann Adams", "ann@example.org", "Sales")
    assert page.manager == "Bea Boss <boss@example.org>"
    assert not page.trainer
    assert [b.title for b in page.upcoming] == ["First Aid"]
    assert page.upcoming[0].session_id == soon.session_id
    assert [(b.title, b.waitlist_position) for b in page.waitlists] == [("Ladder Safety", 2)]
    assert [(b.title, b.status) for b in page.past] == [
        ("Manual Handling", "no_show"),
        ("Fire Safety", "attended"),
    ]
    assert [(c.what, c.expired) for c in page.completions] == [
        ("GDPR module", False),
        ("Fire Safety", True),
    ]
    (progress,) = page.pathways
    assert progress["name"] == "New starter"
    assert [r["done"] for r in progress["requirements"]] == [False, True]  # Fire Safety expired
    assert [(n.session_title, n.author, n.text) for n in page.notes_about] == [
        ("Fire Safety", "hana", "left early")
    ]
    assert person_page("ANN@example.org").id == ann.id  # by email too


def test_a_trainer_and_an_unknown_person() -> None:
    trainer("tess@example.org", "Tess Trainer")
    assert person_page("tess@example.org").trainer
    with pytest.raises(NotFound) as refused:
        person_page(99999)
    assert refused.value.field == "person"
    with pytest.raises(NotFound):
        person_page("nobody@example.org")


def test_the_query_count_does_not_grow_with_the_record() -> None:
    few = person("few@example.org")
    many = person("many@example.org")
    _record(few, 1)
    _record(many, 12)
    session(title="Unrelated")
    with QueryCounter() as small:
        assert len(person_page(few.id).upcoming) == 1
    with QueryCounter() as large:
        page = person_page(many.id)
    assert len(page.upcoming) == 12
    assert len(page.notes_about) == 12
    assert len(page.completions) == 12
    assert large.count == small.count
