"""Paging through a long log: the audit and the inbound log turn pages the same way."""

from __future__ import annotations

from screens.base import Pager


def test_turning_pages_stops_at_both_ends() -> None:
    pager = Pager(100, total=250)
    assert pager.span(100) == "1–100 of 250"
    assert pager.turn(1)
    assert pager.start == 100
    assert pager.turn(1)
    assert pager.start == 200
    assert pager.span(50) == "201–250 of 250"
    assert not pager.turn(1)
    assert pager.start == 200
    assert pager.turn(-5)
    assert pager.start == 0


def test_an_empty_log_shows_nothing_and_does_not_turn() -> None:
    pager = Pager(100)
    assert pager.span(0) == "0–0 of 0"
    assert not pager.turn(1)
    assert pager.start == 0
