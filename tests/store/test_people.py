"""People and trainers: validation, case-insensitive uniqueness, CSV import all-or-nothing."""

from __future__ import annotations

import pytest

from store.errors import NotFound, RuleViolation, ValidationError
from store.models import Person, Trainer
from store.people import (
    PersonInput,
    add_person,
    add_trainer,
    get_person,
    get_trainer,
    import_people_csv,
    people_query,
    preview_people_csv,
    set_trainer_active,
    update_person,
)
from tests.builders import person

pytestmark = pytest.mark.usefixtures("store")


def test_email_is_unique_case_insensitively() -> None:
    person("Ann@Example.org")
    with pytest.raises(RuleViolation) as err:
        person("ann@example.ORG")
    assert err.value.field == "email"
    assert Person.select().count() == 1
    assert get_person("ANN@example.org").email == "Ann@Example.org"


@pytest.mark.parametrize(
    ("email", "name", "field"),
    [
        ("not-an-email", "Ann", "email"),
        ("a@b", "Ann", "email"),
        ("a b@example.org", "Ann", "email"),
        ("", "Ann", "email"),
        ("ann@example.org", "   ", "name"),
        ("ann@example.org", "x" * 201, "name"),
    ],
)
def test_bad_person_input_names_the_field_and_changes_nothing(
    email: str, name: str, field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        add_person(PersonInput(email=email, name=name))
    assert err.value.field == field
    assert Person.select().count() == 0


def test_control_characters_are_stripped_from_names() -> None:
    created = person("eve@example.org", name="Eve\x1b[31m Red\x07")
    assert created.name == "Eve[31m Red"


def test_update_keeps_email_unique() -> None:
    person("ann@example.org")
    bob = person("bob@example.org")
    with pytest.raises(RuleViolation):
        update_person(bob.id, PersonInput(email="ANN@example.org", name="Bob"))
    assert Person.get_by_id(bob.id).email == "bob@example.org"


def test_csv_import_adds_and_updates() -> None:
    person("ann@example.org", department="Old")
    text = (
        "email,name,department,role,location\n"
        "ann@example.org,Ann A,Sales,Manager,London\n"
        "bob@example.org,Bob B,Finance,Associate,Remote\n"
    )
    result = import_people_csv(text)
    assert (len(result.new), len(result.updates)) == (1, 1)
    ann = get_person("ann@example.org")
    assert (ann.name, ann.department, ann.job_role) == ("Ann A", "Sales", "Manager")
    assert get_person("bob@example.org").location == "Remote"


def test_csv_with_bad_rows_is_refused_whole_with_line_numbers() -> None:
    text = (
        "email,name,department,role,location\n"
        "ann@example.org,Ann,Sales,Manager,London\n"
        "broken-address,Bob,Sales,Manager,London\n"
        "cat@example.org,,Sales,Manager,London\n"
        "ANN@example.org,Ann again,Sales,Manager,London\n"
    )
    preview = preview_people_csv(text)
    assert [line for line, _ in preview.errors] == [3, 4, 5]
    with pytest.raises(ValidationError) as err:
        import_people_csv(text)
    assert "line 3" in str(err.value)
    assert "line 4" in str(err.value)
    assert "line 5" in str(err.value)
    assert Person.select().count() == 0


def test_csv_header_is_checked() -> None:
    preview = preview_people_csv("mail,name\nann@example.org,Ann\n")
    assert preview.errors
    assert preview.errors[0][0] == 1
    assert "email" in preview.errors[0][1]


def test_trainer_add_creates_the_person_and_needs_a_name_for_new_people() -> None:
    with pytest.raises(ValidationError) as err:
        add_trainer("new@example.org")
    assert err.value.field == "name"
    assert Person.select().count() == 0
    trainer = add_trainer("new@example.org", "New Trainer")
    assert trainer.person.name == "New Trainer"
    with pytest.raises(RuleViolation):
        add_trainer("NEW@example.org")
    assert Trainer.select().count() == 1


def test_only_active_trainers_can_be_found() -> None:
    trainer = add_trainer("t@example.org", "T")
    assert get_trainer("t@example.org").id == trainer.id
    set_trainer_active(trainer.id, False)
    with pytest.raises(NotFound) as err:
        get_trainer("t@example.org")
    assert err.value.field == "trainer"


def test_people_search_matches_name_email_and_department() -> None:
    person("ann@example.org", name="Ann Lee", department="Sales")
    person("bob@example.org", name="Bob Stone", department="Finance")
    assert [p.email for p in people_query("lee")] == ["ann@example.org"]
    assert [p.email for p in people_query("FINANCE")] == ["bob@example.org"]
    assert [p.email for p in people_query("example")] == ["ann@example.org", "bob@example.org"]


def test_csv_preview_lists_each_changed_field_of_existing_people() -> None:
    person("ann@example.org", "Ann Adams", department="Sales", role="Associate")
    text = (
        "email,name,department,role,location\n"
        "ANN@example.org,Ann Adams,Finance,Associate,Leeds\n"
        "new@example.org,Nia New,Sales,,\n"
    )
    preview = preview_people_csv(text)
    assert [p.email for p in preview.new] == ["new@example.org"]
    assert preview.changes == {
        "ann@example.org": [("department", "Sales", "Finance"), ("location", "", "Leeds")]
    }
    assert "new@example.org" not in preview.changes


def test_a_csv_path_with_a_tilde_is_read_from_home(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from store.people import read_csv_file

    home = Path(str(tmp_path))
    (home / "people.csv").write_text("email,name\nann@example.org,Ann\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    assert read_csv_file("~/people.csv").startswith("email,name")
