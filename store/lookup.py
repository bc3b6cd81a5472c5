"""Rows looked up by id, with errors that name the field the id came from."""

from __future__ import annotations

from typing import TypeVar

from peewee import Model

from store.errors import NotFound, ValidationError

M = TypeVar("M", bound=Model)


def by_id(model: type[M], value: int | str, field: str, noun: str) -> M:
    """The `model` row whose id is `value`.

    `ValidationError` when `value` is not a whole number, `NotFound` when no
    row has it; both name `field` and call the row a `noun` ("session").
    """
    try:
        key = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{field} {value!r} is not a {noun} id", field) from None
    row = model.get_or_none(model._meta.primary_key == key)
    if row is None:
        raise NotFound(f"no {noun} with id {key}", field=field)
    return row
