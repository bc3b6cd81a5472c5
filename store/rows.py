"""Read models from query rows, and back to JSON: the fields named alike are copied by name."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Any


def picked(source: object, *names: str) -> dict[str, Any]:
    """The attributes `names` of `source` as keyword arguments, for a read model whose fields
    are named like the query row's columns."""
    return {name: getattr(source, name) for name in names}


def json_fields(source: Any, *names: str) -> dict[str, Any]:
    """The attributes `names` of `source` in that order (by default every field of the
    dataclass `source`), dates and datetimes as ISO 8601 text: a read model's JSON object
    whose keys are its field names."""
    names = names or tuple(f.name for f in fields(source))
    return {
        name: value.isoformat() if isinstance(value, date) else value
        for name, value in picked(source, *names).items()
    }
