"""The run pane: one session's run, its status line and its live output; keys act on the run.

Output crosses from the runner's reader thread to the UI thread through an ``OutputBuffer``;
a timer on the UI thread drains it every ``DRAIN_INTERVAL`` seconds into a ``RunLog``. The pane
knows nothing of who launched the run: its keys post messages (interrupt, close, run again,
compare) that its screen handles, and the launcher tells it how the run goes by posting
``Started`` and ``Ended`` to it (both then bubble up to the screen).
"""

from __future__ import annotations

import shlex
import time
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer

from sessionlens.params import command_with_params
from sessionlens.record import Record, format_duration
from sessionlens.run_request import RunRequest
from sessionlens.tui import gc_quiet
from sessionlens.tui.css import css_beside
from sessionlens.tui.output_buffer import OutputBuffer
from sessionlens.tui.palette import PALETTE_CLASSES, palette_of, status_style
from sessionlens.tui.text import literal, visible
from sessionlens.tui.widgets.run_header import RunHeader
from sessionlens.tui.widgets.run_log import MAX_LINES, RunLog
from sessionlens.wording import plural

if TYPE_CHECKING:
    from sessionlens.runner import RunningSession
    from sessionlens.session import Session

#: seconds between two drains of the buffer into the pane
DRAIN_INTERVAL = 0.05
#: while a run goes on, its status line (clock, line count) is redrawn at most this often: at
#: every drain it cost a flood's frames a few ms each, and a key waits behind frames
HEADER_EVERY = 0.25


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

    class _PaneMessage(Message):
        """A message about one pane; ``control`` lets handlers select on it."""

        def __init__(self, pane: RunPane) -> None:
            super().__init__()
            self.pane = pane

        @property
        def control(self) -> RunPane:
            return self.pane

    class Started(_PaneMessage):
        """The child runs (posted to the pane from the launching thread)."""

        def __init__(self, pane: RunPane, running: RunningSession) -> None:
            super().__init__(pane)
            self.running = running

    class Ended(_PaneMessage):
        """The run ended, its final record is saved and its session closed (posted to the pane
        from the runner's thread); ``error``: it could not start at all, or its log is
        incomplete."""

        def __init__(
            self,
            pane: RunPane,
            running: RunningSession | None,
            record: Record | None,
            error: str | None,
        ) -> None:
            super().__init__(pane)
            self.running = running
            self.record = record
            self.error = error

    class InterruptRequested(_PaneMessage):
        """``ctrl+c`` on the pane: interrupt its run (again: escalate)."""

    class CloseRequested(_PaneMessage):
        """``x`` on a finished run's pane: take it away."""

    class RunAgainRequested(_PaneMessage):
        """``enter`` on the pane: run its command and parameters again (a new session)."""

    class CompareRequested(_PaneMessage):
        """``c`` on a finished re-run: compare it with the session it re-ran."""

    def __init__(
        self, request: RunRequest, *, max_lines: int = MAX_LINES, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        #: what was asked for: the command before ``--params`` was added, its parameters, env
        self.request = request
        self.command = command_with_params(request.command, request.params)
        self.rerun_of = request.rerun_of
        self.session_id: str | None = None
        self.buffer = OutputBuffer()
        self.running: RunningSession | None = None
        #: the session shown (set as soon as the launcher made it)
        self.session: Session | None = None
        #: ctrl+c presses so far
        self.interrupts = 0
        self.record: Record | None = None
        self.status = "starting"
        self.exit_code: int | None = None
        self.error: str | None = None
        self._began = time.monotonic()
        self._duration: float | None = None
        self._timer: Timer | None = None
        self._header_text = ""
        self._header_at = 0.0
        self._header = RunHeader(id="run-header")
        self._log = RunLog(max_lines, id="run-log")
        #: this pane holds the collector's freeze (``gc_quiet``) until its run ends
        self._gc_held = False

    def compose(self) -> ComposeResult:
        yield self._header
        yield self._log

    @property
    def log_view(self) -> RunLog:
        return self._log

    @property
    def active(self) -> bool:
        """The run has not ended yet (starting or running)."""
        return self.status in ("starting", "running")

    def on_mount(self) -> None:
        self._timer = self.set_interval(DRAIN_INTERVAL, self.drain)
        self._update_header()
        if self.record is None and not self._gc_held:  # keys stay quick during a flood
            gc_quiet.hold()
            self._gc_held = True

    def on_unmount(self) -> None:
        self._release_gc()

    def _release_gc(self) -> None:
        if self._gc_held:
            self._gc_held = False
            gc_quiet.release()

    # -- lifecycle (told by the launcher; the messages go on to the screen) ------------------
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
        self._release_gc()
        self._update_header()
        self.refresh_bindings()

    def drain(self) -> None:
        """Move what the reader thread buffered into the log (the timer's job)."""
        chunks, skipped = self.buffer.take()
        if chunks or skipped:
            self.log_view.write(chunks, skipped)
        if time.monotonic() - self._header_at >= HEADER_EVERY or not self.active:
            self._update_header()

    # -- header -----------------------------------------------------------------------------
    def elapsed(self) -> float:
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
            left.append(f"  {plural(lines, 'line')}", palette["muted"])
            if kept < lines:
                left.append(f" (last {kept:,} here)", palette["muted"])
        middle = Text()
        if self.rerun_of:
            middle.append("re-run of ", palette["muted"])
            middle.append_text(literal(self.rerun_of))
            middle.append("  ")
        middle.append(visible(shlex.join(self.command)), palette["accent"])
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
        self._header_at = time.monotonic()
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
        self.post_message(self.InterruptRequested(self))

    def action_compare_rerun(self) -> None:
        self.post_message(self.CompareRequested(self))

    def action_run_again(self) -> None:
        self.post_message(self.RunAgainRequested(self))

    def action_close(self) -> None:
        self.post_message(self.CloseRequested(self))
