"""Text made safe to print on a terminal: no escape sequences, no control characters.

Stored text may have arrived by a way that did not clean it (PostgreSQL, a
direct write, an old release); printed raw, an OSC or CSI sequence in a
title could retitle the terminal, write the clipboard or clear the screen.
"""

from __future__ import annotations

import re

_SEQUENCES = re.compile(
    r"""
    (?:\x1b\]|\x9d) [^\x07\x1b\x9c]* (?:\x07|\x1b\\|\x9c)?   # OSC ... BEL/ST
    | (?:\x1b[P^_X]|[\x90\x9e\x9f\x98]) [^\x1b\x9c]* (?:\x1b\\|\x9c)?   # DCS, PM, APC, SOS
    | (?:\x1b\[|\x9b) [0-?]* [ -/]* [@-~]?                  # CSI
    | \x1b [ -/]* [0-~]?                                     # other ESC sequences
    """,
    re.VERBOSE,
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """`text` without terminal escape sequences and control characters (``\\n``, ``\\t`` kept)."""
    value = "" if text is None else str(text)
    if value.isprintable():
        return value
    return _CONTROLS.sub("", _SEQUENCES.sub("", value))
