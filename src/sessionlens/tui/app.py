"""``SessionLensApp``: the screens on top of one store, and ``run_app`` for the CLI.

The app holds the store (through a read-only ``StoreClient``), the clock, and the actions that
work on every screen: open another store, keys, theme, quit. Screens live in ``screens/``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel

from sessionlens.config import UserConfig
from sessionlens.project import ProjectConfig
from sessionlens.stores.base import SessionStore
from sessionlens.textsafe import safe_text
from sessionlens.tui.client import StoreClient
from sessionlens.tui.commands import SessionLensCommands
from sessionlens.tui.keymap import with_ids
from sessionlens.tui.run_manager import RunManager
from sessionlens.tui.screens.sessions import SessionsScreen
from sessionlens.tui.text import Clock

DARK, LIGHT = "textual-dark", "textual-light"

#: After SIGHUP/SIGTERM: how long to wait for a running child's final record to be saved...
RECORD_WAIT_S = 10.0
#: ...and then how long Textual's own shutdown may take before the process leaves regardless.
EXIT_GRACE_S = 3.0
#: A second signal leaves at once, after waiting at most this long for that record.
SECOND_SIGNAL_WAIT_S = 0.5


class SessionLensApp(App[int]):
    """Browse, inspect and compare the sessions of a store."""

    TITLE = "sessionlens"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {SessionLensCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", tooltip="Quit sessionlens"),
        Binding("question_mark", "help", "Keys", tooltip="Show the keys of this screen"),
        Binding("o", "open_store", "Open", tooltip="Open another session store"),
        Binding("t", "toggle_theme", "Theme", tooltip="Toggle the light and the dark theme"),
    ]
    #: ids for keymaps (``config.toml`` [keys]): ``app.<action>``
    BINDINGS = with_ids("app", BINDINGS)

    def __init__(
        self,
        store: SessionStore,
        *,
        now: datetime | None = None,
        tz: tzinfo | None = None,
        poll_interval: float = 1.0,
        theme: str = DARK,
        project: ProjectConfig | str | Path | None = None,
        config: UserConfig | None = None,
    ) -> None:
        """``now``/``tz`` freeze the clock (snapshots); ``poll_interval``: seconds between
        checks for sessions written by other processes; ``project``: where ``r``/``R``/``e``
        launch runs (default: the project holding the store, else the current folder's)."""
        super().__init__()
        self.client = StoreClient(store)
        self.clock = Clock(now, tz)
        self.poll_interval = poll_interval
        self.theme = theme
        #: the user's config.toml (theme, columns, keys), applied on mount
        self.config = config or UserConfig()
        #: stores this app opened itself (with ``o``), closed when replaced or on exit
        self._opened: list[SessionStore] = []
        #: launching and watching runs (the run pane), at most one at a time
        self.runs = RunManager(self, project)
        #: called last when the app unmounts (``run_app`` makes sure the process ends)
        self.after_unmount: Callable[[], None] | None = None

    @property
    def store(self) -> SessionStore:
        return self.client.store

    # -- terminal safety: text that reaches the terminal without a widget of ours ----------
    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification (``Widget.notify`` lands here too), whatever its call site: a
        message quoting a store (an error, a session id) is shown, never obeyed. Thread-safe,
        as Textual's."""
        super().notify(
            safe_text(str(message), keep_newlines=True),
            title=safe_text(str(title)),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def validate_title(self, title: Any) -> str:
        return safe_text(str(title))

    def validate_sub_title(self, sub_title: Any) -> str:
        return safe_text(str(sub_title))

    def on_mount(self) -> None:
        self._apply_config(self.config)
        self.push_screen(SessionsScreen(self.client, self.clock, self.runs, self.poll_interval))
        self._tell_store_notice(self.store)

    def _apply_config(self, config: UserConfig) -> None:
        """Theme and keymap from config.toml; a problem is one notice, and defaults stay."""
        problem = config.problem
        if config.theme:
            if config.theme in self.available_themes:
                self.theme = config.theme
            else:
                problem = problem or f"{config.path}: no theme {config.theme!r}; using the default"
        if config.keys:
            self.set_keymap(config.keys)
        if problem:
            self.notify(problem, title="config.toml", severity="warning", markup=False)

    def _tell_store_notice(self, store: SessionStore) -> None:
        """What a person browsing this store should know (e.g. it is read from a copy)."""
        if store.notice:
            self.notify(
                store.notice, title="About this store", severity="warning", timeout=12, markup=False
            )

    @property
    def sessions_screen(self) -> SessionsScreen:
        return next(s for s in self.screen_stack if isinstance(s, SessionsScreen))

    def action_help(self) -> None:
        from sessionlens.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK

    def action_open_store(self) -> None:
        from sessionlens.tui.screens.open_store import OpenStoreScreen

        if not isinstance(self.screen, OpenStoreScreen):
            self.push_screen(OpenStoreScreen(), self.use_store)

    def use_store(self, store: SessionStore | None) -> None:
        """Show ``store`` instead of the current one (None: the user cancelled)."""
        if store is None:
            return
        old = self.client
        self.client = StoreClient(store)
        self._opened.append(store)
        while not isinstance(self.screen, SessionsScreen):
            self.pop_screen()
        self.sessions_screen.bind_client(self.client)
        if old.store in self._opened:
            self._opened.remove(old.store)
            old.close()
        self.notify(f"Opened {store.describe()}", markup=False)
        self._tell_store_notice(store)

    async def action_quit(self) -> None:
        """Quit; while a run is in progress, ask first (quitting stops it)."""
        self.runs.request_quit()

    def on_unmount(self) -> None:
        if self.after_unmount is not None:  # armed first: closing a store may wait on a worker
            self.after_unmount()
        self.runs.shutdown()
        for store in self._opened:
            store.close()
        self._opened.clear()


def run_app(
    store: SessionStore,
    project: ProjectConfig | str | Path | None = None,
    config: UserConfig | None = None,
) -> int:
    """Run the app on ``store`` until the user quits; the exit code for the CLI.

    The caller owns ``store`` (and closes it); stores opened inside the app with ``o`` are
    closed by the app. After SIGHUP or SIGTERM the process ends for certain (see
    :func:`_exit_for_certain_on_hangup`): ``run_app`` is for a process about to exit.
    """
    app = SessionLensApp(store, project=project, config=config)
    app.after_unmount = lambda: _leave_for_certain(app)
    with _exit_for_certain_on_hangup(app):
        app.run()
    return app.return_code or 0


def _leave_for_certain(app: SessionLensApp) -> None:
    """The app is unmounting (``q``, or any other exit): make sure the process then ends.

    A worker may be stuck in a store call nobody can interrupt: a read waiting in SQLite's busy
    handler (up to its 30 s timeout, and the next poll after it) while another process holds the
    store locked. asyncio joins such threads before ``App.run`` returns, and closing the store
    waits for its lock, so ``q`` left a process behind for minutes after giving the terminal
    back. A helper thread waits for a run's final record (``RunManager.shutdown`` does that
    first), gives the normal exit :data:`EXIT_GRACE_S`, then ends the process with the app's
    exit code. Nothing is lost: the browsing store is read-only and runs are saved by then."""

    def leave() -> None:
        app.runs.wait_finished(RECORD_WAIT_S)
        threading.Event().wait(EXIT_GRACE_S)
        os._exit(app.return_code or 0)

    threading.Thread(target=leave, name="sessionlens-leave", daemon=True).start()


@contextlib.contextmanager
def _exit_for_certain_on_hangup(app: SessionLensApp) -> Iterator[None]:
    """A closed terminal (SIGHUP) or ``kill`` (SIGTERM): stop the running child, save its
    record, then leave - for certain.

    Leaving through Textual alone was not certain: when a terminal goes away the kernel sends
    SIGCONT with SIGHUP, Textual's driver answers SIGCONT by restarting application mode on
    the dead terminal, its writer thread dies on EIO, and the main thread blocks for ever on
    the writer's full queue, deaf to every later SIGTERM (about 1 in 12 ``tmux kill-session``).
    So the first signal:

    1. kills the child's process group at once (the runner then saves its ``interrupted``
       record on its own thread) and stops Textual from restarting on SIGCONT;
    2. asks the app to exit with 128 + the signal number, as a shell reports it;
    3. starts a helper thread that waits for the record (at most :data:`RECORD_WAIT_S`), gives
       Textual :data:`EXIT_GRACE_S` more to shut down, then ends the process with
       ``os._exit`` and the same code. Nothing outside the app is left to clean up by then:
       the store's writes are committed, and the terminal is gone (or, for a plain SIGTERM
       whose shutdown hung, cannot be restored anyway).

    A second signal leaves at once (waiting at most :data:`SECOND_SIGNAL_WAIT_S` for the
    record). Signal handlers run on the main thread, but also while it waits on a lock, so
    they run even when Textual is stuck; the helper thread does not depend on them.
    """
    received: list[int] = []

    def leave(code: int) -> None:
        app.runs.wait_finished(RECORD_WAIT_S)
        threading.Event().wait(EXIT_GRACE_S)
        os._exit(code)

    def stop(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        app.runs.kill_now()
        if len(received) > 1:
            app.runs.wait_finished(SECOND_SIGNAL_WAIT_S)
            os._exit(128 + signum)
        if hasattr(signal, "SIGCONT"):
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signal.SIGCONT, signal.SIG_DFL)
        threading.Thread(
            target=leave, args=(128 + signum,), name="sessionlens-exit", daemon=True
        ).start()
        app.exit(return_code=128 + signum)

    signals = [s for s in (getattr(signal, "SIGHUP", None), signal.SIGTERM) if s is not None]
    previous = {sig: signal.signal(sig, stop) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
