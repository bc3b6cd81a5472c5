"""Lists at scale: fixed query counts, streamed output as before, the paging flags."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import peewee
import pytest
from click.testing import CliRunner

from cli import main
from store.availability import available_query
from store.clock import utcnow
from store.db import close_database, database, open_database
from store.models import Session
from store.people import get_person
from store.session_json import session_texts
from store.session_queries import sessions_query
from store.settings import Settings
from tests.cli.conftest import Result, Runner, rollcall_executable
from tests.cli.listing_data import BULK_FREE, SMALL_LEARNER, build_small, bulk_sessions

GOLDEN = Path(__file__).parent.parent / "data" / "listing"

GOLDEN_COMMANDS = {
    "session_list.json": ["session", "list", "--json"],
    "session_list.txt": ["session", "list"],
    "available.json": ["available", SMALL_LEARNER, "--json"],
    "available.txt": ["available", SMALL_LEARNER],
    "person_list.json": ["person", "list", "--json"],
    "person_list.txt": ["person", "list"],
    "trainer_list.json": ["trainer", "list", "--json"],
    "session_show.json": ["session", "show", "1", "--json"],
}


@pytest.fixture
def small(rollcall: Runner, tmp_path: Path, settings: Settings) -> Runner:
    """The small fixed data set in the database the `rollcall` runner uses."""
    open_database(f"sqlite:///{tmp_path / 'cli.db'}")
    build_small()
    close_database()
    database.initialize(None)
    return rollcall


@pytest.mark.parametrize("name", sorted(GOLDEN_COMMANDS))
def test_output_is_byte_identical_to_the_contract(small: Runner, name: str) -> None:
    """The streamed output equals what the list-building implementation printed (fixture files)."""
    result = small(*GOLDEN_COMMANDS[name])
    assert result.code == 0, result.stderr
    if os.environ.get("UPDATE_GOLDEN") == "1":
        # After an intended change of the output (new fields): rewrite, then review the diff.
        (GOLDEN / name).write_text(result.stdout, encoding="utf-8")
    assert result.stdout == (GOLDEN / name).read_text(encoding="utf-8")


def test_limit_offset_and_days(small: Runner) -> None:
    """--limit/--offset page the start order; --from/--to keep the sessions of those local days."""
    ids = [row["id"] for row in small("session", "list", "--json").json()]
    assert ids == [3, 1, 2]
    assert [
        r["id"] for r in small("session", "list", "--limit", "1", "--offset", "1", "--json").json()
    ] == [1]
    assert small("session", "list", "--offset", "3", "--json").json() == []
    days = small("session", "list", "--from", "2030-03-04", "--to", "2030-06-01", "--json").json()
    assert [row["id"] for row in days] == [1, 2]
    assert [r["id"] for r in small("session", "list", "--to", "2030-01-02", "--json").json()] == [3]
    assert [
        r["email"]
        for r in small("person", "list", "--limit", "2", "--offset", "1", "--json").json()
    ] == [
        "bob@example.test",
        "learner@example.test",
    ]
    avail = small(
        "available", SMALL_LEARNER, "--from", "2030-02-01", "--limit", "1", "--json"
    ).json()
    assert [row["id"] for row in avail] == [1]


def refused(result: Result, field: str) -> None:
    """Exit 1 with one ``error:`` line naming `field`, nothing on stdout."""
    assert result.code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert field in lines[0], result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["session", "list", "--limit", "ten"], "limit"),
        (["session", "list", "--limit", "0"], "limit"),
        (["session", "list", "--offset", "-1"], "offset"),
        (["session", "list", "--from", "2030-13-01"], "from"),
        (["session", "list", "--to", "tomorrow"], "to"),
        (["session", "list", "--from", "2030-02-01", "--to", "2030-01-01"], "to"),
        (["available", SMALL_LEARNER, "--limit", "x", "--json"], "limit"),
        (["available", SMALL_LEARNER, "--from", "01/02/2030"], "from"),
        (["person", "list", "--offset", "1.5"], "offset"),
        (["person", "list", "--limit", "-3", "--json"], "limit"),
        (["mail", "outbox", "--since", "yesterday", "--json"], "since"),
        (["mail", "inbound", "--since", "2030-02-30"], "since"),
    ],
)
def test_bad_paging_flags_are_refused(small: Runner, args: list[str], field: str) -> None:
    refused(small(*args), field)


class QueryCounter:
    """Counts the statements sent to the database (every backend goes through execute_sql)."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> QueryCounter:
        self._patch = pytest.MonkeyPatch()
        original = peewee.Database.execute_sql
        counter = self

        def counted(db: peewee.Database, sql: str, *args: object, **kwargs: object) -> object:
            counter.count += 1
            return original(db, sql, *args, **kwargs)

        self._patch.setattr(peewee.Database, "execute_sql", counted)
        return self

    def __exit__(self, *exc: object) -> None:
        self._patch.undo()


def queries_of(url: str, args: list[str]) -> tuple[int, str]:
    """Run one command in-process on `url`; the number of statements and its stdout."""
    with QueryCounter() as counter:
        result = CliRunner().invoke(main, ["--db", url, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    close_database()
    return counter.count, result.output


def bulk_database(url: str, sessions: int) -> None:
    open_database(url)
    bulk_sessions(sessions)
    close_database()


COUNTED = {
    "session list": ["session", "list", "--json"],
    "available": ["available", BULK_FREE, "--json"],
    "person list": ["person", "list", "--json"],
    "session show": ["session", "show", "FIRST", "--json"],
}


def test_query_count_does_not_grow_with_rows(
    db_url: str, settings: Settings, second_database: str
) -> None:
    """10 and 1,000 rows printed (sessions, people, attendees of a session) cost the same queries.

    1,000 rows is one page (`store.paging.PAGE_SIZE`); longer lists cost one more set per page.
    """
    counts: dict[str, list[int]] = {command: [] for command in COUNTED}
    for url, rows in ((db_url, 10), (second_database, 1000)):
        open_database(url)
        # The crowd on the first session makes the people `rows` in all, one page of them.
        bulk_sessions(rows, crowd=rows - 4)
        first = Session.select(peewee.fn.MIN(Session.id)).scalar()
        close_database()
        for command, args in COUNTED.items():
            count, output = queries_of(url, [str(first) if a == "FIRST" else a for a in args])
            data = json.loads(output)
            printed = len(data["enrolments"]) + 2 if command == "session show" else len(data)
            assert printed == rows, (command, printed)
            counts[command].append(count)
    assert all(small == large for small, large in counts.values()), counts


@pytest.fixture
def second_database(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second fresh database on the backend of `db_url`."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    url: str = server.create_database()
    yield url
    close_database()
    server.drop_database(url.rsplit("/", 1)[1])


MEMORY_CEILING_MB = 100
"""Peak RSS of `session list --json` over 20,000 sessions; the whole list in memory took ~180 MB."""


def peak_rss_mb(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Run `rollcall` as the only child of a fresh Python; its peak RSS (MB) and stdout size."""
    probe = (
        "import resource, subprocess, sys\n"
        "out = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, check=True).stdout\n"
        "ok = out.startswith(b'[') and out.rstrip().endswith(b']')\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, len(out) if ok else -1)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, rollcall_executable(), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    )
    kilobytes, size = done.stdout.split()
    return int(kilobytes) / 1024, int(size)


def test_session_list_memory_stays_flat(tmp_path: Path, settings: Settings) -> None:
    url = f"sqlite:///{tmp_path / 'big.db'}"
    open_database(url)
    bulk_sessions(20_000)
    close_database()
    database.initialize(None)
    env = {**os.environ, "ROLLCALL_DB": url}
    peak, size = peak_rss_mb(["session", "list", "--json"], env)
    assert size > 20_000 * 500, size  # every session was written
    assert peak < MEMORY_CEILING_MB, f"peak RSS {peak:.0f} MB"


LONG_LIST = 2_500
"""Sessions of the long-list test: three pages, the middle one written by a second process."""


def json_array(texts: Iterator[str]) -> str:
    """What the list commands print for items already encoded (`cli.context.emit_json_texts`)."""
    items = list(texts)
    return "[\n  " + ",\n  ".join(items) + "\n]\n" if items else "[]\n"


def test_long_lists_print_what_one_process_prints(db_url: str, settings: Settings) -> None:
    """Lists longer than a page are shared with a forked process; not one byte changes.

    The command runs as a real process; what it prints is compared with the pages made one
    after another in this one, on SQLite and on PostgreSQL.
    """
    open_database(db_url)
    bulk_sessions(LONG_LIST, with_enrolments=1)
    now = utcnow()
    every = sessions_query()
    free = available_query(get_person(BULK_FREE), now)
    expected = {
        ("session", "list", "--json"): json_array(session_texts(every, now)),
        ("session", "list", "--limit", "1500", "--offset", "700", "--json"): json_array(
            session_texts(every, now, limit=1500, offset=700)
        ),
        ("available", BULK_FREE, "--json"): json_array(session_texts(free, now)),
    }
    close_database()
    database.initialize(None)
    env = {**os.environ, "ROLLCALL_DB": db_url, "ROLLCALL_TIMEZONE": "Europe/London"}
    for args, text in expected.items():
        done = subprocess.run(
            [rollcall_executable(), *args], capture_output=True, env=env, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.decode() == text, args
    assert expected["session", "list", "--json"].count('"id": ') == LONG_LIST
