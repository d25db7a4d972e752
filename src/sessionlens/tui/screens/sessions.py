"""The sessions screen: the store's sessions, a filter, sort, marks for compare, a detail panel.

The table pages through the store itself; this screen owns the query (filter text + sort), the
compare mark, polling for new sessions and the detail panel of the selected session. It also
decides what ``r``/``R``/``e`` run (the project's command, the form, a stored session's
command) and owns the run pane, mounted below the table in place of the detail panel; the
app's :class:`~sessionlens.tui.run_manager.RunManager` runs it. The pane's keys come back here
as messages.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import get_current_worker

from sessionlens.errors import SessionLensError, UnknownSessionError, UnreadableSessionError
from sessionlens.query import Query, parse_query
from sessionlens.record import Record, SessionSummary
from sessionlens.results import lower_is_better
from sessionlens.run_request import RunRequest, rerun_request
from sessionlens.tui.client import StoreClient
from sessionlens.tui.curate import CURATE_BINDINGS, CurateActions
from sessionlens.tui.keymap import with_ids
from sessionlens.tui.screens.confirm import ConfirmScreen
from sessionlens.tui.screens.metric_chooser import MetricChooserScreen
from sessionlens.tui.screens.run_form import RunFormScreen
from sessionlens.tui.settings import Settings
from sessionlens.tui.text import Clock
from sessionlens.tui.widgets.filter_bar import FilterBar
from sessionlens.tui.widgets.run_pane import RunPane
from sessionlens.tui.widgets.session_detail import SessionDetailPanel
from sessionlens.tui.widgets.session_table import SessionTable
from sessionlens.tui.widgets.store_header import StoreHeader
from sessionlens.tui.workers import ReportsWorkerErrors, error_message

if TYPE_CHECKING:
    from sessionlens.tui.run_manager import RunManager

#: sorts that read best newest/largest first
DESCENDING_FIRST = {"started", "duration", "id"}
DETAIL_DELAY = 0.08
LOG_TAIL_LINES = 12
#: a pause in typing that starts the search (keys closer together coalesce into one search)
FILTER_PAUSE_S = 0.05


class SessionsScreen(CurateActions, ReportsWorkerErrors, Screen[None]):
    """Browse the sessions of the app's store."""

    CSS_PATH = "sessions.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "focus_filter",
            "Filter",
            tooltip="Filter sessions: words and field:value terms",
        ),
        Binding("s", "cycle_sort", "Sort", tooltip="Sort by the next column"),
        Binding("S", "reverse_sort", "Reverse", tooltip="Reverse the sort order"),
        Binding("space", "mark", "Mark", tooltip="Mark the selected session for compare"),
        Binding(
            "c",
            "compare",
            "Compare",
            tooltip="Compare the marked sessions (the first is the baseline) and the selected one",
        ),
        Binding("m", "choose_metrics", "Metrics", tooltip="Choose the metric columns"),
        Binding("p", "plot", "Plot", tooltip="Plot a metric over the sessions of the filter"),
        Binding(
            "ctrl+r,f5", "reload", "Reload", show=False, tooltip="Reload sessions from the store"
        ),
        Binding("escape", "focus_table", "Table", show=False, tooltip="Back to the session table"),
        Binding("r", "run", "Run", tooltip="Run the project's command in a new session"),
        Binding("R", "run_edit", "Run…", tooltip="Edit the command and parameters, then run"),
        Binding("e", "rerun", "Re-run", tooltip="Run the selected session again, in a new session"),
        Binding(
            "ctrl+c", "interrupt_run", "Interrupt", show=False, tooltip="Interrupt the run going on"
        ),
        *CURATE_BINDINGS,
    ]
    #: ids for keymaps (``config.toml`` [keys]): ``sessions.<action>``
    BINDINGS = with_ids("sessions", BINDINGS)

    class IndexProgress(Message):
        def __init__(self, client: StoreClient, progress: tuple[int, int] | None) -> None:
            super().__init__()
            self.client = client
            self.progress = progress

    class StoreChanged(Message):
        def __init__(self, token: Any) -> None:
            super().__init__()
            self.token = token

    class DetailLoaded(Message):
        def __init__(
            self,
            summary: SessionSummary,
            record: Record | None,
            details: dict[str, Any],
            tail: list[str],
        ) -> None:
            super().__init__()
            self.summary = summary
            self.record = record
            self.details = details
            self.tail = tail

    def __init__(
        self, client: StoreClient, clock: Clock, runs: RunManager, poll_interval: float = 1.0
    ) -> None:
        super().__init__()
        self.client = client
        self.runs = runs
        #: the run pane shown (a run going on, or a finished one until closed)
        self.run_pane: RunPane | None = None
        self.clock = clock
        self.poll_interval = poll_interval
        self.filter_query: Query = parse_query("")
        self.sort = "started"
        self.descending = True
        #: sessions marked with space, in marking order: ``c`` compares them (and the selected
        #: one), the first being the baseline
        self.marked_ids: list[str] = []
        #: what is remembered for this store (metric columns, metric directions)
        self.settings = Settings(None)
        self._token: Any = None
        self._token_known = False
        self._detail_timer: Timer | None = None
        self._filter_timer: Timer | None = None
        #: the client whose index build was started (after its first rows were shown)
        self._index_started_for: StoreClient | None = None

    def compose(self) -> ComposeResult:
        yield StoreHeader(id="store-header")
        yield FilterBar(self.clock, id="filter-bar")
        with Vertical(id="sessions-body"):
            yield SessionTable(clock=self.clock, id="sessions-table")
            yield SessionDetailPanel(clock=self.clock, id="session-detail")
        yield Footer()

    @property
    def table(self) -> SessionTable:
        return self.query_one(SessionTable)

    @property
    def marked_id(self) -> str | None:
        """The first marked session (the baseline of a compare), None when none is."""
        return self.marked_ids[0] if self.marked_ids else None

    @property
    def current_query(self) -> Query:
        """The query shown: filter terms with the chosen sort."""
        return self.filter_query.sorted_by(self.sort, self.descending)

    def on_mount(self) -> None:
        self.table.config_columns = getattr(getattr(self.app, "config", None), "columns", None)
        self._poll_changes(self.client, None)
        self._poll_timer = self.set_interval(self.poll_interval, self._poll)
        self.bind_client(self.client)

    def on_screen_suspend(self) -> None:
        # hidden under the detail or compare screen: polling there would only repaint them
        self._poll_timer.pause()

    def on_screen_resume(self) -> None:
        if hasattr(self, "_poll_timer"):
            self._poll_timer.resume()
            self._poll()

    # -- store ----------------------------------------------------------------------------
    def bind_client(self, client: StoreClient) -> None:
        """Show ``client``'s store (on mount and after ``o`` opened another one)."""
        if client is not self.client:
            self._token_known = False
            self._poll_changes(client, None)
        self.client = client
        self.marked_ids = []
        self.query_one(StoreHeader).set_store(client.kind, client.location)
        self.query_one(SessionDetailPanel).show_empty("Loading…")
        self.settings = Settings.for_store(client.kind, client.location)
        if self.settings.problem:
            self.notify(self.settings.problem, severity="warning", timeout=10, markup=False)
            self.settings.problem = None
        if self.sort.startswith("metric."):
            self.sort, self.descending = "started", True
        self.table.set_metric_columns(self.settings.metric_columns)
        self.table.bind_client(client)
        self.table.show_query(self.current_query)
        self.table.focus()
        self._index_started_for = None

    @work(thread=True, exclusive=True, exit_on_error=False, group="index")
    def _build_index(self, client: StoreClient) -> None:
        """A big store seen for the first time (kedro-viz's) lists its newest sessions at once
        and is indexed here for filters and sorts, which wait for it; progress goes to the
        header. Cancelled by quitting or opening another store."""
        worker = get_current_worker()
        if not client.needs_index():
            return
        shown = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal shown
            if time.monotonic() - shown >= 0.1:  # a few repaints a second, not one a batch
                shown = time.monotonic()
                self.post_message(self.IndexProgress(client, (done, total)))

        try:
            client.build_index(progress, lambda: worker.is_cancelled)
        except Exception as exc:  # filters will say it again; the newest sessions still list
            if not worker.is_cancelled:
                self.app.notify(f"Could not index the store: {error_message(exc)}", markup=False)
        finally:
            if not worker.is_cancelled:
                self.post_message(self.IndexProgress(client, None))

    def on_sessions_screen_index_progress(self, message: IndexProgress) -> None:
        if message.client is not self.client:
            return
        waiting = message.progress is not None and self.table.is_loading
        self.query_one(StoreHeader).set_indexing(message.progress, waiting=waiting)
        if message.progress is None:  # built: the index's order and statuses from now on
            self.table.reload()

    def _poll(self) -> None:
        self._poll_changes(self.client, self._token if self._token_known else None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="poll")
    def _poll_changes(self, client: StoreClient, known: Any) -> None:
        token = client.change_token()
        if client is self.client and (token != known or not self._token_known):
            self.post_message(self.StoreChanged(token))

    def on_sessions_screen_store_changed(self, message: StoreChanged) -> None:
        # the first polls race (mount, then resume): only a different token is a change
        changed = self._token_known and message.token != self._token
        self._token, self._token_known = message.token, True
        if changed:
            self.table.reload()

    # -- table ---------------------------------------------------------------------------
    def on_session_table_loaded(self, message: SessionTable.Loaded) -> None:
        if self._index_started_for is not self.client:  # after the first rows: they come first
            self._index_started_for = self.client
            self._build_index(self.client)
        header = self.query_one(StoreHeader)
        header.set_counts(message.count, message.total, self.table.shown_query, exact=message.exact)
        if not message.count:
            self.query_one(SessionDetailPanel).show_empty(
                "No sessions match the filter" if message.total else "No sessions in this store"
            )
        elif self.table.selected is not None:
            self._schedule_detail(self.table.selected)

    def on_session_table_load_failed(self, message: SessionTable.LoadFailed) -> None:
        """A listing or count failed: say why where "loading…" would stay, and in a notice."""
        self.query_one(StoreHeader).set_error(message.message)
        if not self.table.count:
            self.query_one(SessionDetailPanel).show_empty(
                f"Could not load sessions: {message.message}"
            )
        self.notify(
            message.message, title="Could not load sessions", severity="error", markup=False
        )

    def on_session_table_highlighted(self, message: SessionTable.Highlighted) -> None:
        if message.summary is None:
            return
        # the panel is redrawn once, when the record and log tail are in (not on every key)
        self._schedule_detail(message.summary)

    def on_session_table_activated(self, message: SessionTable.Activated) -> None:
        self.open_detail(message.summary.session_id)

    def on_session_table_sort_requested(self, message: SessionTable.SortRequested) -> None:
        if message.sort == self.sort:
            self.descending = not self.descending
            self.table.show_query(self.current_query)
        else:
            self.sort_by(message.sort)

    def descending_first(self, sort: str) -> bool:
        """Which way a sort reads best first: newest, longest; a metric best first (by its
        direction, as compare says better and worse)."""
        if sort.startswith("metric."):
            name = sort[len("metric.") :]
            return not lower_is_better(name, self.settings.directions)
        return sort in DESCENDING_FIRST

    def _schedule_detail(self, summary: SessionSummary) -> None:
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(
            DETAIL_DELAY, lambda: self._load_detail(self.client, summary)
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def _load_detail(self, client: StoreClient, summary: SessionSummary) -> None:
        readable = True
        try:
            record: Record | None = client.get(summary.session_id)
        except UnknownSessionError:
            record = None
        except UnreadableSessionError:  # the row says why; its log may still be there
            record, readable = None, False
        if get_current_worker().is_cancelled:
            return
        details = client.user_details(summary.session_id) if client.has_user_details else {}
        wanted = record is not None or not readable
        tail = client.log_tail(summary.session_id, LOG_TAIL_LINES) if wanted else []
        if not get_current_worker().is_cancelled:
            self.post_message(self.DetailLoaded(summary, record, details, tail))

    def on_sessions_screen_detail_loaded(self, message: DetailLoaded) -> None:
        selected = self.table.selected
        if selected is None or selected.session_id != message.summary.session_id:
            return
        self.query_one(SessionDetailPanel).show(
            selected, message.record, message.details, message.tail
        )

    # -- filter ---------------------------------------------------------------------------
    @on(FilterBar.Changed)
    def _filter_changed(self, message: FilterBar.Changed) -> None:
        """Search once typing pauses for :data:`FILTER_PAUSE_S`; the search of the text before
        this key is abandoned at once (it is no longer wanted)."""
        self.filter_query = message.query
        self.client.interrupt()
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_PAUSE_S, self._search)

    def _search(self) -> None:
        self._filter_timer = None
        self.table.show_query(self.current_query)

    @on(FilterBar.Done)
    def _filter_done(self) -> None:
        if self._filter_timer is not None:  # Enter: no need to wait for the pause
            self._filter_timer.stop()
            self._search()
        self.table.focus()

    def set_filter(self, text: str) -> None:
        """Put ``text`` in the filter box (palette, tests); applied like typing."""
        self.query_one(FilterBar).input.value = text

    # -- actions -------------------------------------------------------------------------
    def action_focus_filter(self) -> None:
        self.query_one(FilterBar).input.focus()

    def action_focus_table(self) -> None:
        self.table.focus()

    def action_reload(self) -> None:
        self.table.reload()

    def action_cycle_sort(self) -> None:
        """The next column shown (at 80 columns, not one the width hides)."""
        columns = [c.sort for c in self.table.shown if c.sort]
        nxt = (
            columns[(columns.index(self.sort) + 1) % len(columns)]
            if self.sort in columns
            else "started"
        )
        self.sort_by(nxt)

    def sort_by(self, sort: str, descending: bool | None = None) -> None:
        self.sort = sort
        self.descending = self.descending_first(sort) if descending is None else descending
        self.table.show_query(self.current_query)

    def action_reverse_sort(self) -> None:
        self.descending = not self.descending
        self.table.show_query(self.current_query)

    def action_mark(self) -> None:
        """Mark or unmark the selected session (several can be marked: ``c`` compares all)."""
        selected = self.table.selected
        if selected is None:
            return
        session_id = selected.session_id
        if session_id in self.marked_ids:
            self.marked_ids.remove(session_id)
        else:
            self.marked_ids.append(session_id)
        self.table.marked = set(self.marked_ids)
        self.table.refresh_row_of(session_id)
        if session_id in self.marked_ids:
            count = len(self.marked_ids)
            if count == 1:
                hint = "select another session and press c to compare"
            else:
                hint = f"{count} marked (the first is the baseline); c compares them"
            self.notify(f"Marked {session_id}; {hint}", markup=False)

    def compared_ids(self) -> list[str]:
        """What ``c`` compares: the marked sessions, then the selected one if not marked."""
        ids = list(self.marked_ids)
        selected = self.table.selected
        if selected is not None and selected.session_id not in ids:
            ids.append(selected.session_id)
        return ids

    def action_compare(self) -> None:
        if not self.marked_ids:
            self.notify(
                "Mark a session with space first, then press c on another one", severity="warning"
            )
            return
        ids = self.compared_ids()
        if len(ids) < 2:
            self.notify("Select a session other than the marked one to compare", severity="warning")
            return
        from sessionlens.tui.screens.compare import CompareScreen

        self.app.push_screen(CompareScreen(self.client, *ids, settings=self.settings))

    def action_choose_metrics(self) -> None:
        chooser = MetricChooserScreen(self.client, list(self.table.metric_columns))
        self.app.push_screen(chooser, self.set_metric_columns)

    def set_metric_columns(self, names: list[str] | None) -> None:
        """Show ``names`` as columns and remember them for this store (None: unchanged)."""
        if names is None:
            return
        self.table.set_metric_columns(names)
        problem = self.settings.set_metric_columns(names)
        if problem:
            self.notify(problem, severity="warning", markup=False)

    def action_plot(self) -> None:
        """A metric over the sessions of the filter, oldest first, the marked ones
        highlighted; the metric is the first metric column, else the store's first."""
        from sessionlens.tui.screens.plot import PlotScreen

        shown = self.table.metric_columns
        self.app.push_screen(
            PlotScreen(
                self.client,
                self.filter_query,
                shown[0] if shown else None,
                marked=list(self.marked_ids),
                clock=self.clock,
            )
        )

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """Commands beyond the keys, for the command palette."""
        columns = [c.sort for c in self.table.columns if c.sort]
        commands: list[tuple[str, str, Callable[[], object]]] = [
            (f"Sort by {name}", "sessions", partial(self.sort_by, name)) for name in columns
        ]
        commands.append(("Clear the filter", "sessions", partial(self.set_filter, "")))
        commands.append(
            ("Hide the metric columns", "sessions", partial(self.set_metric_columns, []))
        )
        commands.append(
            ("Filter: failed sessions", "status:failed", partial(self.set_filter, "status:failed"))
        )
        commands.append(
            ("Filter: dirty working tree", "dirty:yes", partial(self.set_filter, "dirty:yes"))
        )
        commands.append(
            ("Filter: archived sessions", "archived:yes", partial(self.set_filter, "archived:yes"))
        )
        commands.append(("Export the filtered table to CSV", "key: E", self.action_export_csv))
        return commands

    # -- runs -----------------------------------------------------------------------------
    def action_run(self) -> None:
        """``r``: the project's configured command (the form when there is none)."""
        self._launch()

    def action_run_edit(self) -> None:
        """``R``: edit the command and parameters first."""
        self._launch(form=True)

    def action_rerun(self) -> None:
        """``e``: the selected session's command and parameters, in a NEW session."""
        summary = self.table.selected
        if summary is None:
            self.notify("Select a session to re-run", severity="warning")
            return
        self._launch(rerun_of=summary.session_id)

    def action_interrupt_run(self) -> None:
        """ctrl+c anywhere on this screen stops the run; without one, Textual's quit hint."""
        if not self.runs.interrupt_active():
            self.app.action_help_quit()

    @work(exclusive=True, group="run-launch")
    async def _launch(
        self, request: RunRequest | None = None, *, form: bool = False, rerun_of: str | None = None
    ) -> None:
        """What to run (the project's command, a stored session's, or the form's), asked once
        per store whether to record into a store another tool wrote, then run in a new pane.
        The single-run rule is checked first and again at the end (a dialog takes time)."""
        runs = self.runs
        if runs.refuse_if_running():
            return
        project = runs.project_or_notify()
        if project is None:
            return
        note = None
        if rerun_of is not None:
            found = await self._rerun_request(rerun_of)
            if found is None:
                return
            request = await self._which_commit(*found, project.root)
            if request is None:
                return
        elif request is None:
            command = project.default_command()
            if command is None:
                form = True
                note = (
                    "No run command is configured for this project: type one, or set "
                    f"[tool.sessionlens] run = [...] in {project.root / 'pyproject.toml'}"
                )
            request = RunRequest(command or [])
        if form:
            request = await self.app.push_screen_wait(
                RunFormScreen(request, project_root=project.root, note=note)
            )
            if request is None:
                return
        question = runs.adoption_question()
        if question is not None:
            dialog = ConfirmScreen("Record into this store?", question, "Record the run", "Cancel")
            if not await self.app.push_screen_wait(dialog):
                return
            runs.adopt()
        if runs.refuse_if_running():
            return
        pane = RunPane(request, max_lines=runs.max_lines)
        self._show_run_pane(pane)
        runs.start(pane, request, project)

    async def _rerun_request(self, session_id: str) -> tuple[RunRequest, Record] | None:
        """The stored session's command and parameters (None, with a notice, when it has
        none or cannot be read)."""
        try:
            record = await asyncio.to_thread(self.client.get, session_id)
        except SessionLensError as exc:
            self.notify(error_message(exc), severity="error", markup=False)
            return None
        request = rerun_request(record)
        if request is None:
            self.notify(
                f"Session {session_id} ran no command (a Python callable or a record without "
                "one): nothing to re-run. Press R to type a command.",
                severity="warning",
                markup=False,
            )
            return None
        return request, record

    async def _which_commit(
        self, request: RunRequest, record: Record, root: Path
    ) -> RunRequest | None:
        """Say which commit a re-run runs; when the session ran other code than HEAD, ask
        whether to run HEAD or its source commit in a temporary worktree (None: cancelled)."""
        from sessionlens.tui.screens.rerun_choice import RerunChoiceScreen
        from sessionlens.worktree import WORKTREE, rerun_plan

        source_id = request.rerun_of or ""
        plan = await asyncio.to_thread(rerun_plan, record, root)
        if not plan.differs:
            at = f" at {plan.head.commit_sha}" if plan.head is not None else ""
            self.notify(f"Re-running {source_id}{at} (HEAD)", markup=False)
            return request
        choice = await self.app.push_screen_wait(RerunChoiceScreen(source_id, plan))
        if choice is None:
            return None
        if choice == WORKTREE:
            self.notify(
                f"Re-running {source_id} at its commit {plan.source[:7] if plan.source else ''} "
                "in a temporary worktree",
                markup=False,
            )
            return replace(request, source_commit=plan.source)
        head = plan.head.commit_sha if plan.head is not None else "HEAD"
        self.notify(f"Re-running {source_id} at HEAD {head}", markup=False)
        return request

    def _show_run_pane(self, pane: RunPane) -> None:
        """The new run's pane takes the detail panel's place (an older pane goes)."""
        if self.run_pane is not None:
            self.run_pane.remove()
        self.run_pane = pane
        self.query_one(SessionDetailPanel).display = False
        self.query_one("#sessions-body").mount(pane, after=self.table)
        if self.app.screen is self:
            pane.call_after_refresh(pane.log_view.focus)

    @on(RunPane.CloseRequested)
    def _close_run_pane(self, message: RunPane.CloseRequested) -> None:
        pane = message.pane
        if pane.active:
            self.notify("The run is still going: ctrl+c interrupts it first", markup=False)
            return
        pane.remove()
        if self.run_pane is pane:
            self.run_pane = None
        self.query_one(SessionDetailPanel).display = True
        self.table.focus()

    @on(RunPane.InterruptRequested)
    def _interrupt_run(self, message: RunPane.InterruptRequested) -> None:
        self.runs.interrupt(message.pane)

    @on(RunPane.CompareRequested)
    def _compare_rerun(self, message: RunPane.CompareRequested) -> None:
        pane = message.pane
        if pane.rerun_of and pane.session_id:
            from sessionlens.tui.screens.compare import CompareScreen

            self.app.push_screen(
                CompareScreen(self.client, pane.rerun_of, pane.session_id, settings=self.settings)
            )

    @on(RunPane.RunAgainRequested)
    def _run_again(self, message: RunPane.RunAgainRequested) -> None:
        pane = message.pane
        if pane.active:
            self.runs.refuse_if_running()
            return
        self._ask_to_run_again(pane)

    @work(exclusive=True, group="run-launch")
    async def _ask_to_run_again(self, pane: RunPane) -> None:
        """A session runs once: asked to run it again, the session says why not (or the run
        never started), and a new session with the same command and parameters is offered."""
        error = pane.session.second_run_error() if pane.session is not None else None
        reason = str(error) if error is not None else f"the run could not start: {pane.error}"
        question = (
            f"{reason}\n\nRun the same command and parameters in a new session "
            f"(recorded as a re-run of {pane.session_id})?"
        )
        dialog = ConfirmScreen("One run per session", question, "Run in a new session", "Cancel")
        if await self.app.push_screen_wait(dialog):
            self._launch(replace(pane.request, rerun_of=pane.session_id))

    def on_run_pane_started(self, message: RunPane.Started) -> None:
        self.table.reload()

    def on_run_pane_ended(self, message: RunPane.Ended) -> None:
        self.table.reload()
        pane = message.pane
        if pane is not self.run_pane or self.runs.stopping:
            return
        status = pane.status
        text = f"Session {pane.session_id} {status}"
        if pane.exit_code is not None:
            text += f" (exit {pane.exit_code})"
        if pane.rerun_of and pane.record is not None:
            text += f". Press c in the run pane to compare it with {pane.rerun_of}"
        severity = "information" if status == "success" else "warning"
        self.notify(text, severity=severity, markup=False)

    def open_detail(self, session_id: str) -> None:
        from sessionlens.tui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(self.client, session_id, self.clock))
