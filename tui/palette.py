"""The command palette: every area, and every action of the screen it was opened on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from screens.plain import clean


def literal(value: str) -> Content:
    """Palette wording as literal content (the palette reads a ``str`` as markup)."""
    return Content(clean(value, one_line=True))


class RollcallCommands(Provider):
    """``screen: People``, ``session: new``, ``app: help``... generated from the bindings."""

    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        app: Any = self.app
        commands: list[tuple[str, Callable[[], Any], str]] = []
        for area in getattr(app, "areas", []):
            commands.append(
                (f"screen: {area.title}", partial(app.action_switch_area, area.name), "go there")
            )
        screen = self.screen
        group = (getattr(screen, "BINDING_GROUP_TITLE", None) or "screen").lower()
        seen: set[str] = set()
        for info in screen.active_bindings.values():
            binding = info.binding
            if not binding.description or binding.action in seen:
                continue
            if binding.action.startswith(("switch_area", "help", "app.")):
                continue
            seen.add(binding.action)
            node = info.node
            commands.append(
                (
                    f"{group}: {binding.description.lower()}",
                    partial(_run, node, binding.action),
                    f"key {app.get_key_display(binding)}",
                )
            )
        titles = {title for title, _, _ in commands}
        extra = getattr(app, "palette_commands", None)
        for title, call, help_text in extra() if extra is not None else []:
            if title not in titles:
                commands.append((title, call, help_text))
        commands.append(("app: help", app.action_help, "key ?"))
        commands.append(("app: light/dark theme", app.action_toggle_dark, "key f2"))
        commands.append(("app: quit", app.exit, "ctrl+q"))
        return commands

    async def discover(self) -> Hits:
        """Everything, before anything is typed."""
        for title, call, help_text in self._commands():
            yield DiscoveryHit(literal(title), call, text=title, help=help_text)

    async def search(self, query: str) -> AsyncIterator[Hit]:
        """Commands whose title matches what was typed."""
        matcher = self.matcher(query)
        for title, call, help_text in self._commands():
            score, offsets = matcher.fuzzy_search.match(matcher.query, title)
            if score > 0:
                # Matcher.highlight would read the title as markup; stylize literal text.
                shown = literal(title)
                for offset in offsets:
                    if offset < len(shown.plain) and not title[offset].isspace():
                        shown = shown.stylize(matcher.match_style, offset, offset + 1)
                yield Hit(score, shown, call, text=title, help=help_text)


async def _run(node: Any, action: str) -> None:
    await node.run_action(action)
