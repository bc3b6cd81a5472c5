"""Realistic sample data: people, trainers, a month of past and two of coming sessions."""

from __future__ import annotations

import random
from datetime import date, time, timedelta
from typing import Any

from store import mail_queue
from store.attendance import mark
from store.booking import book
from store.clock import utcnow
from store.db import write_transaction
from store.errors import RollcallError, RuleViolation
from store.models import Course, Enrolment, Person, Session
from store.pathways import add_pathway, add_requirement
from store.people import PersonInput, add_person, add_trainer
from store.recurrence import Repeat
from store.session_input import MaterialInput, SessionInput
from store.sessions import cancel_session, create_sessions
from store.settings import current_settings

FIRST = [
    "Ann",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Isla",
    "Jamal",
    "Keiko",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quentin",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Xavier",
    "Yara",
    "Zoe",
    "Amir",
    "Bea",
    "Carlos",
    "Dana",
]
LAST = [
    "Adams",
    "Baker",
    "Chen",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ibrahim",
    "Jones",
    "Kowalski",
    "Lopez",
    "Murphy",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quinn",
    "Rossi",
    "Singh",
    "Taylor",
]
DEPARTMENTS = ["Sales", "Engineering", "Operations", "Finance", "People"]
ROLES = ["Associate", "Specialist", "Manager", "Director"]
LOCATIONS = ["London", "Manchester", "Remote"]
TRAINERS = [
    ("hana.trainer@example.org", "Hana Morris"),
    ("ivan.trainer@example.org", "Ivan Petrov"),
    ("jo.trainer@example.org", "Jo Whitfield"),
    ("kofi.trainer@example.org", "Kofi Mensah"),
    ("lena.trainer@example.org", "Lena Vogel"),
]
COURSES: list[dict[str, Any]] = [
    {"title": "Fire Safety", "minutes": 60, "max": 12, "expiry": 12, "where": "Room 1"},
    {"title": "First Aid at Work", "minutes": 180, "max": 8, "expiry": 36, "where": "Room 2"},
    {"title": "Data Protection Essentials", "minutes": 90, "max": 30, "expiry": 12, "online": True},
    {
        "title": "Giving Feedback",
        "minutes": 120,
        "max": 10,
        "expiry": None,
        "where": "Room 3",
        "roles": ["Manager", "Director"],
    },
    {
        "title": "Budgeting for Managers",
        "minutes": 120,
        "max": 6,
        "expiry": None,
        "online": True,
        "roles": ["Manager"],
        "departments": ["Finance", "Operations"],
    },
    {
        "title": "Customer Conversations",
        "minutes": 90,
        "max": 14,
        "expiry": None,
        "where": "Manchester Hub",
        "departments": ["Sales"],
    },
    {
        "title": "Secure Coding",
        "minutes": 240,
        "max": None,
        "expiry": 24,
        "online": True,
        "departments": ["Engineering"],
    },
    {
        "title": "Interviewing Well",
        "minutes": 90,
        "max": 4,
        "expiry": None,
        "where": "Room 1",
        "roles": ["Manager", "Director", "Specialist"],
    },
]
SLOTS = [time(9, 30), time(13, 0), time(15, 0)]


def fill_demo(seed: int = 7, force: bool = False) -> dict[str, int]:
    """Fill the open database with demo data; refuses a non-empty one unless `force`."""
    if Person.select().exists() and not force:
        raise RuleViolation(
            "the database already holds people; use --force to add demo data anyway",
            field="database",
        )
    rng = random.Random(seed)
    zone = current_settings().zone
    today = utcnow().astimezone(zone).date()
    with mail_queue.suppressed():
        people = _people(rng)
        trainers = [add_trainer(email, name) for email, name in TRAINERS]
        sessions: list[Session] = []
        day = today - timedelta(days=30)
        index = 0
        while day <= today + timedelta(days=60) and len(sessions) < 44:
            if day.weekday() < 5 and rng.random() < 0.55:
                course = COURSES[index % len(COURSES)]
                trainer = trainers[index % len(trainers)]
                made = _session(course, trainer.person.email, day, SLOTS[index % 3], rng)
                if made is not None:
                    sessions.append(made)
                index += 1
            day += timedelta(days=1)
        series = create_sessions(
            SessionInput(
                title="Weekly Excel Clinic",
                date=_next_weekday(today, 2),
                start=time(12, 0),
                duration_minutes=45,
                generate_link=True,
                max_attendees=15,
                description="Bring your spreadsheet questions.",
                materials=[MaterialInput("Shortcuts sheet", "https://example.org/excel.pdf")],
            ),
            Repeat("weekly", count=6),
        )
        sessions.extend(series)
        enrolments = _book(sessions, people, rng)
        future = [s for s in sessions if s.start > utcnow() and s.series_id is None]
        if future:
            cancel_session(future[len(future) // 2].id, "Trainer unavailable; we will reschedule")
        pathways = _pathways()
    return {
        "people": len(people),
        "trainers": len(trainers),
        "sessions": len(sessions),
        "enrolments": enrolments,
        "pathways": pathways,
    }


def _next_weekday(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7 or 7)


def _people(rng: random.Random) -> list[Person]:
    people = []
    for i in range(60):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        email = f"{first.lower()}.{last.lower()}{i}@example.org"
        people.append(
            add_person(
                PersonInput(
                    email=email,
                    name=f"{first} {last}",
                    department=DEPARTMENTS[i % len(DEPARTMENTS)],
                    role=ROLES[rng.randrange(len(ROLES))] if i % 6 else "Manager",
                    location=LOCATIONS[(i // 2) % len(LOCATIONS)],
                )
            )
        )
    return people


def _session(
    course: dict[str, Any], trainer: str, day: date, slot: time, rng: random.Random
) -> Session | None:
    data = SessionInput(
        title=course["title"],
        date=day,
        start=slot,
        duration_minutes=course["minutes"],
        location=None if course.get("online") else course["where"],
        generate_link=bool(course.get("online")),
        trainer=trainer,
        max_attendees=course["max"],
        description=f"{course['title']}: the essentials, with practice.",
        roles=course.get("roles", []),
        departments=course.get("departments", []),
        expiry_months=course["expiry"],
        materials=(
            [MaterialInput("Pre-read", f"https://example.org/{day.isoformat()}/pre-read.pdf")]
            if rng.random() < 0.5
            else []
        ),
    )
    try:
        return create_sessions(data)[0]
    except RollcallError:
        return None  # a trainer clash: skip this slot


def _book(sessions: list[Session], people: list[Person], rng: random.Random) -> int:
    total = 0
    now = utcnow()
    for session in sessions:
        cap = session.max_attendees or 20
        # Some sessions draw more people than they hold, so they fill and queue.
        wanted = cap + rng.randrange(1, 4) if rng.random() < 0.3 else rng.randrange(1, cap + 1)
        chosen = rng.sample(people, min(wanted, len(people)))
        if session.start > now:
            for person in chosen:
                try:
                    book(session.id, person.email, check_visibility=False)
                    total += 1
                except RollcallError:
                    pass
            for e in Enrolment.select().where(Enrolment.session == session).limit(cap // 2):
                e.calendar = rng.choice(
                    ["invited", "accepted", "accepted", "tentative", "declined"]
                )
                e.invited_at = now - timedelta(days=2)
                if e.calendar != "invited":
                    e.responded_at = now - timedelta(hours=rng.randrange(1, 40))
                e.save()
            continue
        # Past sessions: bookings were taken before the start, then the register marked.
        with write_transaction():
            for person in chosen[:cap]:
                Enrolment.create(
                    session=session,
                    person=person,
                    status="enrolled",
                    calendar="accepted",
                    created_at=session.start - timedelta(days=rng.randrange(3, 20)),
                )
                total += 1
        for person in chosen[:cap]:
            outcome = "attended" if rng.random() < 0.85 else "no-show"
            try:
                mark(session.id, person.email, outcome)
            except RollcallError:
                pass
    return total


def _pathways() -> int:
    onboarding = add_pathway("New Starter", "Safety and data basics for everyone.")
    manager = add_pathway("New Manager", "The first months as a manager.")
    for title in (
        "Fire Safety",
        "Data Protection Essentials",
        "Giving Feedback",
        "Budgeting for Managers",
        "Interviewing Well",
    ):
        # A course exists once a session of it was made; a skipped slot may have left one out.
        if not Course.select().where(Course.title == title).exists():
            Course.create(title=title)
    add_requirement(onboarding.id, elearning="Company Induction (e-learning)")
    add_requirement(onboarding.id, courses=["Fire Safety"])
    add_requirement(onboarding.id, courses=["Data Protection Essentials"])
    add_requirement(manager.id, courses=["Giving Feedback"])
    add_requirement(
        manager.id,
        courses=["Budgeting for Managers", "Interviewing Well"],
        mode="any",
        label="Budgeting or Interviewing",
    )
    return 2
