"""The app's runs, apart from any screen: the single-run rule, the project a run belongs to, a
run started for its pane, interrupts, and stopping a run when the app goes away.

A run goes through the same core as ``sessionlens run``: :func:`sessionlens.launch.launch`,
whose reader thread hands output batches to the pane's buffer and appends the log to the store.
It is started on a thread of its own (git and the first store write stay off the UI thread),
which talks back only by posting ``RunPane.Started``/``RunPane.Ended`` to the pane, so quitting
can never deadlock on it. The sessions screen decides what to run and owns the pane; this class
runs it.

The browse connection is read-only, so a run writes through its own handle on the same store
(``open_store(location, read_only=False)``); a store that persists nothing (memory) is one
object and is shared. An app that exits any way kills the child's process group on unmount or
at interpreter exit: no orphans.
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
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sessionlens.errors import SessionLensError
from sessionlens.gitinfo import GitProbe
from sessionlens.run_request import RunRequest
from sessionlens.tui.screens.confirm import ConfirmScreen
from sessionlens.tui.widgets.run_log import MAX_LINES
from sessionlens.tui.widgets.run_pane import RunPane
from sessionlens.tui.workers import error_message
from sessionlens.worktree import HEAD, WORKTREE, SourceWorktree

if TYPE_CHECKING:
    from sessionlens.project import ProjectConfig
    from sessionlens.runner import RunningSession
    from sessionlens.stores.base import SessionStore
    from sessionlens.tui.app import SessionLensApp

#: every manager with a child that may still run, for the interpreter-exit safety net
_LIVE: weakref.WeakSet[RunManager] = weakref.WeakSet()


@atexit.register
def _kill_leftovers() -> None:
    for manager in list(_LIVE):
        manager.kill_now()


class RunManager:
    """At most one run at a time, shown in a ``RunPane`` its screen mounted."""

    #: seconds between SIGINT, SIGTERM and SIGKILL when quitting stops a run
    quit_grace = 1.0

    def __init__(
        self, app: SessionLensApp, project: ProjectConfig | str | Path | None = None
    ) -> None:
        self.app = app
        #: the project given to the app: it goes with the store the app was opened on
        self._project_spec = project
        self._spec_store = app.store.location
        self._project: ProjectConfig | None = None
        self._project_store: str | None = None  # the store ``_project`` was found for
        #: stores another tool wrote that the user agreed to record runs into
        self._adopted: set[str] = set()
        #: lines a run pane keeps
        self.max_lines = MAX_LINES
        #: the pane of the last run started (active or finished)
        self._pane: RunPane | None = None
        self._lock = threading.Lock()
        self._running: RunningSession | None = None
        #: set once the active run is over and its pane told (or it never started)
        self._finished = threading.Event()
        self._finished.set()
        self._interrupt_requested = False
        #: the app is stopping the run to quit: its end is not news
        self.stopping = False
        #: the temporary checkout of a re-run's source commit, while its run goes on
        self._worktree: SourceWorktree | None = None

    # -- state ------------------------------------------------------------------------
    @property
    def active(self) -> RunPane | None:
        """The pane of the run in progress (starting or running), if any."""
        pane = self._pane
        return pane if pane is not None and pane.active else None

    def _store(self) -> SessionStore:
        return self.app.store

    def project(self) -> ProjectConfig:
        """The project runs are launched in: the store's own. That is the project given to the
        app for the store it was opened on, else the project folder holding the store being
        browsed (after ``o``, the other store's project: its folder, its command), or the
        current folder's for a store that persists nothing. Raises ``ProjectError`` for a
        store in no project folder and for a broken pyproject.toml."""
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

    def project_or_notify(self) -> ProjectConfig | None:
        """:meth:`project`, or None after a notice saying why there is none."""
        try:
            return self.project()
        except SessionLensError as exc:
            self.app.notify(error_message(exc), severity="error", markup=False)
            return None

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

    def adoption_question(self) -> str | None:
        """What recording would first add to the store when another tool (kedro-viz, Kedro)
        wrote it, as words for a question; None when there is nothing to ask."""
        store = self._store()
        changes = store.first_write_changes()
        if changes is None or store.location in self._adopted:
            return None
        return f"{store.location}\n\nRecording this run {changes}."

    def adopt(self) -> None:
        """The user agreed to record into the store shown (asked once per store)."""
        self._adopted.add(self._store().location)

    # -- running ----------------------------------------------------------------------------
    def start(self, pane: RunPane, request: RunRequest, project: ProjectConfig) -> None:
        """Start ``request`` as a new session, its output into ``pane`` (mounted already)."""
        self._pane = pane
        self._interrupt_requested = False
        self._running = None
        self._finished.clear()
        _LIVE.add(self)
        shown = pane.log_view.size if pane.log_view.size.width else pane.app.size
        env = pane_env(shown.width, shown.height, os.environ)
        threading.Thread(
            target=self._run,
            args=(pane, request, project, env),
            name="sessionlens-launch",
            daemon=True,
        ).start()

    def _writable_store(self) -> tuple[SessionStore, bool]:
        """A read-write handle on the browsed store, and whether we must close it."""
        store = self._store()
        if not store.capabilities.persistent or not store.read_only:
            return store, False
        from sessionlens.stores import open_store

        return open_store(store.location, read_only=False), True

    def _run(
        self, pane: RunPane, request: RunRequest, project: ProjectConfig, env: dict[str, str]
    ) -> None:
        """``launch`` (the same call as ``sessionlens run``) on a thread of its own: the
        session and git info are made and the child started off the UI thread. The runner
        closes the session when the run ends and then calls ``finished``."""
        from sessionlens.launch import launch

        store: SessionStore | None = None
        owns = False
        worktree: SourceWorktree | None = None

        def release_store() -> None:
            if worktree is not None:  # the source commit's checkout goes, however the run ended
                worktree.remove()
                self._worktree = None
            if owns and store is not None:
                with contextlib.suppress(Exception):  # a read-write handle of our own
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
            options: dict[str, Any] = {}
            run_extra: dict[str, Any] = {}
            if request.rerun_of is not None:
                run_extra["rerun_source"] = HEAD
            if request.source_commit is not None:
                worktree = self._worktree = SourceWorktree(project.root, request.source_commit)
                root = worktree.create()
                run_extra.update(rerun_source=WORKTREE, rerun_commit=worktree.commit_full)
                options.update(cwd=root, git_probe=GitProbe(root))
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
                env=env,
                run_extra=run_extra,
                **options,
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

    def interrupt(self, pane: RunPane) -> None:
        """``ctrl+c``: SIGINT to the run; pressed again, escalate at once."""
        if not pane.active or pane is not self._pane:
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
        self.stopping = True
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
        self.stopping = True
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
        if not self._finished.wait(2) and self._worktree is not None:
            self._worktree.remove()  # the run's own clean-up had no time left


def _post(pane: RunPane, message: RunPane.Started | RunPane.Ended) -> None:
    """Hand a message to the UI from a thread. ``post_message`` is thread-safe; once the app
    has gone it raises (no loop to post to), and then nobody is left to tell."""
    with contextlib.suppress(RuntimeError):
        pane.post_message(message)


def _project_of_store(store: SessionStore) -> Path | None:
    """The project folder holding a store on disk (``<project>/.viz/session_store.db``...)."""
    from sessionlens.project import find_project_root

    location = Path(str(store.location))
    if not location.exists():
        return None
    return find_project_root(location if location.is_dir() else location.parent)


def pane_env(width: int, height: int, environ: Mapping[str, str]) -> dict[str, str]:
    """What a child needs to write for the run pane as for a terminal of the pane's size: the
    pane shows colours, so ``FORCE_COLOR`` (unless the user set ``NO_COLOR``) and Rich's
    ``TTY_COMPATIBLE``; ``COLUMNS``/``LINES`` so Kedro's rich logs fill a 160-column pane
    instead of wrapping at 80 (a pipe has no size to ask)."""
    env = {"COLUMNS": str(max(20, width - 1)), "LINES": str(max(5, height))}
    if "NO_COLOR" not in environ:
        env.update(FORCE_COLOR="1", TTY_COMPATIBLE="1", CLICOLOR_FORCE="1")
    return env
