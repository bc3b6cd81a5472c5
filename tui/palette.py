"""The command palette: every area, and every action of the screen it was opened on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.screen import Screen

from screens.plain import clean


def literal(value: str) -> Content:
    """Palette wording as literal content (the palette reads a ``str`` as markup)."""
    return Content(clean(value, one_line=True))


FRAMEWORK_ACTIONS = frozenset(
    binding.action for binding in Binding.make_bindings([*Screen.BINDINGS, *App.BINDINGS])
)
"""Textual's own keys (focus moves, copying, quitting): covered once in the help."""


def own_binding(binding: Binding) -> bool:
    """A key rollcall gave the screen (not one of Textual's, not an area switch)."""
    if not binding.description or binding.action in FRAMEWORK_ACTIONS:
        return False
    return not binding.action.startswith("switch_area")


def _wanted(binding: Binding, seen: set[str]) -> bool:
    """A screen's own action worth a palette entry (each once, not the app's)."""
    if binding.action in seen or not own_binding(binding):
        return False
    return not binding.action.startswith(("help", "app."))


class RollcallCommands(Provider):
    """``screen: People``, ``people: new``, ``reports: export csv``, ``app: help``... made from
    the bindings of the screen it was opened on and of every area's screen."""

    _made: list[tuple[str, Callable[[], Any], str]] | None = None

    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        # Made once per opening of the palette, not again for each key typed in it.
        if self._made is None:
            self._made = self._make_commands()
        return self._made

    def _make_commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        app: Any = self.app
        commands: list[tuple[str, Callable[[], Any], str]] = []
        screen = self.screen
        group = (getattr(screen, "BINDING_GROUP_TITLE", None) or "screen").lower()
        seen: set[str] = set()
        # This screen's actions first, as they stand now (the focused widget's keys are not
        # actions of the app and stay out).
        for info in screen.active_bindings.values():
            binding = info.binding
            if info.node is not screen or not _wanted(binding, seen):
                continue
            seen.add(binding.action)
            commands.append(
                (
                    f"{group}: {binding.description.lower()}",
                    partial(_run, app, screen, binding.action),
                    f"key {app.get_key_display(binding)}",
                )
            )
        # The app's own (send and poll now) run from anywhere, without going to Mail.
        titles = {title for title, _, _ in commands}
        extra = getattr(app, "palette_commands", None)
        for title, call, help_text in extra() if extra is not None else []:
            if title not in titles:
                commands.append((title, call, help_text))
                titles.add(title)
        for area in getattr(app, "areas", []):
            commands.append(
                (f"screen: {area.title}", partial(app.action_switch_area, area.name), "go there")
            )
            kind = area.load()
            if isinstance(screen, kind):
                continue
            name = (getattr(kind, "BINDING_GROUP_TITLE", None) or area.title).lower()
            done: set[str] = set()
            for binding in Binding.make_bindings(kind.BINDINGS):
                title = f"{name}: {binding.description.lower()}"
                if not _wanted(binding, done) or title in titles:
                    continue
                done.add(binding.action)
                commands.append(
                    (
                        title,
                        partial(_run_in_area, app, area.name, binding.action),
                        f"{area.key} then {app.get_key_display(binding)}",
                    )
                )
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


async def _run(app: Any, node: Any, action: str) -> None:
    # Through the app, so a key that cannot run now says why.
    await app.run_action(action, node)


async def _run_in_area(app: Any, area: str, action: str) -> None:
    """Go to the area's main list, then run one of its actions there."""
    await app.action_switch_area(area)
    await app.run_action(action, app.screen)
