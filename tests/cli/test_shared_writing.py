"""A long JSON list written by two processes: same bytes, pages in order, failures reported."""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
from collections.abc import Iterator

import pytest

from cli.shared_writing import emit_json_pages
from store.errors import NotFound, PlaceClash, ServiceUnavailable, StorageError
from store.paging import Key, Row

PAGE = 10
Captured = pytest.CaptureFixture[bytes]


class NumberedPages:
    """Rows 0..total-1 in pages of `PAGE`; each row's text names the process that made it."""

    def __init__(
        self,
        total: int,
        *,
        broken: str | None = None,
        broken_page: int = 3,
        error: Exception | None = None,
    ) -> None:
        self.total = total
        self.broken = broken
        self.broken_page = broken_page
        self.error = error or ValueError(f"page {broken_page} is unreadable")
        self.parent = os.getpid()

    def take(self, after: Key | None, left: int | None) -> tuple[list[Row], Key | None, int | None]:
        first = 0 if after is None else after[1] + 1
        size = PAGE if left is None else min(PAGE, left)
        rows: list[Row] = [(n, n) for n in range(first, min(first + size + 1, self.total))]
        more = len(rows) > size
        del rows[size:]
        if left is not None:
            left -= len(rows)
        going_on = more and (left is None or left > 0)
        return rows, (rows[-1][0], rows[-1][1]) if going_on else None, left

    def texts(self, page: list[Row]) -> Iterator[str]:
        in_child = os.getpid() != self.parent
        if page and page[0][1] // PAGE == self.broken_page:
            if self.broken == "child" and in_child:
                raise self.error
            if self.broken == "parent" and not in_child:
                raise ValueError("the parent's page is unreadable")
            if self.broken == "killed" and in_child:
                os.kill(os.getpid(), signal.SIGKILL)
        for _, n in page:
            yield f'{{\n    "n": {n},\n    "pid": {os.getpid()}\n  }}'


@pytest.fixture
def stdout(capsysbinary: Captured) -> Captured:
    """The bytes written to stdout (a text stream over a binary one, as a pipe's)."""
    return capsysbinary


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the processes forked (in the parent)."""
    made: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            made.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return made


def written(out: Captured) -> str:
    sys.stdout.flush()
    return out.readouterr().out.decode()


def reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def expected_layout(items: list[dict[str, int]]) -> str:
    """What `emit_json` writes for `items` (indent 2, one JSON document)."""
    return json.dumps(items, indent=2) + "\n"


@pytest.mark.parametrize(("total", "limit"), [(95, None), (100, None), (95, 37), (95, 40)])
def test_pages_alternate_between_two_processes_in_order(
    stdout: Captured, forks: list[int], total: int, limit: int | None
) -> None:
    emit_json_pages(NumberedPages(total), limit, lambda: None)
    text = written(stdout)
    items = json.loads(text)
    assert text == expected_layout(items)
    assert [item["n"] for item in items] == list(range(limit or total))
    assert [reaped(pid) for pid in forks] == [True]
    assert gc.get_freeze_count() == 0  # collections walk every object again
    makers = [items[k]["pid"] for k in range(0, len(items), PAGE)]
    assert makers[0::2] == [os.getpid()] * len(makers[0::2])
    assert makers[1::2] == forks * len(makers[1::2])


@pytest.mark.parametrize(
    ("total", "limit", "reconnect"), [(10, None, True), (95, 10, True), (95, None, False)]
)
def test_one_page_or_no_second_connection_stays_in_one_process(
    stdout: Captured, forks: list[int], total: int, limit: int | None, reconnect: bool
) -> None:
    emit_json_pages(NumberedPages(total), limit, (lambda: None) if reconnect else None)
    items = json.loads(written(stdout))
    assert len(items) == (limit or total)
    assert forks == []
    assert {item["pid"] for item in items} == {os.getpid()}


def test_empty_list_is_an_empty_array(stdout: Captured, forks: list[int]) -> None:
    emit_json_pages(NumberedPages(0), None, lambda: None)
    assert written(stdout) == "[]\n"
    assert forks == []


def test_the_childs_error_is_raised_in_the_parent(stdout: Captured, forks: list[int]) -> None:
    with pytest.raises(ValueError, match="page 3 is unreadable"):
        emit_json_pages(NumberedPages(95, broken="child"), None, lambda: None)
    assert [reaped(pid) for pid in forks] == [True]


@pytest.mark.parametrize(
    "error",
    [
        StorageError("/srv/rollcall.db", "disk I/O error"),
        ServiceUnavailable("database", "connection refused"),
        NotFound("no session 7", field="session"),
        PlaceClash("Room 1 is booked", 12),
    ],
)
def test_the_childs_rollcall_errors_arrive_as_they_were(
    stdout: Captured, forks: list[int], error: Exception
) -> None:
    """The CLI turns them into their exit code and one line: the same line as in one process."""
    with pytest.raises(type(error)) as raised:
        emit_json_pages(NumberedPages(95, broken="child", error=error), None, lambda: None)
    assert str(raised.value) == str(error)
    assert vars(raised.value) == vars(error)
    assert [reaped(pid) for pid in forks] == [True]


def test_the_child_is_stopped_when_the_parent_fails(stdout: Captured, forks: list[int]) -> None:
    with pytest.raises(ValueError, match="parent's page"):
        emit_json_pages(NumberedPages(95, broken="parent", broken_page=2), None, lambda: None)
    assert [reaped(pid) for pid in forks] == [True]


def test_a_killed_child_is_a_clear_error(stdout: Captured, forks: list[int]) -> None:
    with pytest.raises(ServiceUnavailable, match="second process writing the list ended"):
        emit_json_pages(NumberedPages(95, broken="killed"), None, lambda: None)
    assert [reaped(pid) for pid in forks] == [True]
