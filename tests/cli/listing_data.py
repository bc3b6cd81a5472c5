"""Data sets for the listing tests: a small fixed one (golden output) and bulk rows by SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.booking import enrol
from store.models import Course, Enrolment, Material, Person, Session, SessionVisibility, Trainer
from store.people import PersonInput, add_person, add_trainer
from store.session_input import MaterialInput, SessionInput
from store.sessions import create_sessions

SMALL_LEARNER = "learner@example.test"


def build_small() -> None:
    """A fixed data set on the open store: people, a trainer, sessions with every field used."""
    add_person(PersonInput(SMALL_LEARNER, "Lee Learner", "Ops", "Engineer", "Leeds"))
    add_person(PersonInput("ann@example.test", "Ann Ash", "Sales", "Manager", "York"))
    add_person(PersonInput("bob@example.test", "Bob Birch", "Ops", "Engineer", "Hull"))
    add_person(PersonInput("zoë@example.test", "Zoë Žák", "Ops", "Engineer", "Leeds"))
    add_trainer("trainer@example.test", "Tess Trainer")
    create_sessions(
        SessionInput(
            "Fire Safety",
            "2030-03-04",
            "09:30",
            60,
            location="Room 1",
            trainer="trainer@example.test",
            max_attendees=2,
            description='Évacuation "drill"\nand more',
            roles=["Engineer"],
            departments=["Ops", "Sales"],
            materials=[
                MaterialInput("Agenda", "https://example.test/a"),
                MaterialInput("Map", "https://example.test/m"),
            ],
            expiry_months=12,
        )
    )
    create_sessions(
        SessionInput(
            "Online Intro", "2030-06-01", "14:00", 90, online_url="https://meet.example.test/x"
        )
    )
    create_sessions(
        SessionInput("Leeds only", "2030-01-02", "10:00", 30, location="Leeds", locations=["Leeds"])
    )
    for email in ("ann@example.test", "bob@example.test", "zoë@example.test"):
        enrol(1, email)
    # Identifiers made at random are fixed so the output can be compared byte for byte.
    for session in Session.select():
        Session.update(uid=f"uid-{session.id}@example.test").where(
            Session.id == session.id
        ).execute()
    Enrolment.update(created_at=datetime(2029, 1, 1, 12, tzinfo=UTC)).execute()


BULK_FREE = "bulk-free@example.test"
"""A person of the bulk data set who may see every session and is on none."""


def bulk_sessions(count: int, *, with_enrolments: int = 2, crowd: int = 0) -> None:
    """`count` sessions by SQL: a visibility rule, a material and `with_enrolments` people each,
    and `crowd` more people on the first one."""
    course = Course.create(title="Bulk course")
    person = Person.create(email="bulk-trainer@example.test", name="Bulk Trainer")
    trainer = Trainer.create(person=person)
    Person.create(email=BULK_FREE, name="Bulk Free", job_role="Engineer")
    learners = [
        Person.create(email=f"bulk{i}@example.test", name=f"Bulk {i}", job_role="Engineer")
        for i in range(with_enrolments)
    ]
    start = datetime(2031, 1, 1, 9, tzinfo=UTC)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "course": course.id,
            "title": f"Bulk {i}",
            "start": start + timedelta(hours=i),
            "end": start + timedelta(hours=i, minutes=30),
            "duration_minutes": 30,
            "type": "in_person",
            "location": "Room",
            "trainer": trainer.id if i % 2 else None,
            "max_attendees": 10,
            "uid": f"bulk-{i}@example.test",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]
    for page in range(0, count, 500):
        Session.insert_many(rows[page : page + 500]).execute()
    ids = [s.id for s in Session.select(Session.id).where(Session.course == course)]
    for page in range(0, len(ids), 500):
        chunk = ids[page : page + 500]
        SessionVisibility.insert_many(
            [{"session": sid, "dimension": "role", "value": "Engineer"} for sid in chunk]
        ).execute()
        Material.insert_many(
            [
                {"session": sid, "name": "Notes", "url": "https://example.test/n", "position": 0}
                for sid in chunk
            ]
        ).execute()
        Enrolment.insert_many(
            [
                {
                    "session": sid,
                    "person": p.id,
                    "status": "enrolled",
                    "created_at": now,
                    "updated_at": now,
                }
                for sid in chunk
                for p in learners
            ]
        ).execute()
    crowd_rows = [
        {"email": f"crowd{i}@example.test", "name": f"Crowd {i}", "job_role": "Engineer"}
        for i in range(crowd)
    ]
    for page in range(0, crowd, 500):
        Person.insert_many(crowd_rows[page : page + 500]).execute()
    crowd_ids = [p.id for p in Person.select(Person.id).where(Person.email.startswith("crowd"))]
    for page in range(0, len(crowd_ids), 500):
        Enrolment.insert_many(
            [
                {
                    "session": ids[0],
                    "person": pid,
                    "status": "enrolled",
                    "created_at": now,
                    "updated_at": now,
                }
                for pid in crowd_ids[page : page + 500]
            ]
        ).execute()
