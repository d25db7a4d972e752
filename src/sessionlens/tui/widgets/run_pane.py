"""The run pane: a live session's output, bounded and fast, with its status line.

Output crosses from the runner's reader thread to the UI thread through an ``OutputBuffer``
(a lock and a list: the reader never waits on the UI and never posts a message per batch). A
timer on the UI thread drains it every ``DRAIN_INTERVAL`` seconds into a ``RunLog``, which keeps
only the last ``max_lines`` lines (the whole log is in the store) and draws only the visible
ones, parsing their ANSI colours lazily. When more than ``max_lines`` lines arrive between two
drains only the last ``max_lines`` are even split off: a flood of a million lines costs the UI
a few splits and slices, never a message or a widget per line (toolong's back-off idea).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from itertools import repeat
from typing import TYPE_CHECKING, Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from sessionlens.record import Record
from sessionlens.stores.base import LogChunk
from sessionlens.textsafe import safe_text
from sessionlens.tui.ansi import RESET, SgrState, parse_line, state_after, style_of
from sessionlens.tui.css import css_beside
from sessionlens.tui.palette import PALETTE_CLASSES, palette_of, status_style
from sessionlens.tui.screens.run_form import RunRequest
from sessionlens.tui.text import format_duration, literal, visible

if TYPE_CHECKING:
    from sessionlens.runner import RunningSession
    from sessionlens.session import Session

#: lines the pane keeps (the store keeps them all)
MAX_LINES = 10_000
#: seconds between two drains of the buffer into the pane
DRAIN_INTERVAL = 0.05
#: characters the buffer holds before it drops the oldest (a stalled UI must not grow memory)
BUFFER_LIMIT = 8 * 1024 * 1024
#: a line longer than this is shown in pieces (a child writing one endless line)
MAX_PARTIAL = 64 * 1024
TAB_SIZE = 8

STDOUT, STDERR, NOTE = 0, 1, 2


class OutputBuffer:
    """Batches of output from the reader thread, taken by the UI thread; bounded."""

    def __init__(self, limit: int = BUFFER_LIMIT) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._chunks: list[LogChunk] = []
        self._chars = 0
        self._skipped_lines = 0
        #: everything ever fed, in characters and newlines (newlines counted by the consumer)
        self.total_chars = 0

    def feed(self, chunks: Iterable[LogChunk]) -> None:
        """The runner's ``on_output``: called on the reader thread, returns at once."""
        with self._lock:
            for chunk in chunks:
                self._chunks.append(chunk)
                self._chars += len(chunk.text)
                self.total_chars += len(chunk.text)
            if self._chars > self.limit:
                self._trim()

    def _trim(self) -> None:
        keep = self.limit // 2
        chunks = self._chunks
        drop = 0
        while drop < len(chunks) - 1 and self._chars - len(chunks[drop].text) >= keep:
            self._chars -= len(chunks[drop].text)
            self._skipped_lines += chunks[drop].text.count("\n")
            drop += 1
        del chunks[:drop]

    def take(self) -> tuple[list[LogChunk], int]:
        """Everything fed since the last call, and how many lines were dropped unseen
        (0 unless the UI fell more than ``limit`` characters behind)."""
        with self._lock:
            chunks, self._chunks, self._chars = self._chunks, [], 0
            skipped, self._skipped_lines = self._skipped_lines, 0
        return chunks, skipped


class RunLog(ScrollView, can_focus=True):
    """The last ``max_lines`` lines of a run: colours from ANSI SGR, stderr marked, follows the
    end unless scrolled up (``end`` follows again)."""

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


class RunPane(Vertical):
    """One session's run: a status line and its live output; keys act on that run."""

    DEFAULT_CSS = css_beside(__file__)

    COMPONENT_CLASSES: ClassVar[set[str]] = PALETTE_CLASSES

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "interrupt", "Interrupt", tooltip="Interrupt the run (again: force)"),
        Binding(
            "c",
            "compare_rerun",
            "Compare",
            tooltip="Compare this re-run with the session it re-ran",
        ),
        Binding(
            "enter",
            "run_again",
            "Run again",
            tooltip="Run this session again (a new session: one run per session)",
        ),
        Binding("x", "close", "Close", tooltip="Close the run pane"),
    ]

    class Started(Message):
        """The child runs (posted from the launching thread)."""

        def __init__(self, pane: RunPane, running: RunningSession) -> None:
            super().__init__()
            self.pane = pane
            self.running = running

    class Ended(Message):
        """The run ended, its final record is saved and its session closed (posted from the
        runner's thread); ``error``: it could not start at all, or its log is incomplete."""

        def __init__(
            self,
            pane: RunPane,
            running: RunningSession | None,
            record: Record | None,
            error: str | None,
        ) -> None:
            super().__init__()
            self.pane = pane
            self.running = running
            self.record = record
            self.error = error

    def __init__(
        self,
        session_id: str | None,
        command: list[str],
        *,
        rerun_of: str | None = None,
        max_lines: int = MAX_LINES,
        fixed_elapsed: float | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.session_id = session_id
        self.command = list(command)
        self.rerun_of = rerun_of
        self.buffer = OutputBuffer()
        self.running: RunningSession | None = None
        #: the session shown (set by the launcher as soon as it exists)
        self.session: Session | None = None
        #: what was asked for: the command before ``--params`` was added, its parameters, env
        self.request = RunRequest(list(command), rerun_of=rerun_of)
        #: ctrl+c presses so far
        self.interrupts = 0
        self.record: Record | None = None
        self.status = "starting"
        self.exit_code: int | None = None
        self.error: str | None = None
        #: elapsed seconds to show instead of the clock's (snapshots)
        self.fixed_elapsed = fixed_elapsed
        self._began = time.monotonic()
        self._duration: float | None = None
        self._timer: Timer | None = None
        self._header_text = ""
        self._header = RunHeader(id="run-header")
        self._log = RunLog(max_lines, id="run-log")

    def compose(self) -> ComposeResult:
        yield self._header
        yield self._log

    @property
    def log_view(self) -> RunLog:
        return self._log

    def _launcher(self) -> Any:
        """The app's ``RunManager`` (``app.runs``); None in an app without one."""
        return getattr(self.app, "runs", None)

    @property
    def active(self) -> bool:
        """The run has not ended yet (starting or running)."""
        return self.status in ("starting", "running")

    def on_mount(self) -> None:
        self._timer = self.set_interval(DRAIN_INTERVAL, self.drain)
        self._update_header()

    # -- lifecycle (called by the launcher) -------------------------------------------------
    def _adopt(self, running: RunningSession) -> None:
        self.running = running
        self.session = running.session
        self.session_id = running.session_id

    def on_run_pane_started(self, message: Started) -> None:
        self._adopt(message.running)
        if self.record is not None:  # a quick child: the end came first
            return
        self.status = "running"
        self._began = time.monotonic()
        self._update_header()
        self.refresh_bindings()
        launcher = self._launcher()
        if launcher is not None:
            launcher.started(self)

    def on_run_pane_ended(self, message: Ended) -> None:
        self.drain()
        self.log_view.flush_partial()
        if message.running is not None:
            self._adopt(message.running)
        self.record = message.record
        run = (message.record or {}).get("run") or {}
        self.status = str(run.get("status") or "failed")
        self.exit_code = run.get("exit_code")
        duration = run.get("duration_s")
        self._duration = float(duration) if isinstance(duration, int | float) else None
        self.error = message.error
        exception = (message.record or {}).get("exception")
        if message.error:
            self.log_view.add_note(f"sessionlens: {message.error}")
        elif isinstance(exception, dict) and self.exit_code in (126, 127):
            self.log_view.add_note(f"sessionlens: cannot run the command: {exception.get('value')}")
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._update_header()
        self.refresh_bindings()
        launcher = self._launcher()
        if launcher is not None:
            launcher.ended(self)

    def drain(self) -> None:
        """Move what the reader thread buffered into the log (the timer's job)."""
        chunks, skipped = self.buffer.take()
        if chunks or skipped:
            self.log_view.write(chunks, skipped)
        self._update_header()

    # -- header -----------------------------------------------------------------------------
    def elapsed(self) -> float:
        if self.fixed_elapsed is not None:
            return self.fixed_elapsed
        if self._duration is not None:
            return self._duration
        return time.monotonic() - self._began

    def header_parts(self) -> tuple[Text, Text, Text]:
        """Status, id, time, exit code, line count | re-run source and command | key hints."""
        palette = palette_of(self)
        status = self.status
        left = Text()
        left.append(f" {status} ", status_style(palette, status) + Style(reverse=True))
        left.append(" ")
        left.append_text(literal(self.session_id or "new session", "bold"))
        left.append("  ")
        left.append(format_duration(self.elapsed()), palette["label"])
        if not self.active and self.exit_code is not None:
            left.append("  exit ", palette["muted"])
            left.append(str(self.exit_code), status_style(palette, status))
        lines = self._log.line_count
        if lines:
            kept = min(lines, self.log_view.max_lines)
            left.append(f"  {lines:,} lines", palette["muted"])
            if kept < lines:
                left.append(f" (last {kept:,} here)", palette["muted"])
        middle = Text()
        if self.rerun_of:
            middle.append("re-run of ", palette["muted"])
            middle.append_text(literal(self.rerun_of))
            middle.append("  ")
        middle.append(visible(_join(self.command)), palette["accent"])
        right = Text(self._hint(), palette["muted"])
        return left, middle, right

    def header_text(self) -> Text:
        """The whole status line, uncut (tests, messages)."""
        left, middle, right = self.header_parts()
        return Text.assemble(left, "  ", middle, "  ", right)

    def _hint(self) -> str:
        if self.active:
            return "ctrl+c interrupt"
        if self.rerun_of and self.record is not None:
            return "c compare · x close"
        return "x close"

    def _update_header(self) -> None:
        if not self._header.is_mounted:
            return
        parts = self.header_parts()
        plain = "\0".join(part.plain for part in parts)
        if plain != self._header_text:
            self._header_text = plain
            self._header.set_parts(*parts)

    # -- keys --------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "interrupt":
            return self.active
        if action == "compare_rerun":
            return bool(self.rerun_of) and not self.active and self.record is not None
        if action == "close":
            return not self.active
        return True

    def action_interrupt(self) -> None:
        launcher = self._launcher()
        if launcher is not None:
            launcher.interrupt(self)

    def action_compare_rerun(self) -> None:
        launcher = self._launcher()
        if launcher is not None and self.rerun_of:
            launcher.compare(self.rerun_of, self.session_id)

    def action_run_again(self) -> None:
        launcher = self._launcher()
        if launcher is not None:
            launcher.run_again(self)

    def action_close(self) -> None:
        launcher = self._launcher()
        if launcher is not None:
            launcher.close_pane(self)


def _join(command: list[str]) -> str:
    import shlex

    return shlex.join(command)
