"""Every key of a screen, gathered from the ``BINDINGS`` of the app, the screen and its widgets.

The help screen and the command palette read from here, so neither can fall out of date with
the bindings themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen

#: the command palette is opened by Textual itself; listed for the help screen
PALETTE_KEY = "ctrl+p"


@dataclass(frozen=True)
class KeyAction:
    """One action and every key bound to it on one node."""

    node: DOMNode
    action: str
    keys: tuple[str, ...]
    description: str
    help: str

    @property
    def title(self) -> str:
        return self.help or self.description or self.action.replace("_", " ")


def _ours(node: DOMNode) -> bool:
    return type(node).__module__.startswith("sessionlens.")


def key_actions(screen: Screen[object], app: App[object]) -> list[KeyAction]:
    """The actions of ``screen`` (and its widgets) first, then the app's, in declaration order."""
    nodes: list[DOMNode] = [screen, *(w for w in screen.walk_children() if _ours(w))]
    nodes.append(app)
    result: list[KeyAction] = []
    for node in nodes:
        merged: dict[str, list[Binding]] = {}
        # only bindings a class declares itself, not those inherited from Textual's widgets
        own = type(node).__dict__.get("BINDINGS", [])
        for binding in Binding.make_bindings(own):
            merged.setdefault(binding.action, []).append(binding)
        for action, bindings in merged.items():
            first = bindings[0]
            keys = tuple(app.get_key_display(b) for b in bindings)
            result.append(KeyAction(node, action, keys, first.description, first.tooltip))
    seen: set[tuple[str, str]] = set()
    unique = []
    for item in result:  # one widget class can appear several times (e.g. two log views)
        key = (type(item.node).__name__, item.action)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique
