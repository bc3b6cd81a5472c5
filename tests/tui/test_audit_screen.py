"""The Audit area, and what the app offers each role."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Input, Static

from screens.audit import AUDIT_PAGE, AuditScreen
from store.access import Actor, AuditEntry, acting_as
from store.booking import enrol
from store.people import find_person
from store.settings import Settings
from tests.tui.conftest import Data, pick_in_picker, settle
from tui.app import RollcallApp, make_app


def cells(table: DataTable[Any]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_audit_area_filters_and_pages(app: RollcallApp, data: Data) -> None:
    with acting_as(Actor("tess@example.org", "admin")):
        enrol(data.empty, data.people[5])
    AuditEntry.insert_many(
        [{"actor": "worker", "action": "promote.auto", "session_id": 999}] * (AUDIT_PAGE + 5)
    ).execute()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("7")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == AUDIT_PAGE
        summary = screen.query_one("#audit-summary", Static)
        total = AuditEntry.select().count()
        assert f"of {total}" in str(summary.render())
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert table.row_count == total - AUDIT_PAGE
        await pilot.press("slash")
        assert isinstance(screen.focused, Input)
        screen.query_one("#audit-actor", Input).value = "tess@example.org"
        await settle(pilot)
        rows = cells(table)
        assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
            ("tess@example.org", "enrol", str(data.empty), data.people[5])
        ]
        assert "'status': 'enrolled'" in rows[0][5]
        screen.query_one("#audit-actor", Input).value = ""
        screen.query_one("#audit-session", Input).value = str(data.full)
        await settle(pilot)
        assert {r[3] for r in cells(table)} == {str(data.full)}
        # The person filter picks someone by name, as every email box does.
        screen.query_one("#audit-session", Input).value = ""
        await pilot.press("ctrl+f")
        await settle(pilot)
        await pick_in_picker(pilot, "Farid")
        assert screen.query_one("#audit-person", Input).value == data.people[5]
        await settle(pilot)
        assert {r[4] for r in cells(table)} == {data.people[5]}


async def test_areas_and_commands_follow_the_role(
    data: Data, settings: Settings, tmp_path: Path
) -> None:
    admin = make_app(settings)
    assert [a.name for a in admin.areas][-3:] == ["mail", "audit", "requests"]
    person = find_person(data.people[0])
    assert person is not None
    with acting_as(Actor(person.email, "trainer", person.id)):
        trainer = make_app(settings, restricted=True)
    assert [a.name for a in trainer.areas] == [
        "sessions", "people", "trainers", "pathways", "reports"
    ]  # fmt: skip
    with acting_as(Actor(person.email, "manager", person.id)):
        assert [a.name for a in make_app(settings).areas] == ["sessions", "requests", "team"]
    async with admin.run_test() as pilot:
        titles = {c.title for c in admin.get_system_commands(admin.screen)}
        assert "Screenshot" in titles
        await pilot.pause()
    async with trainer.run_test() as pilot:
        titles = {c.title for c in trainer.get_system_commands(trainer.screen)}
        assert "Screenshot" not in titles
        assert "Quit" in titles
        await pilot.press("7")
        assert not isinstance(trainer.screen, AuditScreen)
        # Nor by the action itself: nothing is written.
        assert trainer.deliver_screenshot("x.svg", str(tmp_path)) is None
        assert not (tmp_path / "x.svg").exists()
