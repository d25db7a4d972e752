"""``Session``: the lifecycle of one run, after Kedro's ``KedroSession`` (DESIGN.md section 1).

``create`` gathers everything about the run's context (id, project, user, git, CLI, Python),
``run`` executes the run exactly once and records how it ended, ``close`` persists the record.
A session is a context manager; an exception leaving the ``with`` block is recorded in the
session (Kedro's ``exception`` shape) before it is closed::

    with Session.create(project_path, store) as session:
        session.run(["python", "pipeline.py"])      # a child process, see sessionlens.runner
    with Session.create(project_path, store) as session:
        session.run(train)                          # or a callable, in this process

The single-run rule: a session and a run map 1-1. Any second ``run``/``start`` raises
``SessionError``, whatever the first run's outcome (stricter than Kedro, which allows a retry
after a failure). Create a new session for another run.

No Textual, Rich or GitPython here: this module is on the ``sessionlens run`` path.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from sessionlens import gitinfo
from sessionlens.errors import SessionError, SessionExistsError, UnknownSessionError
from sessionlens.project import ProjectConfig, load_project
from sessionlens.record import (
    Record,
    new_session_id,
    next_session_id,
    running_run,
    utc_now_iso,
)

if TYPE_CHECKING:
    from sessionlens.runner import OutputCallback, RunningSession
    from sessionlens.stores.base import SessionStore

T = TypeVar("T")

#: how many following milliseconds a new session tries when its id is taken
_CLAIM_ATTEMPTS = 1000

#: ``results.METRICS_KEY`` (not imported: this module is on the ``run`` path)
METRICS_KEY = "metrics"

_last_id_lock = threading.Lock()
_last_id = ""

#: the session whose callable is running (``Session.run(fn)``): where ``log_metrics`` goes
_current: contextvars.ContextVar[Session | None] = contextvars.ContextVar(
    "sessionlens_session", default=None
)


def current_session() -> Session | None:
    """The session whose ``run(callable)`` is running in this context, if any."""
    return _current.get()


def _unique_session_id() -> str:
    """A Kedro-format id, never the same twice in this process (ids have ms resolution): the
    clock's, or the millisecond after the last one when the clock has not moved past it (two
    sessions within a millisecond, or a clock stepped back by NTP or a resumed VM, which must
    not make a new session wait until the clock catches up)."""
    global _last_id
    with _last_id_lock:
        session_id = new_session_id()
        if session_id <= _last_id:
            session_id = next_session_id(_last_id) or session_id
        _last_id = session_id
        return session_id


def _username() -> str | None:
    """``getpass.getuser()`` without importing getpass (this is on the ``run`` path)."""
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        user = os.environ.get(name)
        if user:
            return user
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except Exception:
        return None


def environment_info() -> dict[str, Any]:
    """The ``environment`` dict: which Python on which system ran the session."""
    from sessionlens._version import __version__

    uname = os.uname() if hasattr(os, "uname") else None
    info: dict[str, Any] = {
        "python": ".".join(str(v) for v in sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "platform": sys.platform,
        "sessionlens": __version__,
    }
    if uname is not None:
        info["system"] = f"{uname.sysname} {uname.release} {uname.machine}"
    return info


def exception_info(
    exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None
) -> dict[str, Any]:
    """Kedro's ``__exit__`` shape: qualified type (no ``builtins.``), value, formatted frames."""
    import traceback

    parts = [] if exc_type.__module__ == "builtins" else [exc_type.__module__]
    parts.append(exc_type.__qualname__)
    return {
        "type": ".".join(parts),
        "value": str(exc) if exc is not None else "",
        "traceback": traceback.format_tb(tb),
    }


def _callable_name(func: Callable[..., Any]) -> str:
    module = getattr(func, "__module__", None) or "?"
    name = getattr(func, "__qualname__", None) or type(func).__qualname__
    return f"{module}:{name}"


class Session:
    """One run's lifecycle. Build with :meth:`create`; see the module docstring."""

    def __init__(
        self,
        record: Record,
        store: SessionStore,
        *,
        project: ProjectConfig,
        owns_store: bool = False,
        save_on_close: bool = True,
        rerun_of: str | None = None,
        fixed_id: bool = False,
    ) -> None:
        self._record = record
        self.store = store
        self.project = project
        self.save_on_close = save_on_close
        self.rerun_of = rerun_of
        self._owns_store = owns_store
        self._lock = threading.RLock()
        self._run_started = False
        self._closed = False
        self._unsaved = True
        self._child: RunningSession | None = None
        #: the id was given by the caller: never moved to another millisecond
        self._fixed_id = fixed_id
        #: the record is in the store under its id (claimed by the first save)
        self._claimed = False
        #: more ``run`` fields recorded when the run begins (e.g. ``rerun_source``)
        self.run_extra: dict[str, Any] = {}

    # -- creation -----------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        project_path: str | Path | None = None,
        store: SessionStore | str | None = None,
        *,
        cli: Mapping[str, Any] | None = None,
        env: str | None = None,
        runtime_params: Mapping[str, Any] | None = None,
        session_id: str | None = None,
        rerun_of: str | None = None,
        save_on_close: bool = True,
        project: ProjectConfig | None = None,
        git_probe: gitinfo.GitProbe | None = None,
    ) -> Session:
        """Collect the context of a new run; nothing is written until the run starts or closes.

        That first write claims the session's id in the store atomically; if another process
        claimed the same millisecond first, the session moves to the next free one, so
        :attr:`session_id` is final once the run has started.

        ``store``: a ``SessionStore``, a store URI/path (opened for writing, created when
        missing), or None for the project's store. ``cli``: Kedro's ``cli`` dict when launched
        from a command line (run parameters in ``cli["params"]["params"]``). ``git_probe``: a
        :class:`~sessionlens.gitinfo.GitProbe` started earlier on the project root, so the
        ``git status`` call overlaps other start-up work (the CLI does this).
        """
        if project is None:
            project = load_project(project_path, search_parents=project_path is None)
        root = project.root
        # git status runs while the record is gathered and the store opened
        probe = git_probe if git_probe is not None else gitinfo.GitProbe(root)
        record: Record = {
            "session_id": session_id or _unique_session_id(),
            "package_name": project.package_name,
            "project_path": str(root),
        }
        username = _username()
        if username:  # no passwd entry in some containers: Kedro skips it the same way
            record["username"] = username
        if cli is not None:
            record["cli"] = copy.deepcopy(dict(cli))
        if env:
            record["env"] = env
        if runtime_params:
            record["runtime_params"] = copy.deepcopy(dict(runtime_params))
        owns = not _is_store(store)
        resolved = open_session_store(store, project) if owns else store
        git = probe.result()
        if git is not None:
            record["git"] = git.to_record()
        record["environment"] = environment_info()
        return cls(
            record,
            resolved,  # type: ignore[arg-type]
            project=project,
            owns_store=owns,
            save_on_close=save_on_close,
            rerun_of=rerun_of,
            fixed_id=session_id is not None,
        )

    # -- reading ------------------------------------------------------------------------
    @property
    def session_id(self) -> str:
        return str(self._record["session_id"])

    @property
    def record(self) -> Record:
        """A copy of the record as it stands."""
        with self._lock:
            return copy.deepcopy(self._record)

    @property
    def run_started(self) -> bool:
        return self._run_started

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def saved(self) -> bool:
        """The store holds the record as it stands (nothing changed since the last save)."""
        return not self._unsaved

    # -- running ------------------------------------------------------------------------
    def run(
        self,
        target: Sequence[str] | Callable[[], T],
        *,
        echo: bool = True,
        on_output: OutputCallback | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
    ) -> int | T:
        """Run ``target`` as this session's one run and record how it ended.

        An argv list runs as a child process (:class:`sessionlens.runner.RunningSession`):
        its output goes to the store's log (and to this process's stdout/stderr when ``echo``)
        and the child's exit code is returned. A callable runs in this process: its result is
        returned, its exception recorded and re-raised. A second call raises ``SessionError``.
        """
        if callable(target):
            return self._run_callable(target)
        running = self.start(target, echo=echo, on_output=on_output, env=env, cwd=cwd)
        try:
            running.wait()
        except BaseException:
            running.interrupt()
            running.wait()
            raise
        return running.exit_code if running.exit_code is not None else 1

    def start(
        self,
        argv: Sequence[str],
        *,
        echo: bool = False,
        on_output: OutputCallback | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        **options: Any,
    ) -> RunningSession:
        """Start ``argv`` as this session's run and return at once (for UIs); see ``runner``."""
        from sessionlens.runner import RunningSession, echo_to_terminal

        if echo:
            options.setdefault("on_bytes", echo_to_terminal)  # bytes as the child wrote them
        running = RunningSession(self, list(argv), on_output=on_output, env=env, cwd=cwd, **options)
        running.start()
        return running

    def _run_callable(self, func: Callable[[], T]) -> T:
        from sessionlens.heartbeat import HeartbeatThread

        self.begin_run(callable_name=_callable_name(func), pid=os.getpid())
        started = time.monotonic()
        store, session_id = self.store, self.session_id
        beats = HeartbeatThread(lambda: store.heartbeat(session_id), name=f"beat-{session_id}")
        beats.start()
        token = _current.set(self)
        try:
            try:
                result = func()
            finally:
                _current.reset(token)
                beats.stop()  # no beat lands after the final record
        except BaseException as exc:
            self.record_exception(type(exc), exc, exc.__traceback__)
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            self.end_run(status, None, time.monotonic() - started)
            raise
        self.end_run("success", None, time.monotonic() - started)
        return result

    # -- the lifecycle of a run (the runner's calls; callables use them through run) -------
    def second_run_error(self) -> SessionError | None:
        """The error a run would meet in this session now (it ran already, or is closed), or
        None: a UI asks this before offering "run again" (the single-run rule)."""
        if self._run_started:  # first: a closed session that ran gets the rule explained
            status = (self._record.get("run") or {}).get("status", "started")
            return SessionError(
                f"session {self.session_id} has already run (status: {status}); a session "
                "maps 1-1 to a run, so only one run is allowed per session. Create a new "
                "session (Session.create) to run again."
            )
        if self._closed:
            return SessionError(
                f"session {self.session_id} is closed; create a new session to run again"
            )
        return None

    def begin_run(
        self,
        *,
        command: list[str] | None = None,
        callable_name: str | None = None,
        pid: int | None = None,
    ) -> None:
        """Claim the session's one run and save it as ``running`` (before any child starts);
        ``SessionError`` when :meth:`second_run_error` says so."""
        with self._lock:
            error = self.second_run_error()
            if error is not None:
                raise error
            self._run_started = True
            run = running_run(command, pid=pid)
            run["rerun_of"] = self.rerun_of
            run.update(self.run_extra)
            if callable_name is not None:
                run["callable"] = callable_name
            self._record["run"] = run
            self._save_locked()

    def end_run(self, status: str, exit_code: int | None, duration_s: float, **extra: Any) -> None:
        """Record how the run ended and save it."""
        with self._lock:
            run = self._record.setdefault("run", {})
            run.update(
                status=status,
                finished_at=utc_now_iso(),
                duration_s=round(duration_s, 6),
                exit_code=exit_code,
                **extra,
            )
            self._unsaved = True  # until the save below lands: close() tries again
            self._save_locked()

    def save_record(self) -> None:
        """Save the record as it stands (the runner retrying a final save the store refused)."""
        with self._lock:
            self._save_locked()

    def set_run(self, **fields: Any) -> None:
        """Add to the ``run`` dict without saving (saved with the next save, or at close)."""
        with self._lock:
            self._record.setdefault("run", {}).update(fields)
            self._unsaved = True

    def log_metrics(self, metrics: Mapping[str, Any], *, step: int | None = None) -> None:
        """Merge ``metrics`` (``{name: number}``, nested mappings flattened with dots) into the
        record's ``metrics``, and save it when the run has started (else it is saved with the
        next save). ``SessionError`` for a value that is not a finite number."""
        from sessionlens.metric_checks import checked_metrics, checked_step, merge_into

        values = checked_metrics(metrics)
        step = checked_step(step)
        with self._lock:
            merge_into(self._record, values, step)
            self._unsaved = True
            if self._claimed and not self._closed:
                self._save_locked()

    def attach_child(self, child: RunningSession) -> None:
        """The child process that is this session's run (closing waits for it)."""
        self._child = child

    def record_exception(
        self, exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Keep an exception in Kedro's shape; saved with the next save, or at close."""
        with self._lock:
            self._record["exception"] = exception_info(exc_type, exc, tb)
            self._unsaved = True

    def _save_locked(self) -> None:
        record = copy.deepcopy(self._record)
        if not self._claimed:
            self._claim(record)
            self._unsaved = False
            return
        if self._child is not None:
            # The child may have joined its own keys to this record through the store (a Kedro
            # run with a sessionlens store does): keep them rather than write over them.
            try:
                stored = self.store.get(self.session_id)
            except UnknownSessionError:
                stored = {}
            for key, value in stored.items():
                record.setdefault(key, value)
            # metrics the child logged (sessionlens.log_metrics, the Kedro hooks) stay, beside
            # any this process logged itself
            stored_metrics = stored.get(METRICS_KEY)
            if isinstance(stored_metrics, Mapping):
                record[METRICS_KEY] = {**stored_metrics, **(record.get(METRICS_KEY) or {})}
        self.store.update(record)
        self._unsaved = False

    def _claim(self, record: Record) -> None:
        """The first save inserts the record, claiming its id in the store; when another process
        claimed that millisecond first, the session takes the next free one (ids have ms
        resolution, so two processes starting together pick the same). Only the id given to
        :meth:`create` is never moved: that is an error instead."""
        for _ in range(_CLAIM_ATTEMPTS):
            try:
                self.store.insert(record)
            except SessionExistsError:
                following = None if self._fixed_id else next_session_id(record["session_id"])
                if following is None:
                    raise SessionError(
                        f"session id {record['session_id']} is taken in {self.store.location}; "
                        "create the session without session_id to get a free one"
                    ) from None
                record["session_id"] = self._record["session_id"] = following
                continue
            self._claimed = True
            return
        raise SessionError(f"no free session id after {_CLAIM_ATTEMPTS} tries")

    # -- closing ------------------------------------------------------------------------
    def close(self) -> None:
        """Wait for a child still running, save the record if it changed, release the store."""
        if self._closed:
            return
        child = self._child
        if child is not None and not child.done:
            child.wait()
        with self._lock:
            self._closed = True
            try:
                if self.save_on_close and self._unsaved:
                    self._save_locked()
            finally:
                if self._owns_store:
                    self.store.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.record_exception(exc_type, exc, tb)
            child = self._child
            if child is not None and not child.done:
                child.interrupt()
        self.close()

    def __repr__(self) -> str:
        return f"Session({self.session_id!r}, store={self.store.describe()!r})"


def _is_store(value: Any) -> bool:
    from sessionlens.stores.base import SessionStore

    return isinstance(value, SessionStore)


def open_session_store(spec: str | None, project: ProjectConfig) -> SessionStore:
    """The store a new session writes to: ``spec``, else the project's (found as
    :mod:`sessionlens.stores.locate` says), created when missing.

    When sessionlens creates the store's default folder (``.sessionlens/``, or ``.viz/`` in a
    Kedro project) it puts a ``.gitignore`` of ``*`` in it (as pytest and ruff do for their
    caches), so recording a run never makes the project's git tree dirty for the next one.
    """
    from sessionlens.stores import detect_store, open_store

    found = detect_store(spec if spec is not None else str(project.root), create=True)
    folder = Path(found.location).parent
    new_folder = not found.exists and found.found_by == "default" and not folder.exists()
    store = open_store(found, read_only=False, create=True)
    if new_folder and folder.is_dir():
        with contextlib.suppress(OSError):
            (folder / ".gitignore").write_text("# written by sessionlens\n*\n")
    return store
