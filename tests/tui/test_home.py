"""Calendar management: list, search, filters, and the add/edit/cancel/delete keys."""

from __future__ import annotations

from textual.widgets import Input

from screens.dialogs import ConfirmModal, TextModal
from screens.session import SessionScreen
from screens.session_form import SessionForm
from screens.sessions import SessionsScreen
from screens.widgets.paged_table import PagedTable
from store.models import Session
from store.settings import Settings
from tests.tui.conftest import Data, screen_text, session_row, settle
from tui.app import RollcallApp


def sessions_screen(app: RollcallApp) -> SessionsScreen:
    """The screen on top, which the test expects to be the sessions list."""
    screen = app.screen
    assert isinstance(screen, SessionsScreen)
    return screen


async def test_lists_every_session_with_its_columns(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        text = screen_text(app)
        assert "Fire Safety" in text
        assert "First Aid at Work" in text
        assert "Data Protection Essentials" in text
        assert "2/2 full" in text  # full sessions are marked
        assert "0/∞" in text  # unlimited capacity
        assert "Hana Morris" in text
        assert "completed" in text
        assert "scheduled" in text
        table = app.screen.query_one(PagedTable)
        assert table.total == 3
        # The cursor starts on the first session that has not ended yet.
        assert sessions_screen(app).current_id() == data.full


async def test_search_narrows_at_once_and_enter_moves_to_the_list(
    app: RollcallApp, data: Data
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"aid")
        await settle(pilot)
        table = app.screen.query_one(PagedTable)
        assert table.total == 1
        assert sessions_screen(app).current_id() == data.full
        await pilot.press("enter")
        assert app.focused is table
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        assert app.screen.session_id == data.full


async def test_status_filter(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        from textual.widgets import Select

        screen.query_one("#status-filter", Select).value = "completed"
        await settle(pilot)
        assert screen.query_one(PagedTable).total == 1
        assert screen.current_id() == data.past
        await pilot.press("escape")  # clears the filters
        await settle(pilot)
        assert screen.query_one(PagedTable).total == 3


async def test_filter_menus_come_after_the_first_rows_without_reading_again(
    app: RollcallApp, data: Data
) -> None:
    """The trainer and status menus are mounted after the first frame, filled, and their
    arrival reads the list no second time."""
    from textual.widgets import Select

    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = sessions_screen(app)
        trainers = screen.query_one("#trainer-filter", Select)
        assert "Hana Morris" in [str(prompt) for prompt, _ in trainers._options]
        assert screen.query_one("#status-filter", Select).is_blank()
        assert screen.generation == 1  # one read: the first window
        assert screen.query_one(PagedTable).total == 3


async def test_delete_says_why_not_before_asking(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert sessions_screen(app).current_id() == data.full
        await pilot.press("d")
        await pilot.pause()
        # Four people are on it: the key says so at once, no question first.
        assert not isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert Session.get_or_none(Session.id == data.full) is not None
        messages = [str(n.message) for n in app._notifications]
        assert "4 people are on it: cancel it instead (c), everyone is told" in messages


async def test_delete_an_empty_session(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)
        assert sessions_screen(app).current_id() == data.empty
        await pilot.press("d", "y")
        await settle(pilot)
        assert Session.get_or_none(Session.id == data.empty) is None
        assert app.screen.query_one(PagedTable).total == 2


async def test_cancel_asks_for_the_reason(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        assert isinstance(app.screen, TextModal)
        await pilot.press("enter")  # a reason is required
        assert isinstance(app.screen, TextModal)
        assert session_row(data.full).cancelled_at is None
        await pilot.press(*"Trainer ill", "enter")
        await settle(pilot)
        stored = session_row(data.full)
        assert stored.cancelled_at is not None
        assert stored.cancel_reason == "Trainer ill"
        assert "cancelled" in screen_text(app)


async def test_new_session_from_the_form(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, SessionForm)
        await pilot.press(*"Giving Feedback")
        app.screen.query_one("#location", Input).value = "Room 3"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        created = Session.get(Session.title == "Giving Feedback")
        assert created.location == "Room 3"
        assert sessions_screen(app).current_id() == created.id


async def test_edit_from_the_list(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, SessionForm)
        assert form.query_one("#title", Input).value == "First Aid at Work"
        form.query_one("#title", Input).value = "First Aid at Work (refresher)"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert session_row(data.full).title == "First Aid at Work (refresher)"
        assert "refresher" in screen_text(app)


async def test_q_quits_from_home_and_help_lists_keys(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        from screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        assert ("c", "Cancel") in app.screen.keys
        assert ("2", "go to People") in app.screen.keys
        assert "Cancel" in screen_text(app)
        await pilot.press("escape")
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0 or not app.is_running


async def test_palette_offers_screens_and_actions(app: RollcallApp, data: Data) -> None:
    from tui.palette import RollcallCommands

    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        provider = RollcallCommands(app.screen)
        titles = [title for title, _, _ in provider._commands()]
        assert "screen: People" in titles
        assert "screen: Trainers" in titles
        assert "sessions: new" in titles
        assert "sessions: delete" in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"screen: people")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        from screens.people import PeopleScreen

        assert isinstance(app.screen, PeopleScreen)


async def test_home_shows_the_rows_read_while_the_app_started(
    data: Data, settings: Settings
) -> None:
    """`rollcall` reads the first window in a thread before Textual loads; the list shows it."""
    from concurrent.futures import Future

    from store.read_models import SessionPage, SessionRow
    from tui.app import make_app
    from tui.launch import FIRST_WINDOW_ROWS, read_first_window

    early = read_first_window()
    page, cursor, rows = early.result(timeout=10)
    assert rows == FIRST_WINDOW_ROWS
    assert [r.id for r in page.rows] == [r.id for r in Session.select().order_by(Session.start)]
    assert cursor == 1  # the first session has ended
    # The screen takes the rows it was handed: a window holding one made-up row shows that row.
    made_up = SessionRow(
        id=data.full,
        title="Read before the app started",
        start=page.rows[0].start,
        end=page.rows[0].end,
        type="online",
        trainer="",
        max_attendees=None,
        taken=0,
        waitlisted=0,
        status="scheduled",
    )
    handed: Future[tuple[SessionPage, int, int]] = Future()
    handed.set_result((SessionPage(offset=0, rows=[made_up], total=1), 0, rows))
    app = make_app(settings, first_window=handed)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "Read before the app started" in screen_text(app)
        assert app.first_window is None  # taken once: a reload reads the database
        await pilot.press("r")
        await settle(pilot)
        assert "Read before the app started" not in screen_text(app)
        assert sessions_screen(app).query_one(PagedTable).total == 3


async def test_home_waits_in_its_worker_for_rows_still_being_read(
    data: Data, settings: Settings
) -> None:
    """When the early read has not finished at mount, the list's worker waits for it."""
    from concurrent.futures import Future

    from store.read_models import SessionPage, first_window
    from tui.app import make_app
    from tui.launch import FIRST_WINDOW_ROWS

    page, cursor = first_window(FIRST_WINDOW_ROWS)
    reading: Future[tuple[SessionPage, int, int]] = Future()
    app = make_app(settings, first_window=reading)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = sessions_screen(app).query_one(PagedTable)
        assert table.row_count == 0  # nothing shown before the read ends
        one = SessionPage(offset=0, rows=page.rows[:1], total=1)
        reading.set_result((one, 0, FIRST_WINDOW_ROWS))
        await settle(pilot)
        assert table.row_count == 1
        assert sessions_screen(app).current_id() == page.rows[0].id
        assert app.first_window is None
