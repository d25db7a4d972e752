"""``c``: the marked sessions side by side, from ``sessionlens.compare`` and
``sessionlens.compare_results`` (the CLI's ``diff`` uses both too).

Two-way views (A against B, the first two sessions): every flattened field aligned, differences
highlighted (``d``: only those), the parameter diff, the duration difference, the files changed
between the two commits (git, in a worker) and both logs side by side. N-way views (every
session against the first, the baseline): the Metrics tab (values, deltas, better/worse by each
metric's direction, ``f`` flips it and the store's settings remember it) and the Nodes tab
(durations, deltas, slower nodes highlighted). Results are read in a worker.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from sessionlens.compare import (
    MISSING,
    ChangedFile,
    Comparison,
    changed_files_between,
    compare,
    duration_change,
)
from sessionlens.compare_results import metric_rows, node_rows
from sessionlens.errors import SessionLensError, UnreadableSessionError
from sessionlens.record import Record, SessionSummary, format_duration
from sessionlens.results import NO_RESULTS, Results
from sessionlens.tui.client import StoreClient
from sessionlens.tui.logtext import LogText
from sessionlens.tui.palette import PALETTE_CLASSES, palette_of, status_style
from sessionlens.tui.settings import Settings
from sessionlens.tui.text import literal
from sessionlens.tui.widgets.compare_table import CompareTable, value_text
from sessionlens.tui.widgets.log_view import LogView
from sessionlens.tui.widgets.metric_table import MetricTable
from sessionlens.tui.widgets.node_table import NodeTable
from sessionlens.tui.workers import ReportsWorkerErrors, error_message
from sessionlens.wording import plural

#: labels of the sessions compared, in order (A is the baseline)
LABELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def session_label(n: int) -> str:
    return LABELS[n] if n < len(LABELS) else f"S{n + 1}"


def _side(text: Text, label: str, summary: SessionSummary, palette: dict[str, Style]) -> None:
    text.append(f"{label} ", palette["label"])
    text.append_text(literal(summary.session_id, "bold"))
    text.append(" ")
    text.append(summary.status, status_style(palette, summary.status))
    if summary.branch or summary.commit_sha:
        text.append(" ")
        text.append_text(literal(summary.branch or "-"))
        text.append("@")
        text.append_text(literal((summary.commit_sha or "")[:7], palette["accent"]))
    if summary.dirty:
        text.append(" dirty", palette["warning"])


def duration_text(comparison: Comparison, palette: dict[str, Style]) -> Text:
    """``Duration 12.3s → 15.1s (+2.80s, +23%)``; slower is a warning, faster a success."""
    text = Text("Duration ", palette["label"])
    a, b, delta = (
        comparison.left_duration_s,
        comparison.right_duration_s,
        comparison.duration_delta_s,
    )
    text.append(f"{format_duration(a) or '?'} → {format_duration(b) or '?'}")
    detail = duration_change(a, b)
    if delta is not None and detail is not None:
        text.append(f"  ({detail})", palette["warning"] if delta > 0 else palette["success"])
    return text


def params_table(comparison: Comparison, palette: dict[str, Style]) -> RenderableType:
    if not comparison.params:
        return Text("Neither session has run parameters.", palette["muted"])
    table = Table(box=None, expand=True, padding=(0, 2), header_style=palette["label"])
    table.add_column("parameter", no_wrap=True)
    table.add_column("A", overflow="fold")
    table.add_column("B", overflow="fold")
    table.add_column("change", no_wrap=True)
    styles = {
        "same": palette["muted"],
        "changed": palette["warning"],
        "added": palette["success"],
        "removed": palette["error"],
    }
    for change in comparison.params:
        left = Text("(absent)", palette["muted"]) if change.left is MISSING else None
        right = Text("(absent)", palette["muted"]) if change.right is MISSING else None
        table.add_row(
            literal(change.name, "bold"),
            left or literal(value_text(change.left)),
            right or literal(value_text(change.right)),
            Text(change.change, styles.get(change.change, Style())),
        )
    return table


def git_table(
    files: list[ChangedFile] | None, comparison: Comparison, palette: dict[str, Style]
) -> RenderableType:
    a, b = comparison.left_sha, comparison.right_sha
    if not a or not b:
        return Text("A session has no recorded commit: nothing to diff.", palette["muted"])
    if files is None:
        message = Text("Commits ", palette["muted"])
        message.append_text(literal(a[:12]))
        message.append(" and ")
        message.append_text(literal(b[:12]))
        message.append(" are not both in the local git repository of the project.")
        return message
    head = Text()
    head.append_text(literal(a[:12], palette["accent"]))
    head.append(" → ")
    head.append_text(literal(b[:12], palette["accent"]))
    if not files:
        head.append("  same tree: no files changed", palette["muted"])
        return head
    added = sum(f.insertions or 0 for f in files)
    removed = sum(f.deletions or 0 for f in files)
    head.append(f"  {plural(len(files), 'file')} changed, ")
    head.append(f"+{added}", palette["success"])
    head.append(" ")
    head.append(f"-{removed}", palette["error"])
    table = Table(box=None, padding=(0, 2), show_header=False)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(overflow="fold")
    for f in files:
        path = literal(f.path)
        if f.old_path:
            path = literal(f.old_path) + Text(" → ") + path
        if f.insertions is None:
            table.add_row(Text("bin", palette["muted"]), Text(""), path)
        else:
            table.add_row(
                Text(f"+{f.insertions}", palette["success"]),
                Text(f"-{f.deletions}", palette["error"]),
                path,
            )
    return Group(head, Text(""), table)


class CompareScreen(ReportsWorkerErrors, Screen[None]):
    """Session A (the first marked, the baseline) against B (and C, D... in Metrics and
    Nodes)."""

    CSS_PATH = "compare.tcss"
    COMPONENT_CLASSES: ClassVar[set[str]] = PALETTE_CLASSES

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back", tooltip="Back to the sessions"),
        Binding(
            "d",
            "toggle_differences",
            "Only diffs",
            tooltip="Show only the fields that differ, or every field",
        ),
        Binding("1", "show_tab('tab-fields')", "Fields", tooltip="Every field side by side"),
        Binding("2", "show_tab('tab-params')", "Params", tooltip="Parameter by parameter"),
        Binding("3", "show_tab('tab-git')", "Git", tooltip="Files changed between the commits"),
        Binding("4", "show_tab('tab-logs')", "Logs", tooltip="Both logs side by side"),
        Binding("5", "show_tab('tab-metrics')", "Metrics", tooltip="Metrics, better or worse"),
        Binding("6", "show_tab('tab-nodes')", "Nodes", tooltip="Pipeline node timings"),
        Binding("x", "swap", "Swap", tooltip="Swap A and B: B becomes the baseline"),
    ]

    class Compared(Message):
        def __init__(
            self,
            comparison: Comparison,
            left: SessionSummary,
            right: SessionSummary,
            left_log: LogText,
            right_log: LogText,
        ) -> None:
            super().__init__()
            self.comparison = comparison
            self.left = left
            self.right = right
            self.left_log = left_log
            self.right_log = right_log

    class Failed(Message):
        """The two sessions cannot be compared: ``message`` says why (one line)."""

        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    class GitDone(Message):
        def __init__(self, comparison: Comparison, files: list[ChangedFile] | None) -> None:
            super().__init__()
            self.comparison = comparison
            self.files = files

    class ResultsLoaded(Message):
        """Each session's results (``NO_RESULTS`` where unreadable; ``problems`` says so)."""

        def __init__(self, results: list[Results], problems: list[str]) -> None:
            super().__init__()
            self.results = results
            self.problems = problems

    def __init__(
        self, client: StoreClient, *session_ids: str, settings: Settings | None = None
    ) -> None:
        """``session_ids``: two or more, the first the baseline; the two-way tabs compare the
        first two."""
        if len(session_ids) < 2:
            raise ValueError("compare needs two sessions or more")
        super().__init__()
        self.client = client
        self.session_ids = list(session_ids)
        self.left_id, self.right_id = session_ids[0], session_ids[1]
        self.labels = [session_label(n) for n in range(len(session_ids))]
        self.settings = settings or Settings(None)
        #: each session's results once read (Metrics and Nodes tabs)
        self.results: list[Results] | None = None
        self.results_problems: list[str] = []
        self.comparison: Comparison | None = None
        self.changed_files: list[ChangedFile] | None = None
        self.git_done = False
        #: why the two cannot be compared (an unreadable record), None while they can
        self.problem: str | None = None
        self._summaries: tuple[SessionSummary, SessionSummary] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Comparing…"), id="compare-title")
        yield Static(id="compare-summary")
        initial = "tab-metrics" if len(self.session_ids) > 2 else "tab-fields"
        with TabbedContent(id="compare-tabs", initial=initial):
            with TabPane("Fields", id="tab-fields"):
                yield CompareTable(id="compare-table")
            with TabPane("Params", id="tab-params"), VerticalScroll():
                yield Static(id="compare-params")
            with TabPane("Git changes", id="tab-git"), VerticalScroll():
                yield Static(
                    Text("Looking for both commits in the local repository…"), id="compare-git"
                )
            with TabPane("Logs", id="tab-logs"), Horizontal():
                with Vertical(classes="log-side"):
                    yield Static(literal(f"A {self.left_id}"), classes="log-label")
                    yield LogView(id="left-log", mark_cut=True)
                with Vertical(classes="log-side", id="right-log-side"):
                    yield Static(literal(f"B {self.right_id}"), classes="log-label")
                    yield LogView(id="right-log", mark_cut=True)
            with TabPane("Metrics", id="tab-metrics"), Vertical():
                yield Static(self._legend(), id="metrics-legend", classes="legend")
                yield MetricTable(id="metric-table")
            with TabPane("Nodes", id="tab-nodes"), Vertical():
                yield Static(self._legend(), id="nodes-legend", classes="legend")
                yield NodeTable(id="node-table")
        yield Footer()

    def on_mount(self) -> None:
        self._compare(self.client, self.left_id, self.right_id)
        self._load_results(self.client, list(self.session_ids))
        if len(self.session_ids) > 2:
            self.query_one(MetricTable).focus()

    def _legend(self, note: str = "") -> Text:
        """``A 2026-…Z (baseline)  B 2026-…Z  C …``, then ``note``."""
        text = Text()
        for n, (label, session_id) in enumerate(zip(self.labels, self.session_ids, strict=True)):
            if n:
                text.append("   ")
            text.append(f"{label} ", "bold")
            text.append_text(literal(session_id))
            if n == 0:
                text.append(" (baseline)")
        if note:
            text.append("\n")
            text.append_text(literal(note, "italic"))
        return text

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare-results")
    def _load_results(self, client: StoreClient, session_ids: list[str]) -> None:
        found: list[Results] = []
        problems: list[str] = []
        for label, session_id in zip(self.labels, session_ids, strict=True):
            try:
                results = client.results(session_id)
            except SessionLensError as exc:
                problems.append(f"{label}: {error_message(exc)}")
                results = NO_RESULTS
            found.append(results)
            problems.extend(f"{label}: {p}" for p in results.problems)
        self.post_message(self.ResultsLoaded(found, problems))

    def on_compare_screen_results_loaded(self, message: ResultsLoaded) -> None:
        self.results = message.results
        self.results_problems = message.problems
        self._show_results()

    def _show_results(self) -> None:
        if self.results is None:
            return
        palette = palette_of(self)
        note = "; ".join(self.results_problems)
        metrics = metric_rows(self.results, self.settings.directions)
        self.query_one(MetricTable).show(
            metrics, self.labels, palette, set(self.settings.directions)
        )
        metric_note = note or ("" if metrics else "None of these sessions recorded metrics.")
        if metrics:
            metric_note = (metric_note + "   " if metric_note else "") + (
                "f: flip whether lower or higher is better for the selected metric"
            )
        self.query_one("#metrics-legend", Static).update(self._legend(metric_note))
        nodes = node_rows(self.results)
        self.query_one(NodeTable).show(nodes, self.labels, palette)
        node_note = note or ("" if nodes else "None of these sessions recorded node timings.")
        if nodes and any("slower" in row.verdicts for row in nodes):
            slower = sum("slower" in row.verdicts for row in nodes)
            node_note = (node_note + "   " if node_note else "") + (
                f"▲ {slower} node{'s' if slower != 1 else ''} slower than in {self.labels[0]}"
            )
        self.query_one("#nodes-legend", Static).update(self._legend(node_note))

    def on_metric_table_flip_requested(self, message: MetricTable.FlipRequested) -> None:
        """Flip the metric's direction and remember it for this store (back to the default
        when the flip lands on what the name implies anyway)."""
        from sessionlens.results import lower_is_better

        wanted = "higher" if message.lower_is_better else "lower"
        implied = "lower" if lower_is_better(message.name) else "higher"
        problem = self.settings.set_direction(message.name, None if wanted == implied else wanted)
        if problem:
            self.notify(problem, severity="warning", markup=False)
        self._show_results()

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare")
    def _compare(self, client: StoreClient, left_id: str, right_id: str) -> None:
        try:
            left, right = client.get(left_id), client.get(right_id)
        except UnreadableSessionError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        comparison = compare(left, right)
        summaries = [
            SessionSummary.from_record(
                r,
                client.user_details(r["session_id"]) if client.has_user_details else None,
                heartbeat=client.last_heartbeat(r["session_id"]),
            )
            for r in (left, right)
        ]
        logs = [LogText(client.read_log(i)) for i in (left_id, right_id)]
        self.post_message(self.Compared(comparison, *summaries, *logs))
        self._git_diff(comparison, left, right)

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare-git")
    def _git_diff(self, comparison: Comparison, left: Record, right: Record) -> None:
        files = changed_files_between(left, right, comparison.left_sha, comparison.right_sha)
        self.post_message(self.GitDone(comparison, files))

    def on_compare_screen_compared(self, message: Compared) -> None:
        self.comparison = message.comparison
        self._summaries = (message.left, message.right)
        self.query_one(CompareTable).show(message.comparison, "A", "B")
        self.query_one("#left-log", LogView).load(message.left_log)
        self.query_one("#right-log", LogView).load(message.right_log)
        self._redraw()
        if self.query_one(TabbedContent).active == "tab-fields":  # focus would switch tabs
            self.query_one(CompareTable).focus()

    def on_compare_screen_failed(self, message: Failed) -> None:
        self.problem = message.message
        palette = palette_of(self)
        title = Text("Cannot compare: ", palette["error"])
        title.append_text(literal(message.message, palette["error"]))
        self.query_one("#compare-title", Static).update(title)
        self.query_one("#compare-summary", Static).update(
            Text("Press escape to go back to the sessions.", palette["muted"])
        )
        self.query_one("#compare-git", Static).update(Text(""))

    def on_compare_screen_git_done(self, message: GitDone) -> None:
        if message.comparison is not self.comparison:
            return
        self.changed_files, self.git_done = message.files, True
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        comparison = self.comparison
        if comparison is None or self._summaries is None:
            return
        palette = palette_of(self)
        title = Text()
        _side(title, "A", self._summaries[0], palette)
        right = Text()
        _side(right, "B", self._summaries[1], palette)
        room = self.query_one("#compare-title", Static).content_region.width
        # too narrow for both on one line (80 columns): B goes below A, both ids in full
        title.append("\n" if room and title.cell_len + 3 + right.cell_len > room else "   ")
        title.append_text(right)
        self.query_one("#compare-title", Static).update(title)
        summary = duration_text(comparison, palette)
        differing = len(comparison.differing)
        summary.append(f"   {differing} of {len(comparison.rows)} fields differ")
        changed = comparison.changed_params
        summary.append(f"   {len(changed)} of {len(comparison.params)} params differ")
        if self.query_one(CompareTable).only_differences:
            summary.append("   showing only differences (d)", palette["accent"])
        if len(self.session_ids) > 2:
            summary.append(
                f"\n{len(self.session_ids)} sessions: Metrics and Nodes compare all with A; "
                "Fields, Params, Git and Logs compare A with B",
                palette["accent"],
            )
        self.query_one("#compare-summary", Static).update(summary)
        self.query_one("#compare-params", Static).update(params_table(comparison, palette))
        if self.git_done:
            self.query_one("#compare-git", Static).update(
                git_table(self.changed_files, comparison, palette)
            )

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.call_later(self._redraw)
        self.call_later(self._show_results)

    # -- actions -------------------------------------------------------------------------
    def action_back(self) -> None:
        self.dismiss(None)

    def action_toggle_differences(self) -> None:
        table = self.query_one(CompareTable)
        table.set_only_differences(not table.only_differences)
        self._redraw()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        focus = {
            "tab-fields": "#compare-table",
            "tab-logs": "#left-log",
            "tab-metrics": "#metric-table",
            "tab-nodes": "#node-table",
        }.get(tab)
        if focus:
            self.query_one(focus).focus()

    def action_swap(self) -> None:
        ids = [self.right_id, self.left_id, *self.session_ids[2:]]
        self.app.switch_screen(CompareScreen(self.client, *ids, settings=self.settings))
