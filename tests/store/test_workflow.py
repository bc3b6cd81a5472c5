"""Manager approval, held offers and interest lists (SPEC §7), on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store.approvals import (
    apply_answer,
    approve,
    decline,
    expire_requests,
    pending_requests,
    set_manager,
    set_session_policy,
)
from store.booking import book, unbook
from store.clock import utcnow
from store.errors import NotFound, RuleViolation
from store.interest import add_interest, interest_list, invite_interested
from store.models import Enrolment, Outbox, Person
from store.offers import accept_offer, decline_offer, expire_offers
from store.people import import_people_csv
from store.reports import run_report
from store.sessions import count_occupying, get_session
from store.workflow_models import ApprovalRequest, Offer
from tests.builders import person, session

pytestmark = pytest.mark.usefixtures("store")


def _status(session_id: int, email: str) -> str:
    return str(
        Enrolment.select()
        .join(Person)
        .where((Enrolment.session == session_id) & (Person.email == email))
        .get()
        .status
    )


def _kinds(email: str) -> list[str]:
    return [o.kind for o in Outbox.select().where(Outbox.recipient == email).order_by(Outbox.id)]


@pytest.fixture
def team(store: str) -> None:
    person("boss@example.org", "Bea Boss")
    for name in ("ann", "bob", "cat"):
        person(f"{name}@example.org")
        set_manager(f"{name}@example.org", "boss@example.org")


# --------------------------------------------------------------------------- approval


@pytest.mark.usefixtures("team")
def test_booking_needs_the_managers_approval_and_approval_books_the_place() -> None:
    created = session(max_attendees=3)
    set_session_policy(created.id, approval="manager")
    result = book(created.id, "ann@example.org")
    assert result.status == "requested"
    request = ApprovalRequest.get()
    mail = Outbox.get(Outbox.recipient == "boss@example.org")
    assert mail.kind == "approval_request"
    assert request.message_id == mail.message_id
    assert [r.learner.email for r in pending_requests("boss@example.org")] == ["ann@example.org"]
    assert count_occupying(get_session(created.id)) == 0

    decision = approve(created.id, "ann@example.org", by="BOSS@example.org", note="go")
    assert (decision.status, ApprovalRequest.get().status) == ("enrolled", "approved")
    assert _kinds("ann@example.org") == ["request_approved", "invitation"]
    assert pending_requests() == []


@pytest.mark.usefixtures("team")
def test_only_the_manager_or_an_admin_decides_and_a_refusal_changes_nothing() -> None:
    created = session(max_attendees=3)
    set_session_policy(created.id, approval="manager")
    book(created.id, "ann@example.org")
    with pytest.raises(RuleViolation) as err:
        approve(created.id, "ann@example.org", by="bob@example.org")
    assert err.value.field == "manager"
    assert _status(created.id, "ann@example.org") == "requested"
    decline(created.id, "ann@example.org", note="not this quarter")
    assert _status(created.id, "ann@example.org") == "cancelled"
    assert ApprovalRequest.get().status == "declined"
    assert _kinds("ann@example.org") == ["request_declined"]
    with pytest.raises(RuleViolation):
        approve(created.id, "ann@example.org")


def test_a_learner_without_a_manager_is_refused_naming_the_field() -> None:
    created = session(max_attendees=3)
    set_session_policy(created.id, approval="manager")
    person("solo@example.org")
    with pytest.raises(RuleViolation) as err:
        book(created.id, "solo@example.org")
    assert err.value.field == "manager"
    assert Enrolment.select().count() == 0
    assert Outbox.select().count() == 0


@pytest.mark.usefixtures("team")
def test_course_approval_applies_to_every_session_and_admin_enrol_skips_it() -> None:
    from store.approvals import set_course_approval
    from store.booking import enrol

    created = session(max_attendees=3)
    set_course_approval("fire safety", "manager")
    assert book(created.id, "ann@example.org").status == "requested"
    assert enrol(created.id, "bob@example.org").status == "enrolled"


@pytest.mark.usefixtures("team")
def test_approval_after_the_session_filled_waitlists_at_the_request_time() -> None:
    created = session(max_attendees=1)
    set_session_policy(created.id, approval="manager")
    book(created.id, "ann@example.org")  # requested first
    person("walkin@example.org")
    set_session_policy(created.id, approval="none")
    person("late@example.org")
    book(created.id, "walkin@example.org")  # takes the place
    book(created.id, "late@example.org")  # waitlisted 1, after ann's request
    decision = approve(created.id, "ann@example.org")
    assert (decision.status, decision.waitlist_position) == ("waitlisted", 1)
    positions = {
        e.person.email: e.waitlist_position
        for e in Enrolment.select().where(Enrolment.status == "waitlisted")
    }
    assert positions == {"ann@example.org": 1, "late@example.org": 2}


@pytest.mark.usefixtures("team")
def test_unanswered_requests_expire_before_the_start_and_the_learner_is_told() -> None:
    created = session(max_attendees=3)
    set_session_policy(created.id, approval="manager")
    book(created.id, "ann@example.org")
    start = get_session(created.id).start
    assert expire_requests(now=start - timedelta(hours=25)) == 0
    assert expire_requests(now=start - timedelta(hours=23)) == 1
    assert ApprovalRequest.get().status == "expired"
    assert _status(created.id, "ann@example.org") == "cancelled"
    assert _kinds("ann@example.org") == ["request_expired"]
    rows = run_report("requests")
    assert rows == [
        {
            "manager": "boss@example.org",
            "name": "Bea Boss",
            "pending": 0,
            "approved": 0,
            "declined": 0,
            "expired": 1,
            "withdrawn": 0,
            "total": 1,
        }
    ]


@pytest.mark.usefixtures("team")
def test_emailed_answers_must_come_from_the_manager_and_name_the_request() -> None:
    created = session(max_attendees=3)
    set_session_policy(created.id, approval="manager")
    book(created.id, "ann@example.org")
    ref = ApprovalRequest.get().message_id
    assert apply_answer((), "boss@example.org", "Hello") is None
    refused = apply_answer((), "boss@example.org", "APPROVE")
    assert refused is not None
    assert refused.outcome == "ignored"
    assert "In-Reply-To" in (refused.reason or "")
    other = apply_answer((ref,), "bob@example.org", "APPROVE")
    assert other is not None
    assert "not the learner's manager" in (other.reason or "")
    unclear = apply_answer((ref,), "boss@example.org", "Maybe")
    assert unclear is not None
    assert unclear.outcome == "ignored"
    assert _status(created.id, "ann@example.org") == "requested"
    done = apply_answer(("<other@x>", ref), "Boss@Example.org", "Approve,")
    assert done is not None
    assert done.outcome == "applied"
    assert _status(created.id, "ann@example.org") == "enrolled"


def test_people_csv_sets_managers_from_the_optional_column() -> None:
    text = (
        "email,name,department,role,location,manager\n"
        "lead@example.org,Lead,,,,\n"
        "dev@example.org,Dev,,,,lead@example.org\n"
    )
    import_people_csv(text)
    dev = Person.get(Person.email == "dev@example.org")
    assert dev.manager.email == "lead@example.org"
    from store.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        import_people_csv("email,name,manager\nnew@example.org,New,ghost@example.org\n")
    assert "manager" in str(err.value)
    assert Person.get_or_none(Person.email == "new@example.org") is None
    with pytest.raises(NotFound):
        set_manager("dev@example.org", "ghost@example.org")


# --------------------------------------------------------------------------- offers


def _full_with_queue(hours: int = 12) -> int:
    created = session(max_attendees=1)
    set_session_policy(created.id, offer_hours=hours)
    for name in ("holder", "first", "second"):
        person(f"{name}@example.org")
        book(created.id, f"{name}@example.org")
    return int(created.id)


def test_a_freed_place_is_offered_and_held_until_accepted() -> None:
    sid = _full_with_queue()
    unbook(sid, "holder@example.org")
    first = Enrolment.select().join(Person).where(Person.email == "first@example.org").get()
    assert first.status == "offered"
    assert first.calendar == "invited"
    assert first.offer_expires_at is not None
    assert abs(first.offer_expires_at - (utcnow() + timedelta(hours=12))) < timedelta(minutes=1)
    assert _kinds("first@example.org")[-1] == "offer"
    payload = Outbox.get(Outbox.kind == "offer").payload
    assert "offer_expires_at" in payload
    # The held place counts: a newcomer goes to the waitlist behind "second".
    person("new@example.org")
    assert book(sid, "new@example.org").waitlist_position == 2
    accept_offer(sid, "first@example.org")
    assert _status(sid, "first@example.org") == "enrolled"
    assert count_occupying(get_session(sid)) == 1
    assert [o.outcome for o in Offer.select()] == ["taken"]


def test_a_declined_or_expired_offer_passes_to_the_next_in_line() -> None:
    sid = _full_with_queue()
    unbook(sid, "holder@example.org")
    decline_offer(sid, "first@example.org")
    assert _status(sid, "first@example.org") == "cancelled"
    assert _kinds("first@example.org")[-1] == "offer_passed"
    assert _status(sid, "second@example.org") == "offered"
    deadline = Enrolment.get(Enrolment.status == "offered").offer_expires_at
    assert expire_offers(now=deadline - timedelta(minutes=1)) == 0
    assert expire_offers(now=deadline + timedelta(seconds=1)) == 1
    assert _status(sid, "second@example.org") == "cancelled"
    assert count_occupying(get_session(sid)) == 0
    assert [o.outcome for o in Offer.select().order_by(Offer.id)] == ["passed", "passed"]
    with pytest.raises(RuleViolation):
        accept_offer(sid, "second@example.org")
    rows = run_report("offers")
    assert rows[0]["passed"] == 2
    assert rows[0]["taken"] == 0


def test_offers_off_keeps_todays_promotion() -> None:
    sid = _full_with_queue(hours=0)
    unbook(sid, "holder@example.org")
    assert _status(sid, "first@example.org") == "enrolled"
    assert Offer.select().count() == 0


def test_time_to_fill_counts_from_the_freeing_across_passes() -> None:
    sid = _full_with_queue()
    unbook(sid, "holder@example.org")
    decline_offer(sid, "first@example.org")
    accept_offer(sid, "second@example.org")
    rows = run_report("time-to-fill")
    assert len(rows) == 1
    assert rows[0]["passed_before"] == 1
    assert rows[0]["hours"] >= 0


# --------------------------------------------------------------------------- interest


def test_interest_list_invites_in_order_within_capacity_and_visibility() -> None:
    person("early@example.org", department="Ops")
    person("hidden@example.org", department="Sales")
    person("second@example.org", department="Ops")
    person("third@example.org", department="Ops")
    old = session(max_attendees=5)
    for email in ("early", "hidden", "second", "third"):
        add_interest("Fire Safety", f"{email}@example.org")
    with pytest.raises(RuleViolation):
        add_interest("fire safety", "early@example.org")
    assert [e.person.email for e in interest_list("FIRE SAFETY")][0] == "early@example.org"
    new = session(max_attendees=2, departments=["Ops"])
    assert new.course_id == old.course_id
    outcome = invite_interested([new.id])
    assert outcome == {
        "booked": ["early@example.org", "second@example.org"],
        "told": ["third@example.org"],
    }
    assert _kinds("third@example.org") == ["interest_full"]
    left = [e.person.email for e in interest_list("Fire Safety")]
    assert left == ["hidden@example.org", "third@example.org"]
    with pytest.raises(NotFound) as err:
        add_interest("No Such Course", "early@example.org")
    assert err.value.field == "course"


@pytest.mark.usefixtures("team")
def test_cancelling_a_session_withdraws_requests_and_closes_offers() -> None:
    from store.sessions import cancel_session

    created = session(max_attendees=1)
    set_session_policy(created.id, approval="manager", offer_hours=4)
    book(created.id, "ann@example.org")
    set_session_policy(created.id, approval="none")
    for name in ("holder", "next"):
        person(f"{name}@example.org")
        book(created.id, f"{name}@example.org")
    unbook(created.id, "holder@example.org")
    assert _status(created.id, "next@example.org") == "offered"
    cancel_session(created.id, "Trainer ill")
    assert _status(created.id, "ann@example.org") == "cancelled"
    assert _status(created.id, "next@example.org") == "cancelled"
    assert ApprovalRequest.get().status == "withdrawn"
    assert [o.outcome for o in Offer.select()] == ["passed"]
    start = get_session(created.id).start
    assert expire_requests(now=start) == 0
    assert expire_offers(now=start) == 0
