"""Launching runs from the app: ``r``, ``R``, ``e``, the single-run rule, interrupts and quitting.

``RunManager`` (one per app, ``app.runs``) goes through the same core as ``sessionlens run``:
``Session.create`` + :class:`sessionlens.runner.RunningSession`, whose reader thread hands
output batches to the run pane's buffer and appends the log to the store. The session is
created and started on a thread of its own (git and the first store write stay off the UI
thread); it talks back with thread-safe ``post_message`` only, so quitting can never deadlock
on it.

The browse connection is read-only, so a run writes through its own handle on the same store
(``open_store(location, read_only=False)``); an in-memory store is one object and is shared.

The single-run rule, in the UI: while a run is starting or running another launch is refused
with a notice naming that session; "run again" on a finished run asks the session core, which
refuses (``SessionError``: one run per session), and the dialog offers a new session instead.
Quitting while a run is active asks first, then stops the child (SIGINT, SIGTERM, SIGKILL a
``quit_grace`` apart) and waits until its final record is saved; an app that exits any other
way kills the child's process group on unmount or at interpreter exit: no orphans.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import threading
import time
import weakref
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from sessionlens.errors import SessionError, SessionLensError
from sessionlens.record import SessionSummary
from sessionlens.tui.screens.run_form import RunFormScreen, RunRequest
from sessionlens.tui.text import literal
from sessionlens.tui.widgets.run_pane import MAX_LINES, RunPane
from sessionlens.tui.workers import error_message

if TYPE_CHECKING:
    from textual.app import App

    from sessionlens.project import ProjectConfig
    from sessionlens.runner import RunningSession
    from sessionlens.stores.base import SessionStore


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; ``y``/``enter`` on the first button answer yes, ``n``/``escape`` no."""

    CSS_PATH = "run.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", tooltip="Answer yes"),
        Binding("n,escape", "answer(False)", "No", tooltip="Answer no"),
    ]

    def __init__(self, title: str, message: str, yes: str, no: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static(literal(self.title_text), id="confirm-title")
            yield Static(literal(self.message, keep_newlines=True), id="confirm-message")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.yes} (y)", variant="warning", id="confirm-yes")
                yield Button(f"{self.no} (n)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")


#: every manager with a child that may still run, for the interpreter-exit safety net
_LIVE: weakref.WeakSet[RunManager] = weakref.WeakSet()


@atexit.register
def _kill_leftovers() -> None:
    for manager in list(_LIVE):
        manager.kill_now()


class RunManager:
    """The app's runs: at most one active, shown in a ``RunPane`` under the session table."""

    #: seconds between SIGINT, SIGTERM and SIGKILL when quitting stops a run
    quit_grace = 1.0

    def __init__(self, app: App[Any], project: ProjectConfig | str | Path | None = None) -> None:
        self.app = app
        #: the project given to the app: it goes with the store the app was opened on
        self._project_spec = project
        self._spec_store = self._store().location
        self._project: ProjectConfig | None = None
        self._project_store: str | None = None  # the store ``_project`` was found for
        #: stores another tool wrote that the user agreed to record runs into
        self._adopted: set[str] = set()
        #: the pane shown (active or finished), at most one
        self.pane: RunPane | None = None
        #: lines the pane keeps
        self.max_lines = MAX_LINES
        self._lock = threading.Lock()
        self._running: RunningSession | None = None
        #: set once the active run is over and its pane told (or it never started)
        self._finished = threading.Event()
        self._finished.set()
        self._interrupt_requested = False
        self._stopping = False

    # -- state ------------------------------------------------------------------------
    @property
    def active(self) -> RunPane | None:
        """The pane of the run in progress (starting or running), if any."""
        pane = self.pane
        return pane if pane is not None and pane.active else None

    def project(self) -> ProjectConfig:
        """The project runs are launched in: the store's own. That is the project given to the
        app for the store it was opened on, else the project folder holding the store being
        browsed (after ``o``, the other store's project: its folder, its command), or the
        current folder's for an in-memory store. Raises ``ProjectError`` for a store in no
        project folder and for a broken pyproject.toml."""
        store = self._store()
        if self._project is None or self._project_store != store.location:
            self._project = self._project_for(store)
            self._project_store = store.location
        return self._project

    def _project_for(self, store: SessionStore) -> ProjectConfig:
        from sessionlens.project import ProjectConfig, ProjectError, load_project

        spec = self._project_spec
        if spec is not None and store.location == self._spec_store:
            if isinstance(spec, ProjectConfig):
                return spec
            return load_project(spec, search_parents=False)
        if not store.capabilities.persistent:
            return load_project()
        root = _project_of_store(store)
        if root is None:
            raise ProjectError(
                f"{store.location} is in no project folder (no pyproject.toml or git work tree "
                "above it), so there is no project to run; open a project's store (o), or run "
                f"from a shell: sessionlens run --store {store.location} -- COMMAND"
            )
        return load_project(root, search_parents=False)

    def _store(self) -> SessionStore:
        return self.app.client.store  # type: ignore[attr-defined, no-any-return]

    def refuse_if_running(self) -> bool:
        """The single-run rule: True (and a notice naming the session) while a run is active."""
        pane = self.active
        if pane is None:
            return False
        what = f"Session {pane.session_id} is" if pane.session_id else "A run is starting, so it is"
        self.app.notify(
            f"{what} still running: one run at a time. Wait for it to end, or press ctrl+c "
            "in the run pane to interrupt it.",
            title="Run refused",
            severity="warning",
            markup=False,
        )
        return True

    # -- launching --------------------------------------------------------------------------
    def launch_default(self) -> None:
        """``r``: the project's configured command; asks for one when there is none."""
        if self.refuse_if_running():
            return
        project = self._project_or_notify()
        if project is None:
            return
        command = project.default_command()
        if command is None:
            self.launch_with_form(
                note="No run command is configured for this project: type one, or set "
                f"[tool.sessionlens] run = [...] in {project.root / 'pyproject.toml'}"
            )
            return
        self.launch(RunRequest(command))

    def launch_with_form(self, request: RunRequest | None = None, note: str | None = None) -> None:
        """``R``: edit the command and parameters, then launch."""
        if self.refuse_if_running():
            return
        project = self._project_or_notify()
        if project is None:
            return
        if request is None:
            request = RunRequest(project.default_command() or [])
        self.app.push_screen(
            RunFormScreen(request, project_root=project.root, note=note), self._form_done
        )

    def _form_done(self, request: RunRequest | None) -> None:
        if request is not None:
            self.launch(request)

    def rerun(self, summary: SessionSummary | None) -> None:
        """``e``: the selected session's command and parameters in a NEW session."""
        if self.refuse_if_running():
            return
        if summary is None:
            self.app.notify("Select a session to re-run", severity="warning")
            return
        try:
            record = self.app.client.get(summary.session_id)  # type: ignore[attr-defined]
        except SessionLensError as exc:
            self.app.notify(error_message(exc), severity="error", markup=False)
            return
        from sessionlens.runner import rerun_request

        request = rerun_request(record)
        if request is None:
            self.app.notify(
                f"Session {summary.session_id} ran no command (a Python callable or a record "
                "without one): nothing to re-run. Press R to type a command.",
                severity="warning",
                markup=False,
            )
            return
        command, params = request
        self.launch(RunRequest(command, params, rerun_of=summary.session_id))

    def run_again(self, pane: RunPane) -> None:
        """Run the pane's session again: the core refuses (one run per session); offer a new
        session with the same command instead."""
        if pane.active:
            self.refuse_if_running()
            return
        session = pane.session
        try:
            if session is None:  # it could not even be created: nothing ran
                raise SessionError(f"the run could not start: {pane.error}")
            session.start(pane.command)  # the single-run rule lives in the core
        except SessionError as exc:
            message = (
                f"{error_message(exc)}\n\nRun the same command and parameters in a new session "
                f"(recorded as a re-run of {pane.session_id})?"
            )
        else:  # pragma: no cover - the core refuses; never start a second run silently
            message = "the session core accepted a second run, which it must not"
        request = replace(pane.request, rerun_of=pane.session_id)

        def answered(yes: bool | None) -> None:
            if yes:
                self.launch(request)

        self.app.push_screen(
            ConfirmScreen(
                "One run per session",
                message,
                yes="Run in a new session",
                no="Cancel",
            ),
            answered,
        )

    def launch(self, request: RunRequest) -> RunPane | None:
        """Start ``request`` as a new session, shown in a fresh run pane; None when refused
        (or when the user is first asked whether to record into a store another tool wrote)."""
        if self.refuse_if_running():
            return None
        project = self._project_or_notify()
        if project is None:
            return None
        if self._ask_before_adopting(request):
            return None
        from sessionlens.runner import command_with_params

        pane = RunPane(
            None,
            command_with_params(request.command, request.params),
            rerun_of=request.rerun_of,
            max_lines=self.max_lines,
        )
        pane.request = request
        self._show(pane)
        self._interrupt_requested = False
        self._running = None
        self._finished.clear()
        _LIVE.add(self)
        threading.Thread(
            target=self._run,
            args=(pane, request, project),
            name="sessionlens-launch",
            daemon=True,
        ).start()
        return pane

    def _ask_before_adopting(self, request: RunRequest) -> bool:
        """True (and a question on screen) when recording would first add sessionlens's own
        tables or folders to a store that another tool (kedro-viz, Kedro) wrote."""
        store = self._store()
        changes = store.first_write_changes()
        if changes is None or store.location in self._adopted:
            return False

        def answered(yes: bool | None) -> None:
            if yes:
                self._adopted.add(store.location)
                self.launch(request)

        self.app.push_screen(
            ConfirmScreen(
                "Record into this store?",
                f"{store.location}\n\nRecording this run {changes}.",
                yes="Record the run",
                no="Cancel",
            ),
            answered,
        )
        return True

    def _show(self, pane: RunPane) -> None:
        old = self.pane
        if old is not None:
            old.remove()
        self.pane = pane
        screen = self.app.sessions_screen  # type: ignore[attr-defined]
        body = screen.query_one("#sessions-body")
        with contextlib.suppress(Exception):
            screen.query_one("#session-detail").display = False
        body.mount(pane, after=screen.query_one("#sessions-table"))
        if self.app.screen is screen:
            pane.call_after_refresh(pane.log_view.focus)

    def close_pane(self, pane: RunPane) -> None:
        """``x``: remove a finished run's pane, the detail panel comes back."""
        if pane.active:
            self.app.notify("The run is still going: ctrl+c interrupts it first", markup=False)
            return
        if self.pane is pane:
            self.pane = None
        screen = pane.screen
        pane.remove()
        with contextlib.suppress(Exception):
            screen.query_one("#session-detail").display = True
            screen.query_one("#sessions-table").focus()

    def _writable_store(self) -> tuple[SessionStore, bool]:
        """A read-write handle on the browsed store, and whether we must close it."""
        store = self._store()
        if store.kind == "memory" or not store.read_only:
            return store, False
        from sessionlens.stores import open_store

        return open_store(store.location, read_only=False), True

    # -- the launching thread ----------------------------------------------------------------
    def _run(self, pane: RunPane, request: RunRequest, project: ProjectConfig) -> None:
        """``runner.launch`` (the same call as ``sessionlens run``) on a thread of its own:
        the session and git info are made and the child started off the UI thread. The
        runner closes the session when the run ends and then calls ``finished``."""
        from sessionlens.runner import launch

        store: SessionStore | None = None
        owns = False

        def release_store() -> None:
            if owns and store is not None:
                with contextlib.suppress(Exception):
                    store.close()

        def finished(running: RunningSession) -> None:  # on the reader thread
            try:
                error = None
                if running.error is not None:  # the store refused the final record
                    error = f"the outcome could not be recorded: {error_message(running.error)}"
                elif running.log_error is not None:
                    error = f"the stored log is incomplete: {error_message(running.log_error)}"
                _post(pane, RunPane.Ended(pane, running, running.session.record, error))
            finally:
                release_store()
                self._finished.set()

        try:
            store, owns = self._writable_store()
            running = launch(
                request.command,
                project=project,
                params=request.params,
                store=store,
                rerun_of=request.rerun_of,
                env_name=request.env,
                on_output=pane.buffer.feed,
                on_finish=finished,
            )
        except Exception as exc:
            release_store()
            _post(pane, RunPane.Ended(pane, None, None, error_message(exc)))
            self._finished.set()
            return
        with self._lock:
            self._running = running
            if self._interrupt_requested:
                running.interrupt()
        _post(pane, RunPane.Started(pane, running))

    # -- called by the pane (UI thread) ---------------------------------------------------------
    def started(self, pane: RunPane) -> None:
        self._reload_table()

    def ended(self, pane: RunPane) -> None:
        self._reload_table()
        if pane is not self.pane or self._stopping:
            return
        status = pane.status
        severity = "information" if status == "success" else "warning"
        text = f"Session {pane.session_id} {status}"
        if pane.exit_code is not None:
            text += f" (exit {pane.exit_code})"
        if pane.rerun_of and pane.record is not None:
            text += f". Press c in the run pane to compare it with {pane.rerun_of}"
        self.app.notify(text, severity=severity, markup=False)

    def _reload_table(self) -> None:
        with contextlib.suppress(Exception):
            self.app.sessions_screen.table.reload()  # type: ignore[attr-defined]

    def interrupt(self, pane: RunPane) -> None:
        """``ctrl+c`` in the pane: SIGINT to the run; pressed again, escalate at once."""
        if not pane.active or pane is not self.pane:
            return
        with self._lock:
            running = self._running
            if running is None:
                self._interrupt_requested = True
        if running is not None:
            running.interrupt()
        pane.interrupts += 1
        first = pane.interrupts == 1
        self.app.notify(
            f"Interrupting session {pane.session_id}"
            + (" (ctrl+c again to force)" if first else ": escalating"),
            markup=False,
        )

    def interrupt_active(self) -> bool:
        """ctrl+c outside the pane: interrupt the run going on; False when there is none."""
        pane = self.active
        if pane is None:
            return False
        self.interrupt(pane)
        return True

    def compare(self, left: str, right: str) -> None:
        """Open the compare screen on the two sessions (a re-run and its source)."""
        try:
            from sessionlens.tui.screens.compare import CompareScreen
        except ImportError:  # pragma: no cover - the compare screen ships with the app
            self.app.notify("The compare screen is not available", severity="error")
            return
        self.app.push_screen(CompareScreen(self.app.client, left, right))  # type: ignore[attr-defined]

    # -- quitting --------------------------------------------------------------------------
    def request_quit(self) -> None:
        """``q``: quit now, or ask first while a run is active (quitting stops it)."""
        pane = self.active
        if pane is None:
            self.app.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.run_worker(self._stop_and_exit(), group="quit", exclusive=True)

        self.app.push_screen(
            ConfirmScreen(
                "Quit sessionlens?",
                f"Session {pane.session_id} is still running:\n{' '.join(pane.command)}\n\n"
                "Quitting stops it (it is recorded as interrupted).",
                yes="Stop the run and quit",
                no="Keep running",
            ),
            answered,
        )

    async def _stop_and_exit(self) -> None:
        pane = self.active
        if pane is not None:
            self.app.notify(f"Stopping session {pane.session_id}…", markup=False)
        await self.stop(self.quit_grace)
        self.app.exit()

    async def stop(self, grace: float) -> None:
        """Stop the active run: SIGINT, SIGTERM, SIGKILL ``grace`` seconds apart, until its
        final record is saved (the UI keeps running meanwhile)."""
        self._stopping = True
        self._interrupt_requested = True
        for _ in range(3):
            running = self._running
            if running is not None and not running.done:
                running.interrupt()
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and not self._finished.is_set():
                await asyncio.sleep(0.02)
            if self._finished.is_set():
                return
        end = time.monotonic() + 10
        while not self._finished.is_set() and time.monotonic() < end:
            await asyncio.sleep(0.02)

    def wait_finished(self, timeout: float | None = None) -> bool:
        """Block until no run is active or its final record is saved; False on timeout. Safe
        from any thread (a signal handler's helper thread uses it)."""
        return self._finished.wait(timeout)

    def shutdown(self) -> None:
        """The app is going away (any way): kill a child still running, wait for its record."""
        self._stopping = True
        self.kill_now()
        self._finished.wait(timeout=10)
        _LIVE.discard(self)

    def kill_now(self) -> None:
        """SIGKILL the active child's process group at once (last resort)."""
        self._interrupt_requested = True
        running = self._running
        if running is None or running.done:
            return
        for _ in range(3):
            running.interrupt()
        pid = running.pid
        if pid is not None and not running.done:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)

    def _project_or_notify(self) -> ProjectConfig | None:
        try:
            return self.project()
        except SessionLensError as exc:
            self.app.notify(error_message(exc), severity="error", markup=False)
            return None


def _post(pane: RunPane, message: Any) -> None:
    """Thread-safe hand-off to the UI; nothing to do once the app is gone."""
    with contextlib.suppress(Exception):
        pane.post_message(message)


def _project_of_store(store: SessionStore) -> Path | None:
    """The project folder holding a store on disk (``<project>/.viz/session_store.db``...)."""
    from sessionlens.project import find_project_root

    location = Path(str(store.location))
    if not location.exists():
        return None
    return find_project_root(location if location.is_dir() else location.parent)
