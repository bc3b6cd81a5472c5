"""What every scripting command shares: the context, error handling, exit codes, JSON output."""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol, TypeVar

import click

from store.errors import RollcallError, ServiceUnavailable
from store.settings import Settings


class AppOpener(Protocol):
    """Opens the Textual app for the settings, as a learner when given an email.

    `restricted` is for a forced command (no screenshots to files); with
    `kiosk_session` it opens that session's self check-in screen instead.
    """

    def __call__(
        self,
        settings: Settings,
        as_email: str | None,
        *,
        restricted: bool = False,
        kiosk_session: int | None = None,
    ) -> None:
        """Run the app until it is closed."""


F = TypeVar("F", bound=Callable[..., Any])

EXIT_RULE = 1
EXIT_USAGE = 2
EXIT_SERVICE = 3

ENCODING_HELP = (
    "Encoding of the CSV file (e.g. cp1252); detected when omitted: UTF-8 with or without"
    " a BOM, else Windows-1252."
)


@dataclass
class Context:
    """What every command gets: the settings and whether the database is open."""

    db_url: str | None
    config_path: str | None
    open_app: AppOpener | None = None
    _settings: Settings | None = None
    _opened: bool = False

    @property
    def settings(self) -> Settings:
        """Settings from the config file and environment, `--db` winning."""
        if self._settings is None:
            from store.settings import load_settings, use_settings

            self._settings = load_settings(self.config_path, db=self.db_url)
            use_settings(self._settings)
        return self._settings

    def open(self, *, migrate: bool = True) -> Settings:
        """Open (and, unless told not to, migrate) the database; returns the settings.

        A schema upgrade says on stderr where the copy taken before it is.
        """
        settings = self.settings
        if not self._opened:
            from store.access import actor_is_set, local_actor, set_actor
            from store.db import open_database

            open_database(
                settings.db,
                password=settings.db_secret(),
                migrate=migrate,
                notify=_note,
                busy_timeout=settings.busy_timeout,
            )
            self._opened = True
            # `rollcall shell` has already said who acts; otherwise the OS login does.
            if not actor_is_set():
                set_actor(local_actor(settings))
        return settings


def _note(message: str) -> None:
    click.echo(message, err=True)


def fail(message: str, code: int = EXIT_RULE) -> NoReturn:
    """Print one ``error:`` line and exit with `code`."""
    from store.printable import printable

    # One line, whatever stored text the message quotes.
    click.echo(f"error: {printable(message).replace(chr(10), ' ')}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn rule errors into exit 1, and unreachable services and storage errors into exit 3.

    Storage errors (disk full, read-only, locked) print one line naming the
    database, never a traceback.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RollcallError as exc:
            fail(str(exc), EXIT_RULE)
        except ServiceUnavailable as exc:
            fail(str(exc), EXIT_SERVICE)
        except Exception as exc:
            from store.db import as_storage_error

            storage = as_storage_error(exc)
            if storage is None:
                raise
            fail(str(storage), EXIT_SERVICE)

    return wrapper  # type: ignore[return-value]


def say(text: object) -> None:
    """Print a line for a person at a terminal, stored text made safe to print."""
    from store.printable import printable

    click.echo(printable(text))


def emit_json(data: Any) -> None:
    """Write exactly one JSON document to stdout."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def emit_json_rows(rows: Iterable[Any]) -> None:
    """Write one JSON array to stdout as the rows come, byte for byte what `emit_json` writes.

    Each row is encoded on its own and indented one level, so memory holds a few rows, not the
    list.
    """
    emit_json_texts(_indented(row, "\n  ") for row in rows)


def emit_json_texts(items: Iterable[str]) -> None:
    """Write one JSON array of items already encoded (indented one level) as they come.

    They go out in small batches: a write per item costs about what encoding one does.
    """
    out = sys.stdout
    opened = False
    batch: list[str] = []

    def send() -> None:
        nonlocal opened
        out.write(("," if opened else "[") + "\n  " + ",\n  ".join(batch))
        opened = True
        batch.clear()

    for item in items:
        batch.append(item)
        if len(batch) == _BATCH:
            send()
    if batch:
        send()
    out.write("\n]\n" if opened else "[]\n")
    out.flush()


_BATCH = 100
"""Rows encoded before they are written."""

_string = json.encoder.encode_basestring
"""The C string encoder `json.dumps(..., ensure_ascii=False)` uses."""


def _indented(value: Any, newline: str) -> str:
    """`value` as `json.dumps(value, ensure_ascii=False, indent=2)` writes it, nested at `newline`.

    `json.dumps` with an indent falls back to its pure-Python encoder; this writes the same
    bytes with the C string encoder, several times faster on long lists.
    """
    kind = type(value)
    if kind is str:
        return str(_string(value))
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    inner = newline + "  "
    if kind is dict:
        return _dict_text(value, newline) if value else "{}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        return (
            "[" + inner + ("," + inner).join([_indented(v, inner) for v in value]) + newline + "]"
        )
    return json.dumps(value, ensure_ascii=False)


_LAYOUTS: dict[tuple[tuple[Any, ...], str], str] = {}
"""A %-format layout per set of keys and depth seen: the rows of a list share one."""

_LAYOUTS_KEPT = 256
"""Layouts remembered; past that, a dictionary of a new shape is laid out on each use."""


def _dict_text(value: dict[Any, Any], newline: str) -> str:
    """A non-empty dictionary as `_indented` writes it.

    The keys and punctuation are the same for every row of a list: they are laid out once
    per shape, and each dictionary only encodes its values into the slots, the common kinds
    inline rather than by a call per value.
    """
    shape = (tuple(value), newline)
    inner = newline + "  "
    layout = _LAYOUTS.get(shape)
    if layout is None:
        members = [_string(str(key)).replace("%", "%%") + ": %s" for key in value]
        layout = "{" + inner + ("," + inner).join(members) + newline + "}"
        if len(_LAYOUTS) < _LAYOUTS_KEPT:
            _LAYOUTS[shape] = layout
    return layout % tuple(
        [
            _string(item)
            if (kind := type(item)) is str
            else "null"
            if item is None
            else int.__repr__(item)
            if kind is int
            else _indented(item, inner)
            for item in value.values()
        ]
    )


pass_ctx = click.make_pass_decorator(Context)

json_flag = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
"""The `--json` flag of every command that reports."""


def store_command(func: Callable[..., None]) -> Callable[..., None]:
    """A command body that works on the database: it gets the context with the database open.

    Rule errors become exit 1, unreachable services and storage errors exit 3
    (`handle_errors`), opening the database included.
    """

    @functools.wraps(func)
    def opened(ctx: Context, /, *args: Any, **kwargs: Any) -> None:
        ctx.open()
        func(ctx, *args, **kwargs)

    return pass_ctx(handle_errors(opened))


ALL_OR_NONE = "All rows or none: a bad row refuses the whole file, with its line number."


def csv_import_command(
    importer: Callable[[str], tuple[dict[str, Any], str]],
) -> Callable[..., None]:
    """An import command made of `importer`, which takes the file's text and returns what
    it did: the `--json` document and the line for a person. Its help ends with `ALL_OR_NONE`.

    The command takes FILE, `--encoding` and `--json`, opens the database, and reads the
    file (a leading ``~`` is the home directory; errors name the file).
    """

    @functools.wraps(importer)
    def command(ctx: Context, file: str, encoding: str | None, as_json: bool) -> None:
        from store.people import read_csv_file

        show(as_json, *importer(read_csv_file(file, encoding=encoding)))

    command.__doc__ = f"{inspect.cleandoc(importer.__doc__ or '')}\n\n{ALL_OR_NONE}"

    wrapped = json_flag(store_command(command))
    wrapped = click.option("--encoding", default=None, help=ENCODING_HELP)(wrapped)
    return click.argument("file", type=click.Path(dir_okay=False))(wrapped)


def show(as_json: bool, data: Any, text: object) -> None:
    """Print `data` as one JSON document with `--json`, else `text` for a person."""
    if as_json:
        emit_json(data)
    else:
        say(text)


def show_rows(
    as_json: bool,
    rows: Iterable[dict[str, Any]],
    line: Callable[[dict[str, Any]], object],
    *,
    empty: str | None = None,
) -> None:
    """Stream `rows` as one JSON array with `--json`, else one printed line per row.

    `empty` is said when there was no row (text only; JSON prints `[]`).
    """
    if as_json:
        emit_json_rows(rows)
        return
    seen = False
    for row in rows:
        seen = True
        say(line(row))
    if not seen and empty is not None:
        say(empty)
