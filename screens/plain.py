"""Stored text on screen as text: never read as markup, no terminal control codes.

Names, titles, places, departments, notes and replies are typed by people
(or arrive by mail) and may hold ``[``, ``[@click=…]``, ``[$error]`` or
``[link=…]``. Handed to a widget as ``str`` Textual parses them as markup:
they crash the screen (MarkupError), restyle it, or become live actions and
links; ``rich.markup.escape`` does not cover Textual's own ``@``/``$`` forms.
Every such string therefore reaches a widget as a ``rich.text.Text`` built
here. Control characters are cleaned at the same time so that an ESC or OSC
sequence cannot move the cursor, set a title or open a hyperlink in the
terminal; bidi marks stay (they are text) but never change styling.
"""

from __future__ import annotations

import re

from rich.text import Text

# ESC-introduced sequences: CSI (ESC [ … final), OSC/DCS/APC/PM/SOS (ESC ] … BEL or ST),
# and two-character escapes; their 8-bit forms (C1 CSI/OSC/DCS…) too.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]P^_X]|[\x90\x9d\x9e\x9f\x98])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)
# Other C0 controls (newline and tab are handled by the caller's choice), DEL and C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(value: object, *, one_line: bool = False) -> str:
    """`value` as a string with terminal escape sequences removed and other controls shown as �.

    Newlines and tabs are kept, or turned into spaces when `one_line`.
    """
    text = "" if value is None else str(value)
    text = _SEQUENCE.sub("", text)
    text = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text.replace("\r\n", "\n"))
    if one_line:
        text = text.replace("\n", " ").replace("\t", " ")
    return text


def plain(value: object, style: str = "", *, limit: int | None = None) -> Text:
    """`value` as literal `Text` in `style`: no markup, no control codes, one line.

    `limit` cuts it to that many characters with an ellipsis (long replies in tables).
    """
    text = clean(value, one_line=True)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return Text(text, style=style)


def block(value: object, style: str = "") -> Text:
    """Multi-line `value` (notes, descriptions) as literal `Text`; newlines and tabs kept."""
    return Text(clean(value), style=style)


def assemble(*parts: str | tuple[object, str] | Text) -> Text:
    """Text of literal parts: a ``str`` is fixed wording, ``(value, style)`` stored text styled.

    For lines that mix fixed labels with stored values, e.g.
    ``assemble(("Progress of ", "bold"), (email, "bold"))``.
    """
    out = Text()
    for part in parts:
        if isinstance(part, Text):
            out.append_text(part)
        elif isinstance(part, tuple):
            out.append_text(plain(part[0], part[1]))
        else:
            out.append(part)
    return out
