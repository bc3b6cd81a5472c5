"""The streamed JSON writer of the list commands: byte for byte `json.dumps(indent=2)`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cli.context import emit_json, emit_json_rows, emit_json_texts
from tests.store.test_session_json import NASTY

ROWS: list[Any] = [
    {
        "id": 1,
        "text": NASTY,
        "none": None,
        "flags": [True, False],
        "empty": {"list": [], "dict": {}},
        "nested": {"values": [NASTY, 2, None, {"deep": [NASTY]}], "100%": "%s %d %%"},
        NASTY: -7,
    },
    {"id": 2, "text": "", "none": None, "flags": [], "empty": {}, "nested": {}, NASTY: 0},
    {"other": "shape", "3": 3},
    {},
    [],
    "a string row",
    None,
    12,
]


@pytest.mark.parametrize("rows", [ROWS, ROWS[:1], []])
def test_rows_are_written_as_json_dumps(
    rows: list[Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every kind of value, escapes, `%` in keys and values, across write batches of two."""
    monkeypatch.setattr("cli.context._BATCH", 2)
    emit_json_rows(iter(rows * 3))
    streamed = capsys.readouterr().out
    emit_json(rows * 3)
    assert streamed == capsys.readouterr().out
    assert streamed == json.dumps(rows * 3, ensure_ascii=False, indent=2) + "\n"


def test_texts_already_encoded_are_joined_as_one_array(
    capsys: pytest.CaptureFixture[str],
) -> None:
    emit_json_texts(iter(['{\n    "a": 1\n  }', '"b"']))
    assert capsys.readouterr().out == '[\n  {\n    "a": 1\n  },\n  "b"\n]\n'
    emit_json_texts(iter([]))
    assert capsys.readouterr().out == "[]\n"
