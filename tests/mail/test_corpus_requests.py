"""Every real-client REQUEST in the corpus passes the reader that checks our invitations."""

from __future__ import annotations

from pathlib import Path

import pytest
from icalendar import Calendar

from tests.mail.checks import calendar_data, parse

CORPUS = Path(__file__).resolve().parent.parent / "data" / "imip-requests"
FILES = sorted(p for p in CORPUS.rglob("request-*") if p.suffix in (".eml", ".ics"))


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 25


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_request_parses_with_our_reader(path: Path) -> None:
    raw = path.read_bytes()
    if path.suffix == ".ics":
        blobs = [raw]
    else:
        # Some stored samples start with blank space before the headers.
        blobs = [data for _, data in calendar_data(parse(raw.lstrip()))]
    assert blobs, "no calendar part found"
    for blob in blobs:
        cal = Calendar.from_ical(blob)
        methods = (
            {str(m).upper() for m in cal.get("METHOD", [])}
            if isinstance(cal.get("METHOD"), list)
            else {str(cal.get("METHOD", "")).upper()}
        )
        assert "REQUEST" in methods
        events = list(cal.walk("VEVENT"))
        assert events
        assert all(e.get("UID") for e in events)
        assert all("DTSTART" in e for e in events)
