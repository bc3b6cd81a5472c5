"""Pathway progress as text: a bar per pathway and a tick per requirement."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from screens.plain import assemble


def progress_text(rows: list[dict[str, Any]]) -> Text:
    """Pathway progress as literal text: a bar per pathway and a tick per requirement."""
    if not rows:
        return Text("No learning pathways yet.")
    lines = []
    for p in rows:
        filled = p["percent"] // 10
        bar = "█" * filled + "░" * (10 - filled)
        lines.append(assemble((p["name"], "bold"), f"  {bar} {p['percent']}%"))
        for r in p["requirements"]:
            mark = ("✓", "green") if r["done"] else ("·", "dim")
            elearning = r["kind"] == "elearning" and "e-learning" not in r["label"].lower()
            kind = " (e-learning)" if elearning else ""
            mode = " (any one)" if r["mode"] == "any" else ""
            lines.append(assemble("  ", mark, " ", (r["label"], ""), kind, mode))
    return Text("\n").join(lines)
