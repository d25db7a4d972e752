"""The detail panel under the session table: what a person asks first about the selected run.

Git, the command and its parameters, its metrics and node timings, how it ended (exception),
kedro-viz title/bookmark/notes and the last lines of the log. Every store value goes in as
``Text`` (shown literally).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from sessionlens.record import Record, SessionSummary, command_line, format_duration, params_of
from sessionlens.results import NodeTiming, format_metric, nodes_of
from sessionlens.timefmt import absolute_time, parse_time, relative_time
from sessionlens.tui.css import css_beside
from sessionlens.tui.palette import PALETTE_CLASSES, palette_of, status_style
from sessionlens.tui.text import Clock, literal


def _get(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, Mapping) else None


def params_text(params: Mapping[str, Any], key_style: Style | str = "bold") -> Text:
    """``scale=3  mode=fast`` with the values as stored."""
    text = Text()
    for i, (key, value) in enumerate(params.items()):
        if i:
            text.append("  ")
        text.append_text(literal(key, key_style))
        text.append("=")
        text.append_text(literal(value if isinstance(value, str) else repr(value)))
    return text


LABEL_WIDTH = 10
#: metrics shown in the panel; the rest are counted (compare and ``show`` list them all)
PANEL_METRICS = 8


def metrics_text(metrics: Mapping[str, float], key_style: Style | str = "bold") -> Text:
    """``accuracy=0.9123  loss=0.21`` for the first few metrics, then ``+N more``."""
    text = Text()
    for i, (name, value) in enumerate(list(metrics.items())[:PANEL_METRICS]):
        if i:
            text.append("  ")
        text.append_text(literal(name, key_style))
        text.append(f"={format_metric(value)}")
    if len(metrics) > PANEL_METRICS:
        text.append(f"  +{len(metrics) - PANEL_METRICS} more")
    return text


def nodes_text(nodes: Sequence[NodeTiming], palette: Mapping[str, Style]) -> Text:
    """How many nodes ran, the slowest, and the one that failed."""
    text = Text(f"{len(nodes)} node{'s' if len(nodes) != 1 else ''}")
    timed = [n for n in nodes if n.duration_s is not None]
    if timed:
        slowest = max(timed, key=lambda n: n.duration_s or 0.0)
        text.append("  slowest ")
        text.append_text(literal(slowest.name, "bold"))
        text.append(f" {format_duration(slowest.duration_s)}")
    failed = next((n for n in nodes if n.status == "failed"), None)
    if failed is not None:
        text.append("  failed ", palette["error"])
        text.append_text(literal(failed.name, palette["error"]))
    return text


def describe_session(
    summary: SessionSummary,
    record: Record | None,
    details: Mapping[str, Any],
    tail: Sequence[str],
    clock: Clock,
    palette: Mapping[str, Style],
) -> Text:
    """The panel's content for one session (``record`` None: not loaded yet, or unreadable:
    then ``summary.problem`` says why and only what lies beside the record is shown).

    One ``Text`` rather than a Rich table: the panel is redrawn on every cursor move, and a
    table grid costs several times more to lay out."""
    muted, warning, label = palette["muted"], palette["warning"], palette["label"]
    out = Text()
    out.append_text(literal(summary.session_id, "bold"))
    out.append("  ")
    out.append(summary.status, status_style(dict(palette), summary.status))
    if summary.bookmark or details.get("bookmark"):
        out.append("  ★ bookmarked", warning)
    title = details.get("title") or summary.title
    if title:
        out.append("  ")
        out.append_text(literal(title, "italic"))

    def row(name: str, value: Text) -> None:
        out.append("\n")
        out.append(f"{name:<{LABEL_WIDTH}}", label)
        out.append_text(value)

    if summary.problem is not None:
        row("Problem", literal(summary.problem, palette["error"]))
        started = parse_time(summary.started_at)
        if started:
            row("Started", Text(f"{absolute_time(started, clock.tz)}  (from its id)"))
        notes = details.get("notes") or summary.notes
        if notes:
            row("Notes", literal(notes))
        if tail:
            out.append("\nLog tail\n", label)
            out.append_text(literal("\n".join(tail), muted, keep_newlines=True))
        return out

    started = parse_time(summary.started_at)
    when = Text(f"{absolute_time(started, clock.tz)}  ({relative_time(started, clock.now())})")
    if summary.duration_s is not None:
        when.append(f"  took {format_duration(summary.duration_s)}")
    if summary.exit_code is not None:
        when.append(f"  exit {summary.exit_code}")
    row("Started", when)

    git = _get(record, "git") if record is not None else None
    git_text = Text()
    branch = _get(git, "branch") if git else summary.branch
    sha = (_get(git, "commit_sha_full") or _get(git, "commit_sha")) if git else summary.commit_sha
    git_text.append_text(literal(branch or "(no branch recorded)", "" if branch else muted))
    if sha:
        git_text.append(" @ ")
        git_text.append_text(literal(sha, palette["accent"]))
    dirty = _get(git, "dirty") if git else summary.dirty
    if dirty:
        git_text.append("  dirty", warning)
    elif dirty is False:
        git_text.append("  clean", muted)
    row("Git", git_text)

    command = (command_line(record) if record else None) or summary.command
    row("Command", literal(command or "(none recorded)", "" if command else muted))
    if record is not None:
        params = params_of(record)
        if params:
            row("Params", params_text(params, palette["accent"]))
        if record.get("env"):
            row("Env", literal(record.get("env")))
    if summary.metrics:
        row("Metrics", metrics_text(summary.metrics, palette["accent"]))
    nodes = nodes_of(record) if record is not None else ()
    if nodes:
        row("Nodes", nodes_text(nodes, palette))
    who = literal(summary.username or "?")
    if summary.hostname:
        who.append(" on ")
        who.append_text(literal(summary.hostname))
    row("User", who)
    if record is not None:
        if record.get("project_path"):
            row("Project", literal(record.get("project_path")))
        exception = record.get("exception")
        if isinstance(exception, Mapping):
            exc = literal(exception.get("type") or "Exception", palette["error"])
            exc.append(": ")
            exc.append_text(literal(exception.get("value") or ""))
            row("Exception", exc)
    notes = details.get("notes") or summary.notes
    if notes:
        row("Notes", literal(notes))
    if summary.rerun_of:
        row("Re-run of", literal(summary.rerun_of))
    if tail:
        out.append("\nLog tail\n", label)
        out.append_text(literal("\n".join(tail), muted, keep_newlines=True))
    elif record is not None:
        out.append("\n(no log stored)", muted)
    return out


def rows_of(text: Text, width: int) -> int:
    """How many rows ``text`` takes, wrapped at ``width`` cells."""
    width = max(1, width)
    return sum(max(1, -(-cell_len(line) // width)) for line in text.plain.split("\n"))


class SessionDetailPanel(VerticalScroll, can_focus=True):
    """Scrollable summary of the selected session; rebuilt when the theme changes.

    The log tail shows the *end* of the log: as many of its last lines as fit under the rest
    (a traceback's last line is the one that says what went wrong). Focused (``tab``), the
    panel shows the whole tail, scrolled to its end, to be scrolled back through."""

    DEFAULT_CSS = css_beside(__file__)
    COMPONENT_CLASSES: ClassVar[set[str]] = PALETTE_CLASSES

    def __init__(self, *, clock: Clock | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock or Clock()
        self.session_id: str | None = None
        self._shown: tuple[Any, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("No session selected"), id="detail-body")

    def show_empty(self, message: str = "No session selected") -> None:
        self.session_id = None
        self._shown = None
        self.query_one("#detail-body", Static).update(literal(message))

    def show(
        self,
        summary: SessionSummary,
        record: Record | None = None,
        details: Mapping[str, Any] | None = None,
        tail: Sequence[str] = (),
    ) -> None:
        self.session_id = summary.session_id
        self._shown = (summary, record, details or {}, tail)
        self._render_shown()

    def _render_shown(self) -> None:
        if self._shown is None or not self.is_mounted:
            return
        summary, record, details, tail = self._shown
        palette = palette_of(self)
        room = self.scrollable_content_region
        if tail and not self.has_focus and room.height > 0:
            head = describe_session(summary, record, details, [], self.clock, palette)
            free = room.height - rows_of(head, room.width) - 1  # the "Log tail" label
            tail = tail[-max(1, free) :]
        body = describe_session(summary, record, details, tail, self.clock, palette)
        self.query_one("#detail-body", Static).update(body)
        if self.has_focus:
            self.call_after_refresh(self.scroll_end, animate=False)

    def on_focus(self) -> None:
        self._render_shown()

    def on_blur(self) -> None:
        self._render_shown()
        self.scroll_home(animate=False)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.call_later(self._render_shown)  # component styles are updated after this call
