"""A read-only viewer for a whole stored log, any size, with search.

The text stays one string indexed by ``LogText``; ``render_line`` draws only the visible lines,
so a 100 MB log scrolls like a 1 KB one. Lines are shown literally: escape codes appear as
``␛[31m``, not as colour.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sessionlens.tui.css import css_beside
from sessionlens.tui.logtext import LogText, Match
from sessionlens.tui.text import visible


class LogView(ScrollView, can_focus=True):
    """Lines of a ``LogText`` with line numbers, a highlighted search hit, ``n``/``N`` to move."""

    DEFAULT_CSS = css_beside(__file__)

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-view--line-number",
        "log-view--match",
        "log-view--match-line",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next_match", "Next", tooltip="Next search hit"),
        Binding("N", "previous_match", "Previous", tooltip="Previous search hit"),
    ]

    class SearchDone(Message):
        """A search finished; ``match`` is None when the text was not found."""

        def __init__(
            self,
            view: LogView,
            needle: str,
            match: Match | None,
            rank: tuple[int, int] | None = None,
        ) -> None:
            super().__init__()
            self.view = view
            self.needle = needle
            self.match = match
            #: (which hit, how many): "hit 3 of 17"
            self.rank = rank

        @property
        def control(self) -> LogView:
            return self.view

    class _Found(Message):
        def __init__(self, needle: str, match: Match | None, rank: tuple[int, int] | None) -> None:
            super().__init__()
            self.needle = needle
            self.match = match
            self.rank = rank

    def __init__(
        self,
        *,
        line_numbers: bool = True,
        mark_cut: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.log_text = LogText("")
        self.line_numbers = line_numbers
        #: end a line cut at the right edge with "…" (side by side, so it cannot read on into
        #: the next view)
        self.mark_cut = mark_cut
        self.needle = ""
        self.match: Match | None = None
        self._cache: LRUCache[tuple[int, int, int, bool], Strip] = LRUCache(512)
        self._base: Style | None = None

    # -- content ------------------------------------------------------------------------
    def load(self, log_text: LogText) -> None:
        """Show ``log_text`` from its first line."""
        self.log_text = log_text
        self.match = None
        self._cache.clear()
        self._update_virtual_size()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    @property
    def _gutter(self) -> int:
        return len(str(len(self.log_text))) + 1 if self.line_numbers else 0

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.log_text.longest + self._gutter + 1, len(self.log_text))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # -- search ---------------------------------------------------------------------------
    def search(self, needle: str, *, backward: bool = False) -> None:
        """Find ``needle`` after (or before) the current hit or the top line, in a worker."""
        self.needle = needle
        if self.match is not None:
            line, column = self.match.line, self.match.column
        else:
            line, column = int(self.scroll_y), -1
        self._search(self.log_text, needle, line, column, backward)

    @work(thread=True, exclusive=True, exit_on_error=False, group="log-search")
    def _search(self, text: LogText, needle: str, line: int, column: int, backward: bool) -> None:
        if backward:
            found = text.search_backward(needle, line, max(column, 0))
        else:
            found = text.search(needle, line, column)
        rank = None if found is None else text.rank(needle, found)
        self.post_message(self._Found(needle, found, rank))

    def on_log_view__found(self, message: _Found) -> None:
        message.stop()
        self.match = message.match
        self._cache.clear()
        if message.match is not None:
            self.scroll_to_line(message.match.line, message.match.column)
        self.refresh()
        self.post_message(self.SearchDone(self, message.needle, message.match, message.rank))

    def scroll_to_line(self, line: int, column: int = 0) -> None:
        """Bring ``line`` into view (centred when it was off screen)."""
        height = self.scrollable_content_region.height
        top = int(self.scroll_y)
        y = None if top <= line < top + height else max(0, line - height // 2)
        width = self.scrollable_content_region.width - self._gutter
        left = int(self.scroll_x)
        x = None if left <= column < left + width - 1 else max(0, column - width // 2)
        self.scroll_to(x, y, animate=False, immediate=True)

    # scrolling jumps: an animated scroll across a million lines would render every frame between
    def _jump(self, y: float) -> None:
        self.scroll_to(y=max(0, min(y, self.max_scroll_y)), animate=False, immediate=True)

    def action_scroll_home(self) -> None:
        self._jump(0)

    def action_scroll_end(self) -> None:
        self._jump(self.max_scroll_y)

    def action_page_up(self) -> None:
        self._jump(self.scroll_y - self.scrollable_content_region.height)

    def action_page_down(self) -> None:
        self._jump(self.scroll_y + self.scrollable_content_region.height)

    def action_scroll_up(self) -> None:
        self._jump(self.scroll_y - 1)

    def action_scroll_down(self) -> None:
        self._jump(self.scroll_y + 1)

    def action_next_match(self) -> None:
        if self.needle:
            self.search(self.needle)

    def action_previous_match(self) -> None:
        if self.needle:
            self.search(self.needle, backward=True)

    # -- rendering ----------------------------------------------------------------------
    def render_lines(self, crop: Region) -> list[Strip]:
        self._base = self.rich_style  # once per frame, not per line
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        number = scroll_y + y
        width = self.scrollable_content_region.width
        if number >= len(self.log_text):
            return Strip.blank(width, self._base or self.rich_style)
        key = (number, scroll_x, width, self.match is not None and self.match.line == number)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_log_line(number, scroll_x, width)
            self._cache[key] = strip
        return strip

    def _render_log_line(self, number: int, scroll_x: int, width: int) -> Strip:
        base = self._base or self.rich_style
        gutter = self._gutter
        segments: list[Segment] = []
        if gutter:
            style = base + self.get_component_rich_style("log-view--line-number")
            segments.append(Segment(f"{number + 1:>{gutter - 1}} ", style))
        text_width = max(0, width - gutter)
        raw = self.log_text.line(number)
        match = self.match if self.match is not None and self.match.line == number else None
        line_style = base
        if match is not None:
            line_style = base + self.get_component_rich_style("log-view--match-line")
        # expand and escape only what can be visible: a 10 MB line costs no more than a short one
        shown = visible(raw[: scroll_x + text_width + 1])[scroll_x : scroll_x + text_width + 1]
        if self.mark_cut and text_width and cell_len(shown) > text_width:
            shown = set_cell_size(shown, text_width - 1) + "…"
        else:
            shown = shown[:text_width]
        if match is not None:
            # columns of the match after tab expansion
            start = len(visible(raw[: match.column])) - scroll_x
            end = start + len(visible(raw[match.column : match.column + match.length]))
            hit = line_style + self.get_component_rich_style("log-view--match")
            start, end = max(0, start), max(0, min(end, len(shown)))
            segments += [
                Segment(shown[:start], line_style),
                Segment(shown[start:end], hit),
                Segment(shown[end:], line_style),
            ]
        else:
            segments.append(Segment(shown, line_style))
        return Strip(segments).adjust_cell_length(width, line_style if match else base)
