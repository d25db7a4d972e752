"""Command palette provider: every key action of the current screen, reachable by name.

Commands come from the same bindings as the keys (``keys.py``) plus the extra commands a screen
offers through ``palette_commands()`` (e.g. "Sort by branch"), so nothing needs a key to be found.
Titles can hold store text (a metric's name in "Sort by metric.NAME"): they are shown as plain
content, sanitized, never parsed as markup (Textual's own highlighter would parse them).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content
from textual.markup import escape

from sessionlens.tui.keys import key_actions
from sessionlens.tui.text import visible

Command = tuple[str, str, Callable[[], object]]


class SessionLensCommands(Provider):
    """The actions of the screen the palette was opened on, then the app's."""

    def _commands(self) -> list[Command]:
        screen = self.screen
        commands: list[Command] = []
        for item in key_actions(screen, self.app):
            keys = "/".join(item.keys)
            commands.append(
                (item.title, f"key: {keys}", partial(item.node.run_action, item.action))
            )
        extra = getattr(screen, "palette_commands", None)
        if callable(extra):
            commands.extend(extra())
        seen: set[str] = set()
        return [c for c in commands if not (c[0] in seen or seen.add(c[0]))]

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(Content(visible(title)), callback, help=escape(visible(help_text)))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            shown = visible(title)
            score = matcher.match(shown)
            if score > 0:
                shown_help = escape(visible(help_text))
                yield Hit(score, highlight(matcher, shown), callback, help=shown_help)


def highlight(matcher: Matcher, text: str) -> Content:
    """``text`` as plain content with the matched characters styled (``Matcher.highlight``
    reads its candidate as markup)."""
    content = Content(text)
    score, offsets = matcher.fuzzy_search.match(matcher.query, text)
    if score:
        for offset in offsets:
            if not text[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
