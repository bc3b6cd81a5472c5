"""Learning pathways: ordered requirements, and a person's progress derived from completions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import peewee

from store import validate
from store.access import audited, require_read
from store.clock import utcnow
from store.db import write_transaction
from store.errors import NotFound, RuleViolation, ValidationError
from store.lookup import by_id
from store.models import (
    Completion,
    Course,
    ElearningItem,
    Pathway,
    PathwayRequirement,
    Person,
    RequirementCourse,
    RequirementSession,
    Session,
)
from store.sessions import get_session
from store.settings import current_settings
from store.textkey import fold

MODES = ("all", "any")


def today() -> date:
    """Today's date in the configured zone: the day expiry is judged against."""
    return utcnow().astimezone(current_settings().zone).date()


def get_pathway(pathway_id: int | str, field: str = "pathway") -> Pathway:
    """The pathway with this id; `NotFound` (or `ValidationError`) naming `field` otherwise."""
    return by_id(Pathway, pathway_id, field, "pathway")


def _clean_name(name: str | None) -> str:
    return validate.required_text(name, "name")


def _check_unique_name(name: str, exclude: int | None = None) -> None:
    query = Pathway.select().where(Pathway.name_key == fold(name))
    if exclude is not None:
        query = query.where(Pathway.id != exclude)
    if query.exists():
        raise RuleViolation(f"a pathway named {name!r} already exists", field="name")


@audited("pathway.add")
def add_pathway(name: str, description: str = "") -> Pathway:
    """Create an empty pathway; names are unique case-insensitively."""
    clean = _clean_name(name)
    text = validate.long_text(description, "description")
    with write_transaction():
        _check_unique_name(clean)
        return Pathway.create(name=clean, description=text)


@audited("pathway.edit")
def edit_pathway(
    pathway_id: int | str, *, name: str | None = None, description: str | None = None
) -> Pathway:
    """Rename a pathway or change its description (None leaves a field as it is)."""
    with write_transaction():
        pathway = get_pathway(pathway_id)
        if name is not None:
            clean = _clean_name(name)
            _check_unique_name(clean, exclude=pathway.id)
            pathway.name = clean
        if description is not None:
            pathway.description = validate.long_text(description, "description")
        pathway.save()
        return pathway


@audited("pathway.delete")
def delete_pathway(pathway_id: int | str) -> None:
    """Delete a pathway and its requirements; completions are untouched."""
    with write_transaction():
        pathway = get_pathway(pathway_id)
        requirement_ids = PathwayRequirement.select(PathwayRequirement.id).where(
            PathwayRequirement.pathway == pathway
        )
        RequirementCourse.delete().where(
            RequirementCourse.requirement.in_(requirement_ids)
        ).execute()
        RequirementSession.delete().where(
            RequirementSession.requirement.in_(requirement_ids)
        ).execute()
        PathwayRequirement.delete().where(PathwayRequirement.pathway == pathway).execute()
        pathway.delete_instance()


def find_course(title: str, field: str = "course") -> Course:
    """The course with this title (case-insensitive); `NotFound` naming `field` otherwise."""
    clean = validate.required_text(title, field)
    course = Course.get_or_none(Course.title_key == fold(clean))
    if course is None:
        raise NotFound(f"no course titled {clean!r}", field=field)
    return course


def elearning_item(name: str, field: str = "elearning", *, create: bool = True) -> ElearningItem:
    """The e-learning item with this name (case-insensitive), created if new and `create`."""
    clean = validate.required_text(name, field, max_length=300)
    item = ElearningItem.get_or_none(ElearningItem.name_key == fold(clean))
    if item is None:
        if not create:
            raise NotFound(f"no e-learning item named {clean!r}", field=field)
        item = ElearningItem.create(name=clean)
    return item


def _default_label(courses: Sequence[Course], sessions: Sequence[Session], mode: str) -> str:
    names = [c.title for c in courses]
    names += [
        f"{s.title} ({s.start.astimezone(current_settings().zone):%Y-%m-%d})" for s in sessions
    ]
    joiner = " or " if mode == "any" else " + "
    label = joiner.join(names)
    return label if len(label) <= 300 else label[:297] + "..."


@audited("pathway.require")
def add_requirement(
    pathway_id: int | str,
    *,
    courses: Sequence[str] = (),
    sessions: Sequence[int | str] = (),
    elearning: str | None = None,
    mode: str = "all",
    label: str | None = None,
) -> PathwayRequirement:
    """Append one requirement: an e-learning item, or a group of courses and/or sessions.

    The label defaults to the item name or the course titles joined by "+" (all)
    or "or" (any). Unknown courses and sessions are refused; an e-learning item
    is created on first mention because it lives outside rollcall.
    """
    if mode not in MODES:
        raise ValidationError(f"mode must be all or any, got {mode!r}", field="mode")
    if elearning is not None and (courses or sessions):
        raise ValidationError(
            "give either e-learning or courses/sessions, not both", field="elearning"
        )
    if elearning is None and not courses and not sessions:
        raise ValidationError("give at least one course, session or e-learning item", "course")
    with write_transaction():
        pathway = get_pathway(pathway_id)
        course_rows: list[Course] = []
        for title in courses:
            course = find_course(title)
            if all(c.id != course.id for c in course_rows):
                course_rows.append(course)
        session_rows: list[Session] = []
        for sid in sessions:
            session = get_session(sid)
            if all(s.id != session.id for s in session_rows):
                session_rows.append(session)
        item = elearning_item(elearning) if elearning is not None else None
        if label is not None and label.strip():
            text = validate.required_text(label, "label", max_length=300)
        elif item is not None:
            text = item.name
        else:
            text = _default_label(course_rows, session_rows, mode)
        top = (
            PathwayRequirement.select(peewee.fn.MAX(PathwayRequirement.position))
            .where(PathwayRequirement.pathway == pathway)
            .scalar()
        )
        requirement = PathwayRequirement.create(
            pathway=pathway,
            position=(top or 0) + 1,
            kind="elearning" if item is not None else "sessions",
            mode="all" if item is not None else mode,
            label=text,
            elearning=item,
        )
        for course in course_rows:
            RequirementCourse.create(requirement=requirement, course=course)
        for session in session_rows:
            RequirementSession.create(requirement=requirement, session=session)
        return requirement


def get_requirement(requirement_id: int | str) -> PathwayRequirement:
    """The requirement with this id; `NotFound` naming "requirement" otherwise."""
    return by_id(PathwayRequirement, requirement_id, "requirement", "requirement")


def _renumber(pathway_id: int, order: list[int]) -> None:
    # Positions are unique per pathway, so park every row on a negative slot first.
    for index, rid in enumerate(order, start=1):
        PathwayRequirement.update(position=-index).where(PathwayRequirement.id == rid).execute()
    for index, rid in enumerate(order, start=1):
        PathwayRequirement.update(position=index).where(PathwayRequirement.id == rid).execute()


def _order(pathway_id: int) -> list[int]:
    return [
        r.id
        for r in PathwayRequirement.select(PathwayRequirement.id)
        .where(PathwayRequirement.pathway == pathway_id)
        .order_by(PathwayRequirement.position)
    ]


@audited("pathway.unrequire")
def remove_requirement(requirement_id: int | str) -> None:
    """Remove a requirement; the ones after it move up."""
    with write_transaction():
        requirement = get_requirement(requirement_id)
        pathway_id = requirement.pathway_id
        RequirementCourse.delete().where(RequirementCourse.requirement == requirement).execute()
        RequirementSession.delete().where(RequirementSession.requirement == requirement).execute()
        requirement.delete_instance()
        _renumber(pathway_id, _order(pathway_id))


@audited("pathway.move")
def move_requirement(requirement_id: int | str, offset: int) -> int:
    """Move a requirement up (negative) or down (positive); returns its new position."""
    with write_transaction():
        requirement = get_requirement(requirement_id)
        order = _order(requirement.pathway_id)
        index = order.index(requirement.id)
        target = max(0, min(len(order) - 1, index + offset))
        if target != index:
            order.insert(target, order.pop(index))
            _renumber(requirement.pathway_id, order)
        return target + 1


@audited("pathway.label")
def set_requirement_label(requirement_id: int | str, label: str) -> PathwayRequirement:
    """Rename a requirement."""
    with write_transaction():
        requirement = get_requirement(requirement_id)
        requirement.label = validate.required_text(label, "label", max_length=300)
        requirement.save()
        return requirement


def requirement_dict(requirement: PathwayRequirement) -> dict[str, Any]:
    """A requirement with its courses, sessions or e-learning item, ready for JSON."""
    courses = [
        c.title
        for c in Course.select(Course.title)
        .join(RequirementCourse, on=RequirementCourse.course == Course.id)
        .where(RequirementCourse.requirement == requirement)
        .order_by(RequirementCourse.id)
    ]
    sessions = [
        r.session_id
        for r in RequirementSession.select(RequirementSession.session)
        .where(RequirementSession.requirement == requirement)
        .order_by(RequirementSession.id)
    ]
    item = ElearningItem.get_by_id(requirement.elearning_id) if requirement.elearning_id else None
    return {
        "id": requirement.id,
        "position": requirement.position,
        "label": requirement.label,
        "kind": requirement.kind,
        "mode": requirement.mode,
        "courses": courses,
        "sessions": sessions,
        "elearning": item.name if item else None,
    }


def requirements_of(pathway: Pathway) -> list[PathwayRequirement]:
    """A pathway's requirements in order."""
    return list(
        PathwayRequirement.select()
        .where(PathwayRequirement.pathway == pathway)
        .order_by(PathwayRequirement.position)
    )


def pathway_dict(pathway: Pathway) -> dict[str, Any]:
    """A pathway with its ordered requirements (the `pathway show` JSON)."""
    return {
        "id": pathway.id,
        "name": pathway.name,
        "description": pathway.description,
        "requirements": [requirement_dict(r) for r in requirements_of(pathway)],
    }


def list_pathways() -> list[dict[str, Any]]:
    """Every pathway with its number of requirements, by name (the `pathway list` JSON)."""
    count = peewee.fn.COUNT(PathwayRequirement.id)
    query = (
        Pathway.select(Pathway.id, Pathway.name, Pathway.description, count.alias("n"))
        .join(PathwayRequirement, peewee.JOIN.LEFT_OUTER)
        .group_by(Pathway.id, Pathway.name, Pathway.description)
        .order_by(Pathway.name, Pathway.id)
    )
    return [
        {"id": p.id, "name": p.name, "description": p.description, "requirements": p.n}
        for p in query
    ]


def _valid_completions(person: Person, on: date) -> tuple[set[int], set[int], set[int]]:
    """Course ids, session ids and e-learning ids the person holds a live completion of."""
    live = Completion.expires_on.is_null() | (Completion.expires_on >= on)
    courses: set[int] = set()
    sessions: set[int] = set()
    items: set[int] = set()
    rows = Completion.select(Completion.course, Completion.session, Completion.elearning).where(
        (Completion.person == person) & live
    )
    for row in rows.tuples():
        course_id, session_id, item_id = row
        if course_id is not None:
            courses.add(course_id)
        if session_id is not None:
            sessions.add(session_id)
        if item_id is not None:
            items.add(item_id)
    return courses, sessions, items


def progress(
    person: Person | str, pathway: int | str | None = None, *, on: date | None = None
) -> list[dict[str, Any]]:
    """A person's progress on every pathway (or one), in the `progress` JSON shape.

    Derived from completions each time: a completion counts while it has not
    expired (no expiry, or expiry on or after `on`, default today). A group in
    mode `all` needs every course and session in it, `any` needs one; a
    specific session counts when the person attended it.
    """
    if isinstance(person, str):
        from store.people import get_person

        person = get_person(person)
    require_read(person)
    on = on or today()
    if pathway is not None:
        pathways = [get_pathway(pathway)]
    else:
        pathways = list(Pathway.select().order_by(Pathway.name, Pathway.id))
    if not pathways:
        return []
    courses, sessions, items = _valid_completions(person, on)
    ids = [p.id for p in pathways]
    requirements = list(
        PathwayRequirement.select()
        .where(PathwayRequirement.pathway.in_(ids))
        .order_by(PathwayRequirement.pathway, PathwayRequirement.position)
    )
    req_ids = [r.id for r in requirements]
    group_courses: dict[int, list[int]] = {}
    group_sessions: dict[int, list[int]] = {}
    if req_ids:
        for rid, cid in (
            RequirementCourse.select(RequirementCourse.requirement, RequirementCourse.course)
            .where(RequirementCourse.requirement.in_(req_ids))
            .tuples()
        ):
            group_courses.setdefault(rid, []).append(cid)
        for rid, sid in (
            RequirementSession.select(RequirementSession.requirement, RequirementSession.session)
            .where(RequirementSession.requirement.in_(req_ids))
            .tuples()
        ):
            group_sessions.setdefault(rid, []).append(sid)
    by_pathway: dict[int, list[dict[str, Any]]] = {pid: [] for pid in ids}
    for r in requirements:
        if r.kind == "elearning":
            done = r.elearning_id in items
        else:
            hits = [c in courses for c in group_courses.get(r.id, [])]
            hits += [s in sessions for s in group_sessions.get(r.id, [])]
            done = bool(hits) and (all(hits) if r.mode == "all" else any(hits))
        by_pathway[r.pathway_id].append(
            {"label": r.label, "mode": r.mode, "kind": r.kind, "done": done}
        )
    result = []
    for p in pathways:
        steps = by_pathway[p.id]
        done_count = sum(1 for s in steps if s["done"])
        percent = done_count * 100 // len(steps) if steps else 0
        result.append(
            {
                "pathway": p.id,
                "name": p.name,
                "complete": bool(steps) and done_count == len(steps),
                "percent": percent,
                "requirements": steps,
            }
        )
    return result
