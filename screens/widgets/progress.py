"""Pathway progress as text: a bar per pathway and a tick per requirement."""

from __future__ import annotations

from typing import Any

from rich.markup import escape


def progress_text(rows: list[dict[str, Any]]) -> str:
    """Pathway progress as Rich markup: a bar per pathway and a tick per requirement."""
    if not rows:
        return "No learning pathways yet."
    lines = []
    for p in rows:
        filled = p["percent"] // 10
        bar = "█" * filled + "░" * (10 - filled)
        lines.append(f"[b]{escape(p['name'])}[/b]  {bar} {p['percent']}%")
        for r in p["requirements"]:
            mark = "[green]✓[/green]" if r["done"] else "[dim]·[/dim]"
            elearning = r["kind"] == "elearning" and "e-learning" not in r["label"].lower()
            kind = " (e-learning)" if elearning else ""
            mode = " (any one)" if r["mode"] == "any" else ""
            lines.append(f"  {mark} {escape(r['label'])}{kind}{mode}")
    return "\n".join(lines)
