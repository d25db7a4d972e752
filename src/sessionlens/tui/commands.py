"""Command palette provider: every key action of the current screen, reachable by name.

Commands come from the same bindings as the keys (``keys.py``) plus the extra commands a screen
offers through ``palette_commands()`` (e.g. "Sort by branch"), so nothing needs a key to be found.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from sessionlens.tui.keys import key_actions

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
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
