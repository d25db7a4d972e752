"""The whole session record as a tree: nested dicts and lists, every value shown literally."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from sessionlens.tui.css import css_beside
from sessionlens.tui.text import literal
from sessionlens.wording import plural

#: containers with more children than this start collapsed
COLLAPSE_OVER = 40


def _scalar(value: Any) -> Text:
    if value is None:
        return Text("null", style="italic")
    if isinstance(value, bool):
        return Text("true" if value else "false", style="italic")
    if isinstance(value, int | float):
        return Text(repr(value))
    return literal(value)


class RecordTree(Tree[Any]):
    """``git > branch: main`` and so on; keys in the record's order."""

    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("record"), id=id)
        self.show_root = False

    def show_record(self, record: Mapping[str, Any]) -> None:
        self.clear()
        self._add(self.root, record)
        self.root.expand()

    def show_note(self, note: str) -> None:
        """In place of data there is none of: say so."""
        self.clear()
        self.root.add_leaf(Text(note, style="italic"))
        self.root.expand()

    def show_problem(self, problem: str) -> None:
        """In place of a record that cannot be read: why."""
        self.clear()
        label = Text("unreadable: ", style="bold")
        label.append_text(literal(problem))
        self.root.add_leaf(label)
        self.root.expand()

    def _add(self, node: TreeNode[Any], value: Any) -> None:
        items: list[tuple[str, Any]]
        if isinstance(value, Mapping):
            items = [(str(k), v) for k, v in value.items()]
        else:
            items = [(f"[{i}]", v) for i, v in enumerate(value)]
        for key, child in items:
            label = literal(key, "bold")
            if isinstance(child, Mapping | list | tuple):
                size = len(child)
                kind = "key" if isinstance(child, Mapping) else "item"
                label.append(f"  ({plural(size, kind)})", style="dim")
                branch = node.add(label, data=child, expand=size <= COLLAPSE_OVER)
                self._add(branch, child)
            else:
                label.append(": ")
                label.append_text(_scalar(child))
                node.add_leaf(label, data=child)
