"""Pathway editing and progress rules, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from store.attendance import mark
from store.booking import enrol
from store.errors import NotFound, RuleViolation, ValidationError
from store.models import (
    Completion,
    Course,
    ElearningItem,
    Enrolment,
    Pathway,
    PathwayRequirement,
    Person,
)
from store.pathways import (
    add_pathway,
    add_requirement,
    edit_pathway,
    list_pathways,
    move_requirement,
    pathway_dict,
    progress,
    remove_requirement,
    today,
)
from store.people import PersonInput, add_person
from store.session_input import SessionInput
from store.sessions import create_sessions


def _person(email: str = "ann@example.org") -> Person:
    return add_person(PersonInput(email=email, name="Ann"))


def _courses(*titles: str) -> list[Course]:
    return [Course.create(title=t) for t in titles]


def _complete(person: Person, course: Course, expires: date | None, *, days_ago: int = 10) -> None:
    Completion.create(
        person=person,
        course=course,
        completed_on=today() - timedelta(days=days_ago),
        expires_on=expires,
        source="attendance",
    )


@pytest.mark.usefixtures("store")
def test_all_needs_every_course_any_needs_one() -> None:
    ann = _person()
    fire, aid, feedback = _courses("Fire Safety", "First Aid", "Feedback")
    p = add_pathway("Starter")
    add_requirement(p.id, courses=["Fire Safety", "First Aid"], mode="all")
    add_requirement(p.id, courses=["First Aid", "Feedback"], mode="any")
    _complete(ann, fire, None)

    [state] = progress(ann)
    assert [r["done"] for r in state["requirements"]] == [False, False]
    assert state["percent"] == 0
    assert state["complete"] is False

    _complete(ann, aid, None)
    [state] = progress(ann)
    assert [r["done"] for r in state["requirements"]] == [True, True]
    assert state == {
        "pathway": p.id,
        "name": "Starter",
        "complete": True,
        "percent": 100,
        "requirements": [
            {"label": "Fire Safety + First Aid", "mode": "all", "kind": "sessions", "done": True},
            {"label": "First Aid or Feedback", "mode": "any", "kind": "sessions", "done": True},
        ],
    }
    assert feedback.id  # the unused course of the "any" group was never needed


@pytest.mark.usefixtures("store")
def test_expired_completion_no_longer_counts_and_percent_rounds_down() -> None:
    ann = _person()
    fire, aid, data = _courses("Fire Safety", "First Aid", "Data")
    p = add_pathway("Safety")
    for title in ("Fire Safety", "First Aid", "Data"):
        add_requirement(p.id, courses=[title])
    _complete(ann, fire, today())  # expires today: still valid
    _complete(ann, aid, today() - timedelta(days=1))  # expired yesterday
    [state] = progress(ann)
    assert [r["done"] for r in state["requirements"]] == [True, False, False]
    assert state["percent"] == 33  # 1/3 rounded down
    # A newer completion of the same course renews it.
    _complete(ann, aid, today() + timedelta(days=300), days_ago=1)
    _complete(ann, data, None)
    [state] = progress(ann)
    assert state["percent"] == 100
    # Tomorrow the Fire Safety completion has expired.
    [later] = progress(ann, on=today() + timedelta(days=1))
    assert [r["done"] for r in later["requirements"]] == [False, True, True]
    assert later["percent"] == 66


@pytest.mark.usefixtures("store")
def test_elearning_requirement_and_expiry() -> None:
    ann = _person()
    p = add_pathway("Induction")
    req = add_requirement(p.id, elearning="Company Induction", mode="any")
    assert req.kind == "elearning"
    assert req.mode == "all"
    assert req.label == "Company Induction"
    item = ElearningItem.get(ElearningItem.name == "Company Induction")
    Completion.create(
        person=ann,
        elearning=item,
        completed_on=today() - timedelta(days=400),
        expires_on=today() - timedelta(days=35),
        source="import",
    )
    assert progress(ann)[0]["requirements"][0]["done"] is False
    Completion.create(person=ann, elearning=item, completed_on=today(), source="manual")
    assert progress(ann, p.id)[0]["requirements"][0] == {
        "label": "Company Induction",
        "mode": "all",
        "kind": "elearning",
        "done": True,
    }


@pytest.mark.usefixtures("store")
def test_specific_session_counts_only_when_attended() -> None:
    ann = _person()
    bob = _person("bob@example.org")
    past = today() - timedelta(days=3)
    [first] = create_sessions(
        SessionInput(
            title="Fire Safety", date=past, start="10:00", duration_minutes=60, location="R1"
        )
    )
    [second] = create_sessions(
        SessionInput(
            title="Fire Safety", date=past, start="14:00", duration_minutes=60, location="R1"
        )
    )
    p = add_pathway("Cohort")
    add_requirement(p.id, sessions=[first.id], mode="all")
    Enrolment.create(session=first, person=ann, status="enrolled")
    Enrolment.create(session=second, person=bob, status="enrolled")
    mark(first.id, ann.email, "attended")
    mark(second.id, bob.email, "attended")
    assert progress(ann)[0]["requirements"][0]["done"] is True
    # Bob attended the same course, but not the session the requirement names.
    assert progress(bob)[0]["requirements"][0]["done"] is False
    mark(first.id, ann.email, "no-show")
    assert progress(ann)[0]["percent"] == 0


@pytest.mark.usefixtures("store")
def test_edit_reorder_remove_and_show() -> None:
    _courses("A", "B", "C")
    p = add_pathway("Path", "first")
    a = add_requirement(p.id, courses=["A"])
    b = add_requirement(p.id, courses=["B"], label="Second step")
    c = add_requirement(p.id, elearning="Online C")
    assert move_requirement(c.id, -5) == 1
    assert [r["label"] for r in pathway_dict(p)["requirements"]] == ["Online C", "A", "Second step"]
    remove_requirement(a.id)
    shown = pathway_dict(p)
    assert [(r["position"], r["label"]) for r in shown["requirements"]] == [
        (1, "Online C"),
        (2, "Second step"),
    ]
    assert shown["requirements"][1]["courses"] == ["B"]
    assert b.id
    edit_pathway(p.id, name="Renamed", description="new")
    assert list_pathways() == [
        {"id": p.id, "name": "Renamed", "description": "new", "requirements": 2}
    ]


@pytest.mark.usefixtures("store")
def test_bad_input_names_the_field_and_changes_nothing() -> None:
    _courses("A")
    p = add_pathway("Path")
    with pytest.raises(RuleViolation) as dup:
        add_pathway("path")
    assert dup.value.field == "name"
    with pytest.raises(ValidationError) as blank:
        add_pathway("  ")
    assert blank.value.field == "name"
    with pytest.raises(NotFound) as unknown:
        add_requirement(p.id, courses=["A", "Nope"])
    assert unknown.value.field == "course"
    with pytest.raises(ValidationError) as mode:
        add_requirement(p.id, courses=["A"], mode="some")
    assert mode.value.field == "mode"
    with pytest.raises(NotFound) as session:
        add_requirement(p.id, sessions=[999])
    assert session.value.field == "session"
    with pytest.raises(NotFound) as pathway:
        add_requirement(999, courses=["A"])
    assert pathway.value.field == "pathway"
    assert PathwayRequirement.select().count() == 0
    assert Pathway.select().count() == 1
    with pytest.raises(NotFound):
        progress("nobody@example.org")


@pytest.mark.usefixtures("store")
def test_enrolled_but_not_attended_is_not_done() -> None:
    ann = _person()
    future = today() + timedelta(days=5)
    [session] = create_sessions(
        SessionInput(
            title="Feedback", date=future, start="10:00", duration_minutes=60, location="R"
        )
    )
    p = add_pathway("M")
    add_requirement(p.id, courses=["Feedback"])
    enrol(session.id, ann.email)
    assert progress(ann)[0]["requirements"][0]["done"] is False
