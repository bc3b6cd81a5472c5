"""Parsed stylesheets kept between starts of the app, so a start does not parse the same TCSS.

Textual parses every stylesheet the first screen uses (the app's files and each widget's
default CSS) at every start: tens of milliseconds, a tenth of the time to the first rows.
The parsed rules are stored in the user's cache directory, in a file named after what
parsing depends on (the installed Textual, Python's version, the theme's variables); each entry
is keyed by the CSS text itself, so an edited stylesheet is parsed again.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from collections.abc import Hashable, Mapping
from pathlib import Path

from textual.css import model, parse, styles
from textual.css.stylesheet import Stylesheet

from store.private_files import private_umask


def _parser_stamp() -> list[tuple[str, int, int]]:
    """Which Textual parses: its parser's and rules' files as installed (asking the package
    metadata for its version costs more than the parsing saved)."""
    stamp = []
    for module in (parse, model, styles):
        found = os.stat(module.__file__ or "")
        stamp.append((module.__name__, found.st_size, found.st_mtime_ns))
    return stamp


def cache_file(variables: Mapping[str, str]) -> Path:
    """Where the rules parsed with `variables` are kept."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    what = repr((_parser_stamp(), sys.version_info[:2], sorted(variables.items())))
    return base / "rollcall" / f"styles-{hashlib.sha256(what.encode()).hexdigest()[:20]}.pickle"


def load(stylesheet: Stylesheet) -> set[Hashable]:
    """Give `stylesheet` the rules parsed by an earlier start; the keys it was given."""
    loaded: set[Hashable] = set()
    try:
        entries = pickle.loads(cache_file(stylesheet._variables).read_bytes())  # noqa: S301 - the user's own cache
        for key, rules in entries:
            stylesheet._parse_cache[key] = rules
            loaded.add(key)
    except Exception:  # noqa: BLE001 - missing, unreadable or stale: the styles are parsed as usual
        return set()
    return loaded


def save(stylesheet: Stylesheet, loaded: set[Hashable]) -> None:
    """Keep what `stylesheet` parsed, when it parsed more than `load` gave it."""
    cache = stylesheet._parse_cache
    keys = list(cache.keys())
    if set(keys) <= loaded:
        return
    path = cache_file(stylesheet._variables)
    entries = [(key, cache.get(key)) for key in keys]
    try:
        with private_umask():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{path.name}.{os.getpid()}")
            partial.write_bytes(pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL))
            partial.replace(path)
    except OSError:
        return  # only a cache: the next start parses again
