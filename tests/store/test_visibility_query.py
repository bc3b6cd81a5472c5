"""The visibility condition in SQL picks exactly the sessions the rule in Python lets through."""

from __future__ import annotations

import itertools

import pytest

from store.models import Session
from store.visibility import can_see, visible_to
from tests.builders import person, session

pytestmark = pytest.mark.usefixtures("store")

RULE_SETS = [
    {},
    {"roles": ["Nurse"]},
    {"roles": ["nurse", "Doctor"]},
    {"departments": ["Ward 7"]},
    {"roles": ["Nurse"], "departments": ["Ward 7"]},
    {"roles": ["Nurse"], "departments": ["Ward 7"], "locations": ["Leeds"]},
    {"locations": ["LEEDS", "York"]},
    {"roles": ["Porter"], "locations": ["York"]},
]
"""Audiences of one, two or three dimensions, several values, other letter cases."""


def test_the_query_and_the_rule_agree_for_every_person_and_audience() -> None:
    sessions = [session(title=f"Course {i}", **rules) for i, rules in enumerate(RULE_SETS)]
    people = [
        person(f"p{i}@example.test", role=role, department=department, location=place)
        for i, (role, department, place) in enumerate(
            itertools.product(["Nurse", "doctor", ""], ["Ward 7", "Ward 9"], ["Leeds", "york"])
        )
    ]
    for someone in people:
        seen = {s.id for s in Session.select(Session.id).where(visible_to(someone))}
        expected = {s.id for s in sessions if can_see(someone, s)}
        assert seen == expected, (someone.job_role, someone.department, someone.location)
    # The grid is not trivial: each session has an audience here, and not everyone is in it.
    assert all(any(can_see(p, s) for p in people) for s in sessions[:-1])
    assert not all(can_see(p, s) for p in people for s in sessions)
