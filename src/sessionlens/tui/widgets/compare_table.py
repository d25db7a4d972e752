"""Two records aligned field by field (``compare.Comparison`` rows), differences highlighted.

Line-based like the session table: a fixed header, one line per flattened key, values cut to
their column (the full values are in the detail screen's JSON tab).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sessionlens.compare import MISSING, Comparison, Row
from sessionlens.tui.css import css_beside
from sessionlens.tui.palette import foreground
from sessionlens.tui.text import visible

KEY_MIN, KEY_MAX = 12, 40
ABSENT = "(absent)"


def value_text(value: Any) -> str:
    """One line for a value: strings as they are, everything else as JSON."""
    if value is MISSING:
        return ABSENT
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


class CompareTable(ScrollView, can_focus=True):
    """Key | left | right, with differing rows highlighted; ``d`` hides the equal ones."""

    DEFAULT_CSS = css_beside(__file__)

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "compare-table--header",
        "compare-table--key",
        "compare-table--differs",
        "compare-table--differs-key",
        "compare-table--absent",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.comparison: Comparison | None = None
        self.only_differences = False
        self.left_label = "A"
        self.right_label = "B"

    @property
    def rows(self) -> list[Row]:
        if self.comparison is None:
            return []
        return self.comparison.differing if self.only_differences else self.comparison.rows

    def show(self, comparison: Comparison, left_label: str, right_label: str) -> None:
        self.comparison = comparison
        self.left_label, self.right_label = left_label, right_label
        self._update_virtual_size()
        self.refresh()

    def set_only_differences(self, value: bool) -> None:
        self.only_differences = value
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._update_virtual_size()
        self.refresh()

    def on_resize(self) -> None:
        self._update_virtual_size()

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.rows) + 1)

    def _widths(self) -> tuple[int, int, int]:
        width = self.scrollable_content_region.width
        longest = max((cell_len(r.key) for r in self.rows), default=KEY_MIN)
        key = max(KEY_MIN, min(KEY_MAX, longest))
        value = max(8, (width - key - 4) // 2)
        return key, value, value

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"compare-table--{name}")

    def _fg(self, name: str) -> Style:
        return foreground(self._style(name))

    @staticmethod
    def _fit(text: str, width: int) -> str:
        text = visible(text)
        if cell_len(text) > width:
            return set_cell_size(text[: width * 2], width - 1) + "\u2026"
        return text + " " * (width - cell_len(text))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        key_w, left_w, right_w = self._widths()
        if y == 0:
            style = base + self._style("header")
            text = (
                f" {self._fit('field', key_w)} {self._fit(self.left_label, left_w)} "
                f"{self._fit(self.right_label, right_w)}"
            )
            return Strip([Segment(text, style)]).adjust_cell_length(width, style)
        index = int(self.scroll_y) + y - 1
        rows = self.rows
        if index >= len(rows):
            return Strip.blank(width, base)
        row = rows[index]
        line = base + self._style("differs") if row.differs else base
        key_style = line + self._fg("differs-key" if row.differs else "key")
        absent = line + self._fg("absent")
        segments = [
            Segment("▌" if row.differs else " ", key_style),
            Segment(self._fit(row.key, key_w), key_style),
            Segment(" ", line),
            Segment(
                self._fit(value_text(row.left), left_w), absent if row.left is MISSING else line
            ),
            Segment(" ", line),
            Segment(
                self._fit(value_text(row.right), right_w),
                absent if row.right is MISSING else line,
            ),
        ]
        return Strip(segments).adjust_cell_length(width, line)
