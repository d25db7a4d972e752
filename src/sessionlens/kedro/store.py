"""Kedro session stores that keep Kedro's records in sessionlens stores.

Kedro's store contract: ``Store(path, session_id)`` is a mapping that Kedro fills while the
session is created (``project_path``, ``session_id``, ``cli``, ``git``, ``username``...), with
``read()`` (called once by the constructor) and ``save()`` (called by ``KedroSession.close``).

- :class:`SQLiteStore` writes kedro-viz's SQLiteStore layout (``<path>/session_store.db``,
  table ``runs``, blob JSON-encoded twice) through sessionlens's ``SQLiteSessionStore``, so
  kedro-viz 4.0-10.2 still reads it.
- :class:`ShelveStore` writes Kedro's ShelveStore layout (``<path>/<session_id>/store``), as
  kedro 0.17.0-0.19.8 did.

What sessionlens adds to Kedro's record, the ``run`` dict (status, start, end, duration, pid,
host, command), the git branch and full sha and the ``environment``, is written by
:mod:`sessionlens.kedro.hooks` into the live store of the session (found by session id with
:func:`live_store`) and saved at pipeline start (so the app sees a live run), at its end and at
session close. Every save replaces the one record of the session id: nothing is written twice.
While the pipeline runs, its log records are kept with the session and a heartbeat is written
every few seconds (``record.HEARTBEAT_EVERY_S``), so a run whose process vanished shows ``lost``.

Kedro is imported here, not in ``sessionlens``: Kedro's settings validation requires
``SESSION_STORE_CLASS`` to subclass its ``BaseSessionStore``. Without Kedro installed, a stand-in
base with the same contract keeps the classes usable (tests, reading records in scripts).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import weakref
from collections import UserDict
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sessionlens.errors import SessionExistsError, StoreError, UnknownSessionError
from sessionlens.heartbeat import HeartbeatThread
from sessionlens.log_batch import LogBatch
from sessionlens.record import (
    Record,
    hostname,
    next_session_id,
    running_run,
    to_jsonable,
    utc_now_iso,
)
from sessionlens.results import METRICS_KEY, NODES_KEY, TRACKING_KEY
from sessionlens.stores.locate import SQLITE_SUFFIXES

if TYPE_CHECKING:
    from sessionlens.stores.base import SessionStore

logger = logging.getLogger(__name__)

try:  # Kedro >= 0.17 (the extra); its settings validation wants this exact base class
    from kedro.framework.session.store import BaseSessionStore as _Base
except ImportError:  # pragma: no cover - exercised by the tests that run without Kedro

    class _Base(UserDict):  # type: ignore[no-redef]
        """Kedro's ``BaseSessionStore`` contract, for use without Kedro installed."""

        def __init__(self, path: str, session_id: str) -> None:
            self._path = path
            self._session_id = session_id
            super().__init__(self.read())

        def read(self) -> dict[str, Any]:
            return {}

        def save(self) -> None:
            pass


#: JSON tracking data larger than this (as JSON text) stays in its file only
MAX_TRACKING_CHARS = 1024 * 1024
#: longest error text kept for a failed node
MAX_ERROR_CHARS = 2000

#: Exceptions that mean the run was stopped rather than broken (Kedro records their type name).
_INTERRUPT_TYPES = frozenset({"KeyboardInterrupt", "SystemExit", "GeneratorExit"})

_live: weakref.WeakValueDictionary[str, KedroSessionStore] = weakref.WeakValueDictionary()
_live_lock = threading.Lock()
#: One run's log is captured at a time in a process (Kedro runs one pipeline at a time).
_active_capture: _LogCapture | None = None
#: (store location, Kedro session id) -> the id its record was claimed under, by THIS process:
#: the only records ``read()`` may take as its own (see there)
_claimed_here: dict[tuple[str, str], str] = {}


def live_store(session_id: str | None) -> KedroSessionStore | None:
    """The sessionlens store of the Kedro session ``session_id`` open in this process, if any.

    Kedro's pipeline hooks get the session id (``run_params["run_id"]`` in Kedro 1.x,
    ``["session_id"]`` before) but not the session: this is how they reach its store.
    """
    if not session_id:
        return None
    with _live_lock:
        store = _live.get(str(session_id))
    # a process forked from the one that opened it (ParallelRunner's workers) holds a stale
    # copy: saving it would write over the record the parent keeps
    if store is None or store._pid != os.getpid():
        return None
    return store


def kedro_exception_info(error: BaseException) -> dict[str, Any]:
    """An exception in the shape Kedro's ``KedroSession.__exit__`` records it."""
    from sessionlens.session import exception_info

    return exception_info(type(error), error, error.__traceback__)


def error_text(error: BaseException) -> str:
    """A node's error as one line: ``ValueError: y is zero``, at most ``MAX_ERROR_CHARS``."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


def run_command() -> list[str] | None:
    """The command line that started this process, as a person would type it again.

    ``kedro run ...`` is recorded as Kedro's ``cli.command_path`` spells it (``kedro`` rather than
    the script's full path); a notebook kernel has no command worth re-running.
    """
    argv = list(sys.argv)
    if not argv or argv[0] in ("", "-c"):
        return None
    first = Path(argv[0])
    if first.name == "kedro" or (first.name == "__main__.py" and first.parent.name == "kedro"):
        return ["kedro", *argv[1:]]
    if first.name.startswith("ipykernel") or first.name.startswith("pydevconsole"):
        return None
    if first.name == "sessionlens":
        return ["sessionlens", *argv[1:]]
    if first.suffix == ".py":
        return [Path(sys.executable).name, *argv]
    return argv


class KedroSessionStore(_Base):
    """A Kedro session store backed by a sessionlens :class:`SessionStore`.

    Subclasses say where their store lives (:meth:`location`) and how to open it
    (:meth:`open_backend`). ``path`` is Kedro's ``SESSION_STORE_ARGS["path"]`` (default
    ``<project>/sessions``); a relative path is taken from the project root once Kedro has told
    the store where that is, as the sessionlens CLI reads the same setting.
    """

    kind: ClassVar[str] = ""

    def __init__(self, path: str, session_id: str) -> None:
        self._opened_at = utc_now_iso()
        self._opened_clock = time.monotonic()
        self._run_clock: float | None = None
        self._hook_exception = False
        self._git_enriched = False
        self._save_lock = threading.RLock()
        self._log_capture: _LogCapture | None = None
        self._beats: HeartbeatThread | None = None
        self._parent_checked = False
        self._parent_id: str | None = None
        #: the id the record is stored under once claimed (see ``persist``)
        self._stored_id: str | None = None
        self._pid = os.getpid()
        #: monotonic start of each running node, by node name
        self._node_clocks: dict[str, float] = {}
        super().__init__(str(path), str(session_id))
        with _live_lock:
            _live[self._session_id] = self

    # -- where --------------------------------------------------------------------------
    @property
    def session_id(self) -> str:
        return self._session_id

    def base_path(self) -> Path:
        """``path`` made absolute: against the project root when known, else the cwd."""
        project = self.data.get("project_path") if hasattr(self, "data") else None
        return absolute_setting(self._path, project)

    def location(self) -> Path:
        """The file or folder of the sessionlens store this session is saved in."""
        return self.location_from(self.base_path())

    @classmethod
    def location_from(cls, base: Path) -> Path:
        """Where the store is, given the absolute ``path`` setting."""
        raise NotImplementedError

    @property
    def address(self) -> str | None:
        """The database server ``path`` names (``postgresql://...``), else None: a team's
        Kedro runs all record into one database, whatever the store class."""
        return server_address(self._path)

    def _store_key(self) -> str:
        return self.address or str(self.location())

    @classmethod
    def store_spec(cls, path: str | None, project_path: str | Path) -> str:
        """The ``--store`` URI for ``SESSION_STORE_ARGS["path"]`` (Kedro's default when None)."""
        address = server_address(path)
        if address is not None:
            return address
        base = absolute_setting(path if path is not None else "sessions", project_path)
        return f"{cls.kind}://{cls.location_from(base)}"

    def store_uri(self) -> str:
        """The store as a sessionlens ``--store`` URI."""
        return self.address or f"{self.kind}://{self.location()}"

    def open_backend(self, *, read_only: bool) -> SessionStore:
        """Open the sessionlens store (created when missing unless ``read_only``)."""
        from sessionlens.stores import open_store

        return open_store(self.store_uri(), read_only=read_only, create=not read_only)

    def _exists(self) -> bool:
        return self.address is not None or self.location().exists()

    def parent_session_id(self) -> str | None:
        """The ``sessionlens run`` session this Kedro run is the command of, if it shares our store.

        ``sessionlens run`` (default command ``kedro run`` in a Kedro project) has already made a
        session, which owns the ``run`` dict (status, exit code, log); recording the Kedro
        session beside it would record one run twice. So the Kedro record joins that session:
        Kedro's keys are merged into it and Kedro's own id is kept as ``kedro_session_id``.
        """
        if not self._parent_checked:
            self._parent_checked = True
            parent = os.environ.get("SESSIONLENS_SESSION_ID")
            where = os.environ.get("SESSIONLENS_STORE")
            if parent and where and parent != self._session_id and self._same_store(where):
                self._parent_id = parent
        return self._parent_id

    def _same_store(self, where: str) -> bool:
        if self.address is not None:
            from sessionlens.stores.locate import redact

            return redact(where) == redact(self.address)
        if "://" in where:
            where = where.split("://", 1)[1]
        try:
            return Path(where).expanduser().resolve() == self.location().resolve()
        except (OSError, RuntimeError):
            return False

    # -- Kedro's contract ---------------------------------------------------------------
    def read(self) -> dict[str, Any]:
        """The record already saved for this session id ({} for a new session, as Kedro's).

        Kedro's ids have millisecond resolution, so a record under the same id may belong to
        another process that started in the same millisecond: only a record this process
        claimed is read back; for another's, this session claims a free id at its first save
        instead of writing over it. What the record says cannot tell: a session closed
        without a pipeline has no ``run``, and in a container every run may be pid 1 on the
        same host name."""
        with _live_lock:
            stored = _claimed_here.get((self._store_key(), self._session_id))
        if stored is None or not self._exists():
            return {}
        try:
            with self.open_backend(read_only=True) as backend:
                record = dict(backend.get(stored))
        except UnknownSessionError:
            return {}
        self._stored_id = stored
        return record

    def save(self) -> None:
        """Kedro's ``save()`` at session close: end the run's record and persist it."""
        with self._save_lock:
            self._finish_on_close()
            self.add_git_details()
            self.persist()

    # -- what sessionlens adds ----------------------------------------------------------
    def to_record(self) -> Record:
        """The record to persist: plain JSON data (paths as str, tuples as lists)."""
        record = to_jsonable(dict(self.data))
        record["session_id"] = self._session_id
        return record

    @property
    def record_id(self) -> str:
        """The id the session's record and log are stored under: Kedro's session id, unless
        another process had claimed that millisecond first (Kedro's id is then kept in the
        record as ``kedro_session_id``)."""
        return self._stored_id or self._session_id

    def persist(self) -> None:
        """Write the record as it stands: the first write claims its id (an insert, never an
        overwrite), later ones replace the record. One record per session."""
        with self._save_lock, self.open_backend(read_only=False) as backend:
            parent = self.parent_session_id()
            record = self.to_record()
            if parent is not None:
                backend.update(_joined(backend, parent, record))
            elif self._stored_id is not None:
                if self._stored_id != self._session_id:
                    record.update(session_id=self._stored_id, kedro_session_id=self._session_id)
                backend.update(record)
            else:
                self._stored_id = _claim(backend, record)
                with _live_lock:
                    _claimed_here[(self._store_key(), self._session_id)] = self._stored_id

    def add_git_details(self) -> None:
        """Add the branch and full sha beside Kedro's short sha and dirty flag (once)."""
        if self._git_enriched:
            return
        project = self.data.get("project_path")
        if not project:
            return
        self._git_enriched = True
        from sessionlens import gitinfo

        info = gitinfo.describe(str(project))
        if info is None:
            return
        git = dict(self.data.get("git") or {})
        git.setdefault("commit_sha", info.commit_sha)
        git.setdefault("dirty", info.dirty)
        if info.branch is not None:
            git.setdefault("branch", info.branch)
        git.setdefault("commit_sha_full", info.commit_sha_full)
        self.data["git"] = git

    def add_environment(self, kedro_version: str | None = None) -> None:
        from sessionlens.session import environment_info

        environment = dict(self.data.get("environment") or {})
        for key, value in environment_info().items():
            environment.setdefault(key, value)
        if kedro_version:
            environment["kedro"] = kedro_version
        self.data["environment"] = environment

    def start_run(self, run_params: Mapping[str, Any] | None = None) -> None:
        """The pipeline is starting: record the run as ``running`` and save it at once."""
        run_params = run_params or {}
        with self._save_lock:
            if self.parent_session_id() is not None:  # the parent session owns ``run``
                self.add_git_details()
                self._persist_quietly()
                return
            previous = self.data.get("run")
            run = running_run(run_command())
            if isinstance(previous, Mapping):
                # Kedro lets a failed run be retried in its session; the record keeps the last.
                run["attempt"] = int(previous.get("attempt") or 1) + 1
                self.data.pop(NODES_KEY, None)
                if self._hook_exception:
                    self.data.pop("exception", None)
                    self._hook_exception = False
            self._run_clock = time.monotonic()
            self.data["run"] = run
            self.add_git_details()
            self.add_environment(run_params.get("kedro_version"))
            self._persist_quietly()
            self._start_log_capture()

    def finish_run(self, status: str, error: BaseException | None = None) -> None:
        """The pipeline ended: record status, end time and duration (and the error) and save."""
        with self._save_lock:
            if error is not None and "exception" not in self.data:
                self.data["exception"] = kedro_exception_info(error)
                self._hook_exception = True
            if self.parent_session_id() is None:
                self._end(status)
            self._stop_log_capture()
            self._persist_quietly()

    # -- results: node timings, metrics and tracking data (from the hooks) ----------------
    def record_node(self, name: str, status: str, error: BaseException | None = None) -> None:
        """A node started (``running``: kept, saved with the next save) or ended (``success``
        or ``failed``, with its error): its ``nodes`` entry is updated and the record saved."""
        with self._save_lock:
            nodes = self.data.get(NODES_KEY)
            nodes = list(nodes) if isinstance(nodes, list) else []
            index = next(
                (
                    i
                    for i in range(len(nodes) - 1, -1, -1)
                    if isinstance(nodes[i], Mapping)
                    and nodes[i].get("name") == name
                    and nodes[i].get("status") == "running"
                ),
                None,
            )
            if status == "running":
                self._node_clocks[name] = time.monotonic()
                nodes.append({"name": name, "status": "running", "started_at": utc_now_iso()})
            else:
                entry: dict[str, Any] = dict(nodes[index]) if index is not None else {"name": name}
                entry["status"] = status
                clock = self._node_clocks.pop(name, None)
                if clock is not None:
                    entry["duration_s"] = round(time.monotonic() - clock, 6)
                if error is not None:
                    entry["error"] = error_text(error)
                if index is None:
                    nodes.append(entry)
                else:
                    nodes[index] = entry
            self.data[NODES_KEY] = nodes
            if status != "running":
                self._persist_quietly()

    def add_metrics(self, metrics: Mapping[str, float]) -> None:
        """Merge metrics a tracking dataset saved into ``metrics`` and save the record."""
        if not metrics:
            return
        with self._save_lock:
            current = self.data.get(METRICS_KEY)
            merged = dict(current) if isinstance(current, Mapping) else {}
            merged.update(metrics)
            self.data[METRICS_KEY] = merged
            self._persist_quietly()

    def add_tracking(self, dataset_name: str, data: Any) -> None:
        """Keep what a JSON tracking dataset saved under ``tracking`` and save the record; data
        larger than ``MAX_TRACKING_CHARS`` as JSON is left to its file."""
        try:
            size = len(json.dumps(to_jsonable(data)))
        except (TypeError, ValueError, RecursionError):
            logger.warning("sessionlens: %s is not JSON data; not kept", dataset_name)
            return
        if size > MAX_TRACKING_CHARS:
            logger.warning("sessionlens: %s is too large to keep in the record", dataset_name)
            return
        with self._save_lock:
            current = self.data.get(TRACKING_KEY)
            tracking = dict(current) if isinstance(current, Mapping) else {}
            tracking[dataset_name] = to_jsonable(data)
            self.data[TRACKING_KEY] = tracking
            self._persist_quietly()

    def _end(self, status: str) -> None:
        run = self.data.get("run")
        if not isinstance(run, dict):
            run = {
                "status": status,
                "started_at": self._opened_at,
                "pid": os.getpid(),
                "hostname": hostname(),
                "command": run_command(),
            }
            self._run_clock = self._opened_clock
        clock = self._run_clock if self._run_clock is not None else self._opened_clock
        run.update(
            status=status,
            finished_at=utc_now_iso(),
            duration_s=round(time.monotonic() - clock, 6),
        )
        run.setdefault("exit_code", None)
        self.data["run"] = run

    def _finish_on_close(self) -> None:
        """A run still ``running`` at close, or a session that failed before its pipeline
        started (unknown pipeline, bad config, a second run), gets its end recorded here."""
        self._stop_log_capture()
        if self.parent_session_id() is not None:
            return
        run = self.data.get("run")
        exception = self.data.get("exception")
        exc_type = str(exception.get("type", "")) if isinstance(exception, Mapping) else ""
        stopped = exc_type.rsplit(".", 1)[-1] in _INTERRUPT_TYPES
        if isinstance(run, Mapping) and run.get("status") == "running":
            self._end("interrupted" if stopped or not exception else "failed")
        elif not isinstance(run, Mapping) and exception:
            self._end("interrupted" if stopped else "failed")
            self.add_environment()

    def append_log(self, text: str, stream: str = "stdout") -> None:
        """Add to the session's log in the store (the run's log records, see ``_LogCapture``)."""
        if not text:
            return
        with self.open_backend(read_only=False) as backend:
            if backend.capabilities.logs:
                backend.append_log(self.record_id, text, stream)

    def heartbeat(self) -> None:
        """Tell the store this session's run is alive (see ``SessionStore.heartbeat``)."""
        with self.open_backend(read_only=False) as backend:
            backend.heartbeat(self.record_id)

    def _start_log_capture(self) -> None:
        """Keep the run's log records with the session, as ``sessionlens run`` keeps a
        command's output (a session launched by ``sessionlens run`` has its output already)."""
        global _active_capture
        if self._log_capture is not None or self.parent_session_id() is not None:
            return
        with _live_lock:
            previous, _active_capture = _active_capture, _LogCapture(self)
            self._log_capture = _active_capture
        if previous is not None:  # a run left unfinished (a notebook's ctrl-c): its log ends
            logging.getLogger().removeHandler(previous)
            previous.flush()
            previous.store._stop_beats()  # ...and so does its heartbeat
        logging.getLogger().addHandler(self._log_capture)
        # log flushes beat too, but a quiet node must not look lost: beat on a timer as well
        self._beats = HeartbeatThread(self.heartbeat, name=f"kedro-beat-{self._session_id}")
        self._beats.start()

    def _stop_beats(self) -> None:
        beats, self._beats = self._beats, None
        if beats is not None:
            beats.stop()

    def _stop_log_capture(self) -> None:
        global _active_capture
        self._stop_beats()
        capture, self._log_capture = self._log_capture, None
        with _live_lock:
            if _active_capture is capture:
                _active_capture = None
        if capture is not None:
            logging.getLogger().removeHandler(capture)
            capture.flush()

    def _persist_quietly(self) -> None:
        """Saves from hooks must not break the user's pipeline; close's save will retry."""
        try:
            self.persist()
        except Exception as exc:  # reported; save() at close tries again
            logger.warning("sessionlens: could not save session %s: %s", self._session_id, exc)


class _LogCapture(logging.Handler):
    """Log records of a running pipeline, written to the store in batches (``LogBatch``: at
    most one write a second, or per 64 KiB) so logging stays cheap; failures to write are
    reported, not raised."""

    def __init__(self, store: KedroSessionStore) -> None:
        super().__init__(level=logging.INFO)
        self.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-8s %(name)s: %(message)s", "%H:%M:%S")
        )
        self.store = store
        self._batch = LogBatch()
        self._writing = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._writing, "active", False):
            return  # a record logged while writing the log (the store's own warnings)
        try:
            text = self.format(record) + "\n"
        except Exception:
            self.handleError(record)
            return
        with self.lock:  # created by logging.Handler
            self._batch.add("stdout", text)
            due = self._batch.due()
        if due:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            appends = self._batch.take()
        if not appends:
            return
        self._writing.active = True
        try:
            for stream, text in appends:
                self.store.append_log(text, stream)
        except Exception as exc:
            logger.warning(
                "sessionlens: could not save the log of %s: %s", self.store.session_id, exc
            )
        finally:
            self._writing.active = False


def absolute_setting(path: str, project_path: str | Path | None) -> Path:
    """A store path setting as an absolute path: relative ones are taken from the project root
    (the sessionlens CLI reads the setting the same way), or the cwd before the root is known."""
    expanded = Path(os.path.expanduser(str(path)))
    if expanded.is_absolute():
        return expanded
    root = Path(str(project_path)) if project_path else Path.cwd()
    return (root / expanded).resolve()


def _claim(backend: SessionStore, record: Record) -> str:
    """Insert a new session's record under its id, or the next free millisecond's."""
    kedro_id = record["session_id"]
    for _ in range(1000):
        try:
            backend.insert(record)
        except SessionExistsError:
            following = next_session_id(record["session_id"])
            if following is None:
                raise
            record.update(session_id=following, kedro_session_id=kedro_id)
            continue
        return str(record["session_id"])
    raise SessionExistsError(str(record["session_id"]), backend.location)


def _joined(backend: SessionStore, parent_id: str, kedro_record: Record) -> Record:
    """The parent session's stored record with the Kedro session's keys merged in."""
    try:
        record = dict(backend.get(parent_id))
    except UnknownSessionError:
        record = {"session_id": parent_id}
    kedro_id = kedro_record.get("session_id")
    for key, value in kedro_record.items():
        if key in ("session_id", "run"):
            continue
        current = record.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            record[key] = {**current, **value}
        else:
            record[key] = value
    record["kedro_session_id"] = kedro_id
    record["session_id"] = parent_id
    return record


class SQLiteStore(KedroSessionStore):
    """kedro-viz's SQLiteStore layout, kept by sessionlens.

    ``path`` is a folder, as for kedro-viz (the database is ``<path>/session_store.db``), or a
    ``.db``/``.sqlite`` file. Settings::

        SESSION_STORE_CLASS = SQLiteStore
        SESSION_STORE_ARGS = {"path": str(Path(__file__).parents[2] / ".viz")}
    """

    kind = "sqlite"
    DB_NAME: ClassVar[str] = "session_store.db"

    @classmethod
    def location_from(cls, base: Path) -> Path:
        if base.suffix in SQLITE_SUFFIXES:
            return base
        return base / cls.DB_NAME


class PostgresStore(KedroSessionStore):
    """A team's PostgreSQL store: ``path`` is its libpq URI (every store class here accepts
    one; this name says so in settings.py). Settings::

        SESSION_STORE_CLASS = PostgresStore
        SESSION_STORE_ARGS = {"path": "postgresql://kedro@db.example/sessions"}
    """

    kind = "postgresql"

    @classmethod
    def location_from(cls, base: Path) -> Path:
        raise StoreError(
            f"{base}: PostgresStore needs a postgresql:// URI as SESSION_STORE_ARGS['path']"
        )


class ShelveStore(KedroSessionStore):
    """Kedro's ShelveStore layout (removed in Kedro 0.19.9): ``<path>/<session_id>/store``.

    Values are written as plain data (a path as str), which Kedro's own ShelveStore reads back.
    """

    kind = "shelve"

    @classmethod
    def location_from(cls, base: Path) -> Path:
        return base

    def _exists(self) -> bool:
        folder = self.location() / self._session_id
        return folder.is_dir() and any(p.name.startswith("store") for p in folder.iterdir())


def server_address(path: str | None) -> str | None:
    """``path`` when it is the URI of a database server (``postgresql://...``), else None."""
    if not path:
        return None
    scheme, sep, _ = path.strip().partition("://")
    if not sep:
        return None
    from sessionlens.stores import registry

    backend = registry.for_scheme(scheme)
    return path.strip() if backend is not None and backend.names == "address" else None


__all__ = [
    "KedroSessionStore",
    "PostgresStore",
    "SQLiteStore",
    "ShelveStore",
    "StoreError",
    "kedro_exception_info",
    "live_store",
    "run_command",
]
