"""One case-folding rule for every comparison: Python, SQLite and PostgreSQL alike.

SQLite's ``LOWER()`` folds only ASCII and PostgreSQL's depends on the
database's locale, while Python's ``str.lower()`` folds everything, so a
lookup and a unique index could disagree. Instead the store keeps a folded
copy of each compared value in a ``*_key`` column, computed here in Python
on every write, and compares only those columns: the database then needs
nothing but byte equality and ``LIKE`` with no case rule of its own.

The rule is NFKC, then ``str.casefold()``, then NFKC again (Unicode's
NFKC_Casefold in effect): compatibility forms (full-width letters,
ligatures such as "ﬁ") and composed/decomposed accents compare equal, and
"ß" equals "ss" the way a reader would expect.
"""

from __future__ import annotations

import unicodedata

import peewee

SEPARATOR = "\x1f"
"""Joins the fields of a search key; a search term never contains it."""


def fold(text: str | None) -> str:
    """The comparison key of `text`: NFKC-normalised and case-folded."""
    if not text:
        return ""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def place_key(place: str | None) -> str:
    """The key of a place: folded, with runs of spaces as one ("Room  1 " is "room 1")."""
    return " ".join(fold(place).split())


def search_key(*fields: str | None) -> str:
    """The folded fields joined by a separator no search term can contain."""
    return SEPARATOR.join(fold(f) for f in fields)


def contains(column: peewee.Field, term: str) -> peewee.NodeList:
    """`column` (a folded key) contains `term` folded; ``%``, ``_`` and ``\\`` match themselves.

    Control characters (which cannot be typed into a search and include the
    key separator) are dropped from the term. Plain LIKE suffices because
    both sides are folded already; on PostgreSQL it is case-sensitive, on
    SQLite case-insensitive for ASCII, which folded text makes the same.
    """
    clean = "".join(ch for ch in fold(term) if unicodedata.category(ch) != "Cc")
    escaped = clean.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    # Spelled out: peewee's OP.LIKE is GLOB on SQLite.
    return peewee.NodeList(
        (
            column,
            peewee.SQL("LIKE"),
            peewee.Value(f"%{escaped}%", converter=False),
            peewee.SQL("ESCAPE"),
            peewee.Value("\\", converter=False),
        ),
        parens=True,
    )
