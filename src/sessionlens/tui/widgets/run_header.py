"""The run pane's status line."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class RunHeader(Widget):
    """One line of status: what matters on the left, the command in the middle (cut to fit),
    key hints on the right; repainted in place (a ``Static`` update lays out the screen)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.parts: tuple[Text, Text, Text] = (Text(), Text(), Text())

    def set_parts(self, left: Text, middle: Text, right: Text) -> None:
        self.parts = (left, middle, right)
        self.refresh()

    def render(self) -> Text:
        left, middle, right = (part.copy() for part in self.parts)
        width = self.size.width
        room = width - left.cell_len - right.cell_len - 4
        if room < 8:  # narrow: drop the hints before the command
            right = Text()
            room = width - left.cell_len - 2
        middle.truncate(max(0, room), overflow="ellipsis")
        text = Text.assemble(left, "  ", middle)
        if right:
            text.append(" " * max(2, width - text.cell_len - right.cell_len))
            text.append_text(right)
        text.truncate(width, overflow="ellipsis")
        return text
