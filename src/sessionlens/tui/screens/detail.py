"""``enter`` on a session: the whole record as a tree, as raw JSON, the full stored log, and
its results (metrics, tracking data, plots and node timings, wherever they were recorded).

The record and log are read in a worker; the log viewer indexes the text once and then renders
only what is visible, so a 100 MB log opens in a fraction of a second and scrolls freely.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane

from sessionlens.errors import UnreadableSessionError
from sessionlens.record import Record, SessionSummary, format_duration, to_jsonable
from sessionlens.results import Results
from sessionlens.timefmt import absolute_time, parse_time
from sessionlens.tui.client import StoreClient
from sessionlens.tui.logtext import LogText
from sessionlens.tui.palette import PALETTE_CLASSES, palette_of, status_style
from sessionlens.tui.text import Clock, literal
from sessionlens.tui.widgets.log_view import LogView
from sessionlens.tui.widgets.record_tree import RecordTree
from sessionlens.tui.widgets.safe_input import SafeInput
from sessionlens.tui.workers import ReportsWorkerErrors
from sessionlens.wording import plural


class DetailScreen(ReportsWorkerErrors, Screen[None]):
    """One session in full."""

    CSS_PATH = "detail.tcss"
    COMPONENT_CLASSES: ClassVar[set[str]] = PALETTE_CLASSES

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back", tooltip="Back to the sessions"),
        Binding("1", "show_tab('tab-tree')", "Record", tooltip="Show the record as a tree"),
        Binding("2", "show_tab('tab-json')", "JSON", tooltip="Show the record as raw JSON"),
        Binding("3", "show_tab('tab-log')", "Log", tooltip="Show the full stored log"),
        Binding(
            "4",
            "show_tab('tab-results')",
            "Results",
            tooltip="Metrics, tracking data, plots and node timings",
        ),
        Binding("slash,ctrl+f", "search", "Search", tooltip="Search the log"),
    ]

    class Loaded(Message):
        """The record (None: unreadable, ``summary.problem`` says why) and the log."""

        def __init__(
            self,
            record: Record | None,
            summary: SessionSummary,
            json_text: LogText,
            log: LogText,
            results: dict[str, Any] | None = None,
        ) -> None:
            super().__init__()
            self.record = record
            self.summary = summary
            self.json_text = json_text
            self.log = log
            self.results = results

    def __init__(self, client: StoreClient, session_id: str, clock: Clock) -> None:
        super().__init__()
        self.client = client
        self.session_id = session_id
        self.clock = clock
        self.record: Record | None = None
        self.summary: SessionSummary | None = None

    def compose(self) -> ComposeResult:
        yield Static(literal(self.session_id), id="detail-title")
        with TabbedContent(id="detail-tabs", initial="tab-tree"):
            with TabPane("Record", id="tab-tree"):
                yield RecordTree(id="record-tree")
            with TabPane("JSON", id="tab-json"):
                yield LogView(id="record-json")
            with TabPane("Log", id="tab-log"), Vertical():
                yield LogView(id="log-view")
                yield SafeInput(
                    placeholder="search the log (enter: find, n/N: next/previous)", id="log-search"
                )
                yield Static(id="log-status")
            with TabPane("Results", id="tab-results"):
                yield RecordTree(id="results-tree")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#log-search").display = False
        self._load(self.client, self.session_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail-screen")
    def _load(self, client: StoreClient, session_id: str) -> None:
        details = client.user_details(session_id) if client.has_user_details else {}
        try:
            record = client.get(session_id)
        except UnreadableSessionError as exc:  # say why; the log beside it may be readable
            summary = SessionSummary.unreadable(session_id, exc.problem, details)
            text = LogText(f"This session's record cannot be read: {exc.problem}\n")
            self.post_message(
                self.Loaded(None, summary, text, LogText(client.read_log(session_id)))
            )
            return
        summary = SessionSummary.from_record(
            record, details, heartbeat=client.last_heartbeat(session_id)
        )
        plain = to_jsonable(record)
        if details:
            plain = {**plain, "user_run_details": to_jsonable(details)}
        json_text = LogText(json.dumps(plain, indent=2, ensure_ascii=False))
        log = LogText(client.read_log(session_id))
        results = results_shown(client.results(session_id))
        self.post_message(self.Loaded(plain, summary, json_text, log, results))

    def on_detail_screen_loaded(self, message: Loaded) -> None:
        self.record, self.summary = message.record, message.summary
        if message.record is None:
            self.query_one(RecordTree).show_problem(message.summary.problem or "unreadable")
        else:
            self.query_one(RecordTree).show_record(message.record)
        self.query_one("#record-json", LogView).load(message.json_text)
        results = self.query_one("#results-tree", RecordTree)
        if message.results:
            results.show_record(message.results)
        else:
            results.show_note("No metrics, tracking data or node timings recorded")
        self.query_one("#log-view", LogView).load(message.log)
        lines = len(message.log)
        self._status(plural(lines, "log line") if lines else "No log stored for this session")
        self._draw_title()

    def _draw_title(self) -> None:
        summary = self.summary
        if summary is None:
            return
        palette = palette_of(self)
        text = Text()
        text.append_text(literal(summary.session_id, "bold"))
        text.append("  ")
        text.append(summary.status, status_style(palette, summary.status))
        if summary.problem is not None:
            text.append("  ")
            text.append_text(literal(summary.problem, palette["error"]))
        if summary.branch or summary.commit_sha:
            text.append("  ")
            text.append_text(literal(summary.branch or ""))
            text.append(" @ ")
            text.append_text(literal(summary.commit_sha or "", palette["accent"]))
        if summary.dirty:
            text.append(" dirty", palette["warning"])
        started = parse_time(summary.started_at)
        if started:
            text.append(f"  {absolute_time(started, self.clock.tz)}", palette["muted"])
        if summary.duration_s is not None:
            text.append(f"  {format_duration(summary.duration_s)}", palette["muted"])
        if summary.command:
            text.append("  ")
            text.append_text(literal(summary.command))
        self.query_one("#detail-title", Static).update(text)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.call_later(self._draw_title)

    def _status(self, message: str) -> None:
        self.query_one("#log-status", Static).update(literal(message))  # quotes the search

    # -- actions -------------------------------------------------------------------------
    def action_back(self) -> None:
        search = self.query_one("#log-search", Input)
        if search.has_focus:
            search.display = False
            self.query_one("#log-view", LogView).focus()
            return
        self.dismiss(None)

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        widget = {
            "tab-tree": "#record-tree",
            "tab-json": "#record-json",
            "tab-log": "#log-view",
            "tab-results": "#results-tree",
        }
        self.query_one(widget[tab]).focus()

    def action_search(self) -> None:
        self.action_show_tab("tab-log")
        search = self.query_one("#log-search", Input)
        search.display = True
        search.focus()

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        view = self.query_one("#log-view", LogView)
        if event.value:
            view.search(event.value)
        view.focus()

    def on_log_view_search_done(self, message: LogView.SearchDone) -> None:
        if message.match is None:
            self._status(f"Not found: {message.needle}")
        else:
            match, where = message.match, ""
            if message.rank is not None:
                where = f"hit {message.rank[0]:,} of {message.rank[1]:,}, "
            self._status(
                f"{where}line {match.line + 1:,}, column {match.column + 1}: {message.needle}"
            )


def results_shown(results: Results) -> dict[str, Any]:
    """The parts of a session's results it has, under the names the tab shows."""
    parts = results.to_dict()
    shown = {
        "metrics": parts["metrics"],
        "tracking data": parts["data"],
        "plots": parts["plots"],
        "nodes": {n.pop("name"): n for n in parts["nodes"]},
        "problems": parts["problems"],
    }
    return {name: value for name, value in shown.items() if value}
