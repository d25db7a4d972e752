"""The run pane's log: the last ``max_lines`` lines of a run, drawn fast.

Only the visible lines are drawn (a ``ScrollView`` with ``render_line`` and a strip cache), their
ANSI colours parsed lazily; a flood of a million lines costs a few splits and slices, never a
widget or a message per line (toolong's idea). Lines come from the pane's drain of an
:class:`~sessionlens.tui.output_buffer.OutputBuffer`.
"""

from __future__ import annotations

from collections import deque
from itertools import repeat
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sessionlens.stores.base import LogChunk
from sessionlens.textsafe import safe_text
from sessionlens.tui.ansi import RESET, SgrState, parse_line, state_after, style_of
from sessionlens.tui.css import css_beside

#: lines the pane keeps (the store keeps them all)
MAX_LINES = 10_000
#: a line longer than this is shown in pieces (a child writing one endless line)
MAX_PARTIAL = 64 * 1024
TAB_SIZE = 8

STDOUT, STDERR, NOTE = 0, 1, 2


class RunLog(ScrollView, can_focus=True):
    """The last ``max_lines`` lines of a run: colours from ANSI SGR, stderr marked, follows the
    end unless scrolled up (``end`` follows again)."""

    DEFAULT_CSS = css_beside(__file__)

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "run-log--stderr",
        "run-log--stderr-marker",
        "run-log--note",
    }

    def __init__(
        self,
        max_lines: int = MAX_LINES,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.max_lines = max_lines
        #: the kept lines as they came, their kind, and the SGR state at their start: three
        #: parallel deques, so a plain batch is added by C-level ``extend`` calls
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._kinds: deque[int] = deque(maxlen=max_lines)
        self._states: deque[SgrState] = deque(maxlen=max_lines)
        self._styles: tuple[Style, Style, Style, Style] | None = None
        #: every line of output seen, kept or not; ``notes``: lines of the pane's own
        self.line_count = 0
        self.notes = 0
        self._partial = {"stdout": "", "stderr": ""}
        self._state: dict[str, SgrState] = {"stdout": RESET, "stderr": RESET}
        self._longest = 0
        self._cache: LRUCache[tuple[int, int, int], Strip] = LRUCache(1024)
        #: keep the last line in view; off once the user scrolls up, on again at the end
        self.follow = True
        self._moving = False

    # -- feeding ----------------------------------------------------------------------
    @property
    def first_number(self) -> int:
        """Number of the first line kept, counting every line ever added (cache keys)."""
        return self.line_count + self.notes - len(self._lines)

    def lines(self) -> list[str]:
        """The kept lines as their raw text (tests)."""
        return list(self._lines)

    def kinds(self) -> list[int]:
        """``STDOUT``, ``STDERR`` or ``NOTE`` for each kept line (tests)."""
        return list(self._kinds)

    def write(self, chunks: list[LogChunk], skipped: int = 0) -> None:
        """Add output (on the UI thread); one call per drain."""
        if not chunks and not skipped:
            return
        first_before = self.first_number
        if skipped:
            self._partial = {"stdout": "", "stderr": ""}
            self.line_count += skipped
            self._add_note(f"… {skipped:,} lines not shown here (the whole log is in the store)")
        # join adjacent chunks of one stream: one split per run of a stream
        runs: list[list[Any]] = []
        for chunk in chunks:
            if runs and runs[-1][0] == chunk.stream:
                runs[-1][1].append(chunk.text)
            else:
                runs.append([chunk.stream, [chunk.text]])
        for stream, texts in runs:
            self._add_text(stream, "".join(texts))
        self._after_write(self.first_number - first_before)

    def add_note(self, text: str) -> None:
        """A line of the pane's own (not the child's output), e.g. why a run could not start."""
        first_before = self.first_number
        self._add_note(text)
        self._after_write(self.first_number - first_before)

    def flush_partial(self) -> None:
        """The run ended: unterminated last lines become lines."""
        first_before = self.first_number
        for stream in ("stdout", "stderr"):
            if self._partial[stream]:
                text, self._partial[stream] = self._partial[stream], ""
                self._add_lines(stream, [text], "\x1b" in text)
        self._after_write(self.first_number - first_before)

    def _add_note(self, text: str) -> None:
        self._lines.append(text)
        self._kinds.append(NOTE)
        self._states.append(RESET)
        self.notes += 1

    def _add_text(self, stream: str, text: str) -> None:
        stream = "stderr" if stream == "stderr" else "stdout"
        partial = self._partial[stream]
        if partial:
            text = partial + text
        if "\n" not in text:
            self._partial[stream] = self._cap_partial(stream, text)
            return
        # split off only the lines that can be kept (a flood: the rest is one block, counted)
        lines = text.rsplit("\n", self.max_lines + 1)
        self._partial[stream] = self._cap_partial(stream, lines.pop())
        head = lines[0]
        if "\n" in head:
            self.line_count += head.count("\n") + 1
            self._state[stream] = state_after(head, self._state[stream])
            del lines[0]
        self._add_lines(stream, lines, "\x1b" in text)

    def _cap_partial(self, stream: str, text: str) -> str:
        if len(text) <= MAX_PARTIAL:
            return text
        self._add_lines(stream, [text], "\x1b" in text)
        return ""

    def _add_lines(self, stream: str, lines: list[str], escapes: bool) -> None:
        kind = STDERR if stream == "stderr" else STDOUT
        count = len(lines)
        self.line_count += count
        state = self._state[stream]
        if count > self.max_lines:
            if escapes:
                state = state_after("\n".join(lines[: count - self.max_lines]), state)
            lines = lines[count - self.max_lines :]
        self._lines.extend(lines)
        self._kinds.extend(repeat(kind, len(lines)))
        if escapes or state is not RESET:
            states = []
            for line in lines:
                states.append(state)
                if "\x1b" in line:
                    state = state_after(line, state)
            self._states.extend(states)
            self._state[stream] = state
        else:
            self._states.extend(repeat(RESET, len(lines)))
        if lines:
            self._longest = max(self._longest, max(map(len, lines)))

    def _after_write(self, removed_top: int) -> None:
        height = len(self._lines) + sum(1 for p in self._partial.values() if p)
        self._set_virtual_size(Size(min(self._longest, 4000) + 2, height))
        if not self.is_attached:
            return
        self._moving = True
        try:
            if self.follow:
                self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
                if self.scroll_y < self.max_scroll_y:  # not scrollable until laid out
                    self.call_after_refresh(self._to_end)
            elif removed_top:  # the same lines stay in view while older ones go
                y = max(0, self.scroll_y - removed_top)
                self.scroll_to(y=y, animate=False, immediate=True)
        finally:
            self._moving = False
        self.refresh()

    def _to_end(self) -> None:
        if self.follow:
            self._moving = True
            try:
                self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
            finally:
                self._moving = False

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if not self._moving:  # the user scrolled: follow only from the end
            self.follow = new_value >= self.max_scroll_y

    def _set_virtual_size(self, size: Size) -> None:
        """Like setting ``virtual_size``, without a layout of the whole screen each time
        (a reactive with ``layout=True``): only when a scrollbar may appear or go."""
        old = self.virtual_size
        if size == old:
            return
        view = self.scrollable_content_region.size
        if (
            not self.is_mounted
            or (old.height > view.height) != (size.height > view.height)
            or (old.width > view.width) != (size.width > view.width)
        ):
            self.virtual_size = size
            self._refresh_scrollbars()  # now, not at the next layout: scrolling needs them
        else:
            self.set_reactive(ScrollView.virtual_size, size)
            self._scroll_update(size)

    # -- drawing -----------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._styles = None

    def _line_styles(self) -> tuple[Style, Style, Style, Style]:
        """base, stderr, stderr marker, note: resolved once per theme, not once per line."""
        if self._styles is None:
            base = self.rich_style
            self._styles = (
                base,
                base + self.get_component_rich_style("run-log--stderr"),
                base + self.get_component_rich_style("run-log--stderr-marker"),
                base + self.get_component_rich_style("run-log--note"),
            )
        return self._styles

    def on_resize(self) -> None:
        self._cache.clear()

    def _entry(self, index: int) -> tuple[tuple[int, str, SgrState] | None, bool]:
        """The line at ``index`` of the view and whether it can be cached (complete lines)."""
        kept = len(self._lines)
        if index < kept:
            return (self._kinds[index], self._lines[index], self._states[index]), True
        for stream, kind in (("stdout", STDOUT), ("stderr", STDERR)):
            text = self._partial[stream]
            if text:
                if index == kept:
                    return (kind, text, self._state[stream]), False
                kept += 1
        return None, False

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        entry, complete = self._entry(index)
        if entry is None:
            return Strip.blank(width, self._line_styles()[0])
        key = (self.first_number + index, scroll_x, width)
        if complete:
            strip = self._cache.get(key)
            if strip is not None:
                return strip
        strip = self._render_entry(entry, scroll_x, width)
        if complete:
            self._cache[key] = strip
        return strip

    def _render_entry(self, entry: tuple[int, str, SgrState], scroll_x: int, width: int) -> Strip:
        kind, raw, state = entry
        base, stderr, stderr_marker, note = self._line_styles()
        line_style = stderr if kind == STDERR else note if kind == NOTE else base
        marker = Segment("▎", stderr_marker) if kind == STDERR else Segment(" ", base)
        text_width = max(0, width - 1)
        if kind == NOTE:  # our own words, which may quote the record (an exception's text)
            pieces = [(safe_text(raw), RESET)]
        else:
            # a 10 MB line costs what a screenful of it costs
            pieces = parse_line(raw[: scroll_x + text_width + 4096], state)[0]
        segments: list[Segment] = []
        column = 0
        for text, piece_state in pieces:
            if "\t" in text:
                expanded = (" " * (column % TAB_SIZE) + text).expandtabs(TAB_SIZE)
                text = expanded[column % TAB_SIZE :]
            column += len(text)
            sgr = style_of(piece_state)
            segments.append(Segment(text, line_style + sgr if sgr is not None else line_style))
        body = Strip(segments)
        if scroll_x or body.cell_length > text_width:
            body = body.crop(scroll_x, scroll_x + text_width)
        return Strip([marker, *body]).adjust_cell_length(width, base)
