"""Input checks shared by the rules; each raises `ValidationError` naming the field."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import TypeVar
from urllib.parse import urlparse

from store.errors import ValidationError

T = TypeVar("T")

_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\.]+(\.[^@\s<>(),;:\"\[\]\\.]+)+$")


def clean_text(value: str | None) -> str:
    """Trim and drop control characters (terminal escapes included) from one-line text."""
    if value is None:
        return ""
    return "".join(ch for ch in value if unicodedata.category(ch)[0] != "C").strip()


def clean_multiline(value: str | None) -> str:
    """Like `clean_text` but keeps newlines and tabs."""
    if value is None:
        return ""
    return "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C").strip()


def long_text(value: str | None, field: str, max_length: int = 10_000) -> str:
    """Multi-line text (a description, notes) of at most `max_length` characters."""
    text = clean_multiline(value)
    if len(text) > max_length:
        raise ValidationError(f"{field} is longer than {max_length} characters", field=field)
    return text


def at_most(items: Sequence[T], field: str, limit: int) -> Sequence[T]:
    """`items` unless there are more than `limit` of them (visibility values, materials)."""
    if len(items) > limit:
        raise ValidationError(f"{field}: at most {limit} values, got {len(items)}", field=field)
    return items


def required_text(value: str | None, field: str, max_length: int = 200) -> str:
    """A non-empty single-line text of at most `max_length` characters."""
    text = clean_text(value)
    if not text:
        raise ValidationError(f"{field} is required", field=field)
    if len(text) > max_length:
        raise ValidationError(f"{field} is longer than {max_length} characters", field=field)
    return text


def optional_text(value: str | None, field: str, max_length: int = 200) -> str:
    """A possibly empty single-line text of at most `max_length` characters."""
    text = clean_text(value)
    if len(text) > max_length:
        raise ValidationError(f"{field} is longer than {max_length} characters", field=field)
    return text


def email_address(value: str | None, field: str = "email") -> str:
    """A syntactically valid email address, trimmed."""
    text = clean_text(value)
    if not text:
        raise ValidationError(f"{field} is required", field=field)
    if len(text) > 320 or not _EMAIL.match(text):
        raise ValidationError(f"{field} {text!r} is not a valid email address", field=field)
    return text


def url(value: str | None, field: str) -> str:
    """An absolute http(s) URL."""
    text = clean_text(value)
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in text:
        raise ValidationError(f"{field} {text!r} is not an http(s) URL", field=field)
    if len(text) > 2000:
        raise ValidationError(f"{field} is longer than 2000 characters", field=field)
    return text


def parse_date(value: str | date | None, field: str = "date") -> date:
    """A calendar date written YYYY-MM-DD."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = clean_text(value if isinstance(value, str) else None)
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{field} {text!r} is not a date (use YYYY-MM-DD)", field=field
        ) from None


def parse_time(value: str | time | None, field: str = "start") -> time:
    """A time of day written HH:MM (24-hour clock)."""
    if isinstance(value, time):
        return value
    text = clean_text(value)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValidationError(
            f"{field} {text!r} is not a time of day (use HH:MM, 24-hour)", field=field
        )
    return time(int(match[1]), int(match[2]))


def positive_int(value: int | str | None, field: str, *, allow_zero: bool = False) -> int:
    """A whole number greater than zero (or zero, when allowed)."""
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise ValidationError(f"{field} {value!r} is not a whole number", field=field) from None
    if number < 0 or (number == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "greater than zero"
        raise ValidationError(f"{field} must be {bound}, got {number}", field=field)
    return number
