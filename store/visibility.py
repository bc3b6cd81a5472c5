"""Who may see a session: roles AND departments AND locations, each empty set meaning All."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import peewee

from store.models import Person, Session, SessionVisibility
from store.textkey import fold

DIMENSIONS = ("role", "department", "location")
"""Visibility dimensions, in the order forms and JSON show them."""


def _person_value(person: Person, dimension: str) -> str:
    return {
        "role": person.job_role,
        "department": person.department,
        "location": person.location,
    }[dimension]


def rules_of(session: Session) -> dict[str, list[str]]:
    """The session's visibility sets keyed by dimension (empty list = All)."""
    rules: dict[str, list[str]] = {d: [] for d in DIMENSIONS}
    rows = (
        SessionVisibility.select()
        .where(SessionVisibility.session == session)
        .order_by(SessionVisibility.id)
    )
    for row in rows:
        rules[row.dimension].append(row.value)
    return rules


def matches(person: Person, rules: dict[str, list[str]]) -> bool:
    """True when the person matches every non-empty set (case-insensitively)."""
    for dimension in DIMENSIONS:
        allowed = {fold(v) for v in rules.get(dimension, [])}
        if allowed and fold(_person_value(person, dimension)) not in allowed:
            return False
    return True


def outside_audience(person: Person, session: Session) -> list[str]:
    """Why `person` is outside the session's audience, one phrase per failed dimension.

    Empty when they match. ``["department Sales is not Engineering or Finance"]``:
    what an admin reads before enrolling them anyway.
    """
    rules = rules_of(session)
    reasons = []
    for dimension in DIMENSIONS:
        allowed = rules.get(dimension, [])
        value = _person_value(person, dimension)
        if allowed and fold(value) not in {fold(v) for v in allowed}:
            label = "job role" if dimension == "role" else dimension
            reasons.append(f"{label} {value or '(none)'} is not {' or '.join(allowed)}")
    return reasons


def can_see(person: Person, session: Session) -> bool:
    """True when `person` may see `session` under its visibility rules."""
    return matches(person, rules_of(session))


def visible_to(person: Person) -> peewee.Expression:
    """A WHERE condition on `Session` selecting the sessions `person` may see.

    A session is hidden when one of its dimensions has rules and none of them is the
    person's value. One subquery asks that of all dimensions at once, so a session without
    rules (the usual case) costs one index probe, not two per dimension.
    """
    matched = peewee.Case(
        None,
        [
            (
                (SessionVisibility.dimension == dimension)
                & (SessionVisibility.value_key == fold(_person_value(person, dimension))),
                1,
            )
            for dimension in DIMENSIONS
        ],
        0,
    )
    shut_out = (
        SessionVisibility.select(SessionVisibility.dimension)
        .where(SessionVisibility.session == Session.id)
        .group_by(SessionVisibility.dimension)
        .having(peewee.fn.SUM(matched) == 0)
    )
    return ~peewee.fn.EXISTS(shut_out)


def replace_rules(session: Session, rules: Mapping[str, Iterable[str]]) -> None:
    """Store the session's visibility sets, replacing what was there."""
    SessionVisibility.delete().where(SessionVisibility.session == session).execute()
    rows = []
    for dimension in DIMENSIONS:
        seen: set[str] = set()
        for value in rules.get(dimension, []):
            key = fold(value)
            if key in seen:
                continue
            seen.add(key)
            rows.append({"session": session.id, "dimension": dimension, "value": value})
    if rows:
        SessionVisibility.insert_many(rows).execute()
