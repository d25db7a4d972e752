"""``SessionStore``: the one interface the CLI, the app and the runner use for every backend.

A new backend is one new module with a subclass of ``SessionStore`` (see DESIGN.md section 2).
Callers check ``capabilities`` instead of the class: harlequin's adapter idea.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from sessionlens.errors import (
    ReadOnlyStoreError,
    StoreError,
    UnknownSessionError,
    UnreadableSessionError,
)
from sessionlens.record import Record, SessionSummary

if TYPE_CHECKING:
    from sessionlens.query import Query
    from sessionlens.results import Results
    from sessionlens.stores.sqlite_index import IndexedSession
    from sessionlens.tracking import TrackingSource


class StoreCapabilities(NamedTuple):
    """What a backend can do, so the UI can offer or hide actions without isinstance checks.
    Every flag has a reader; a flag nobody asks is not kept here. The value types of this
    module are NamedTuples: ``dataclasses`` would cost ``sessionlens run`` ~10 ms."""

    #: sessions outlive the process (False: in memory; a run's project is then the cwd's)
    persistent: bool = True
    #: keeps a log per session (``append_log``/``read_log``): ``show``/``log`` read it
    logs: bool = True
    #: kedro-viz ``user_run_details``: title, bookmark, notes (the app's title column)
    user_details: bool = False


#: ``progress(done, total)`` of :meth:`SessionStore.build_index`: sessions indexed so far, and
#: how many it has to index.
IndexProgress = Callable[[int, int], None]


#: The fields of :meth:`SessionStore.set_user_details` (kedro-viz's ``user_run_details``).
USER_DETAIL_FIELDS = ("title", "bookmark", "notes")


def merged_details(
    old: Mapping[str, Any],
    title: str | None,
    notes: str | None,
    bookmark: bool | None,
) -> dict[str, Any]:
    """``old`` details with the given fields replaced (None: unchanged), text as typed: a
    backend stores the result whole, so every backend merges the same way."""
    for name, value in (("title", title), ("notes", notes)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be text, not {type(value).__name__}")
    new = {
        "title": old.get("title"),
        "bookmark": bool(old.get("bookmark")),
        "notes": old.get("notes"),
    }
    if title is not None:
        new["title"] = title
    if notes is not None:
        new["notes"] = notes
    if bookmark is not None:
        new["bookmark"] = bool(bookmark)
    return new


def details_args(details: Mapping[str, Any]) -> dict[str, Any]:
    """``details`` (as ``user_details`` gives them) as keyword arguments of
    :meth:`SessionStore.set_user_details`: text fields that are set, the bookmark always."""
    found: dict[str, Any] = {"bookmark": bool(details.get("bookmark"))}
    for name in ("title", "notes"):
        value = details.get(name)
        if isinstance(value, str):
            found[name] = value
    return found


class LogChunk(NamedTuple):
    """A piece of a session's log as it was streamed; ``stream`` is ``stdout`` or ``stderr``."""

    text: str
    stream: str = "stdout"


class SavedSession(NamedTuple):
    """A readable session as the indexing stores (SQLite, PostgreSQL) keep it: the record's
    JSON text as saved and the index rows derived from it without tracking files
    (:func:`~.sqlite_index.index_session`). ``copy`` between two such stores moves these as
    they are, parsing and deriving nothing (most of a copy's time); any other store reads
    :attr:`record`."""

    session_id: str
    text: str
    indexed: IndexedSession

    @property
    def record(self) -> Record:
        from sessionlens.stores.readable import load_record

        record = load_record(self.text)
        record.setdefault("session_id", self.session_id)
        return record


class SessionCopy(NamedTuple):
    """A whole session as :meth:`SessionStore.import_sessions` takes it from another store:
    the record as ``get`` returned it (or as the source saved it, with its index rows), the
    log chunks still to write, its details."""

    record: Record | SavedSession
    log: list[LogChunk]
    details: Mapping[str, Any]

    @property
    def session_id(self) -> str:
        if isinstance(self.record, SavedSession):
            return self.record.session_id
        return str(self.record.get("session_id", ""))

    @property
    def plain_record(self) -> Record:
        """The record, parsed when it came as saved."""
        record = self.record
        return record.record if isinstance(record, SavedSession) else record


def tail_lines(texts_from_end: Iterable[str], lines: int, max_chars: int) -> list[str]:
    """The last ``lines`` lines of the text whose pieces come newest first."""
    if lines <= 0:
        return []
    pieces: list[str] = []
    kept = newlines = 0
    for text in texts_from_end:
        pieces.append(text)
        kept += len(text)
        newlines += text.count("\n")
        if kept >= max_chars or newlines > lines:
            break
    text = "".join(reversed(pieces))
    if len(text) > max_chars:  # cut mid-line: drop the partial first line
        text = text[-max_chars:]
        text = text[text.find("\n") + 1 :] if "\n" in text[:-1] else text
    return text.splitlines()[-lines:]


class SessionStore(ABC):
    """A place sessions are kept. Open with :func:`sessionlens.stores.open_store`.

    Every method that reads takes no lock a writer would wait on; every write is atomic:
    a crash mid-write leaves the previous state readable.

    Threads: every backend is safe to call from several threads at once, so callers (the
    app's workers, a run's log and heartbeat threads) share one store and add no lock of their
    own. Each backend guards what it keeps: SQLite its one connection with a lock held for
    each call (calls on one store take turns), shelve its listing cache with a lock (each read
    opens its own files), memory its dicts with a lock. A new backend must keep this promise;
    the contract suite checks it.
    """

    kind: ClassVar[str]
    capabilities: ClassVar[StoreCapabilities] = StoreCapabilities()

    @classmethod
    def open(
        cls,
        location: str,
        *,
        read_only: bool = True,
        create: bool = False,
        busy_timeout: float | None = None,
    ) -> SessionStore:
        """How the registry opens a store of this kind at ``location`` (as ``locate`` found it;
        callers use :func:`sessionlens.stores.open_store`). ``create``: make it when missing;
        ``busy_timeout``: seconds a write waits for another writer, where writers wait. This
        default suits a backend with nothing to create and nobody to wait for."""
        return cls(location, read_only=read_only)

    def __init__(self, location: str, *, read_only: bool = False) -> None:
        self.location = location
        self.read_only = read_only
        #: something a person browsing should know (e.g. read from a private copy), or None
        self.notice: str | None = None
        #: the Kedro project's tracking datasets, whose metrics join the sessions' own in
        #: listings and results (``open_store`` sets it for a store inside a Kedro project;
        #: the run path leaves it None: a run's own metrics are in its record)
        self.tracking: TrackingSource | None = None

    # -- reading ----------------------------------------------------------------------
    @abstractmethod
    def count(self, query: Query | None = None) -> int:
        """How many sessions match ``query`` (all when None)."""

    def count_at_most(self, query: Query, cap: int) -> int:
        """``min(count(query), cap)``, sooner where the backend can stop at ``cap`` (the app
        shows "10,000+" before the whole count)."""
        return min(self.count(query), cap)

    def interrupt(self) -> None:  # noqa: B027 - most backends answer too fast to bother
        """Abandon the ``count``/``list_summaries`` calls in progress (from any thread): they
        raise ``StoreError``. Calls made after this one are not affected. The app calls it when
        a newer filter makes the last one's answer useless."""

    @abstractmethod
    def list_summaries(
        self, query: Query | None = None, *, offset: int = 0, limit: int | None = 50
    ) -> list[SessionSummary]:
        """One page of matching sessions in ``query``'s order; must not read the whole store
        where the backend has an index."""

    @abstractmethod
    def get(self, session_id: str) -> Record:
        """The whole record, plain data; raises ``UnknownSessionError``, and
        ``UnreadableSessionError`` (with the reason) for a session listed as ``unreadable``."""

    def get_summary(self, session_id: str) -> SessionSummary:
        """The session's row as a listing shows it; an unreadable one's too (never raises
        ``UnreadableSessionError``)."""
        try:
            record = self.get(session_id)
        except UnreadableSessionError as exc:
            return SessionSummary.unreadable(session_id, exc.problem, self.user_details(session_id))
        return SessionSummary.from_record(
            record, self.user_details(session_id), heartbeat=self.last_heartbeat(session_id)
        )

    @abstractmethod
    def last_heartbeat(self, session_id: str) -> float | None:
        """When the run of ``session_id`` last said it was alive (epoch seconds, see
        :meth:`heartbeat`); None when it never did. Reading it never writes."""

    def user_details(self, session_id: str) -> Mapping[str, Any]:
        """kedro-viz's title/bookmark/notes for a session; empty where the backend has none."""
        return {}

    def details_for(self, session_ids: Iterable[str]) -> dict[str, Mapping[str, Any]]:
        """:meth:`user_details` of many sessions, those that have any: ``copy`` reads a
        batch's at once. This default asks one at a time; backends with tables ask once."""
        found = {sid: self.user_details(sid) for sid in session_ids}
        return {sid: details for sid, details in found.items() if details}

    def logs_for(self, session_ids: Iterable[str]) -> dict[str, list[LogChunk]]:
        """The whole logs of many sessions, those that have one (``copy`` reads a batch's
        at once). This default reads one log at a time; backends with tables read once."""
        found = {sid: list(self.iter_log(sid)) for sid in session_ids}
        return {sid: log for sid, log in found.items() if log}

    def existing_ids(self, session_ids: Iterable[str]) -> set[str]:
        """Which of ``session_ids`` the store holds (readable or not): ``copy`` asks it per
        batch. This default asks one session at a time; indexed backends ask once."""
        found = set()
        for session_id in session_ids:
            try:
                self.get_summary(session_id)
            except UnknownSessionError:
                continue
            found.add(session_id)
        return found

    def iter_records(
        self, session_ids: Iterable[str] | None = None
    ) -> Iterator[tuple[str, Record | str]]:
        """``(id, record)`` of the given sessions (all, in id order, when None), or ``(id,
        reason)`` for one that cannot be read; ids the store lacks are left out. ``copy``
        reads a source this way; backends that can read many records at once do (a ``get``
        per session is the default)."""
        if session_ids is None:
            from sessionlens.query import Term
            from sessionlens.stores.listing import all_sessions

            # every session: archived ones too (``copy`` copies them)
            by_id = all_sessions()._replace(terms=(Term("archived", "any"),)).sorted_by("id", False)
            session_ids = [s.session_id for s in self.list_summaries(by_id, limit=None)]
        for session_id in session_ids:
            try:
                yield session_id, self.get(session_id)
            except UnreadableSessionError as exc:
                yield session_id, exc.problem
            except UnknownSessionError:
                continue

    def iter_saved(
        self, session_ids: Iterable[str] | None = None
    ) -> Iterator[tuple[str, Record | SavedSession | str]]:
        """:meth:`iter_records` for ``copy``: a store that keeps its records with index rows
        derived as SQLite's are gives a :class:`SavedSession` where it can (a readable record
        whose index row is up to date) instead of parsing it."""
        return self.iter_records(session_ids)

    def read_log(self, session_id: str) -> str:
        """The whole stored log as text ('' when the session has none)."""
        return "".join(chunk.text for chunk in self.iter_log(session_id))

    @abstractmethod
    def iter_log(self, session_id: str, start: int = 0) -> Iterator[LogChunk]:
        """Log chunks from the ``start``-th on, in the order they were appended."""

    def log_tail(self, session_id: str, lines: int = 20, max_chars: int = 65536) -> list[str]:
        """The last ``lines`` lines of a log (at most ``max_chars`` characters read back), for
        detail panels; never holds a long log whole. Backends that can read from the end do."""
        return tail_lines(self._chunks_from_end(session_id), lines, max_chars)

    def _chunks_from_end(self, session_id: str) -> Iterator[str]:
        """Log texts newest first. This default scans forward keeping a bounded window."""
        window: deque[str] = deque()
        kept = 0
        for chunk in self.iter_log(session_id):
            window.append(chunk.text)
            kept += len(chunk.text)
            while len(window) > 1 and kept - len(window[0]) >= 65536:
                kept -= len(window.popleft())
        return reversed(window)

    def results(self, session_id: str) -> Results:
        """The session's metrics, tracking data, plots and node timings: its record's own,
        then Kedro's tracking files and kedro-viz's pipeline events where the store has a
        project. Read when asked (detail, compare), never for a listing."""
        from sessionlens.results import merge

        record = self.get(session_id)
        if self.tracking is None:
            return merge(record)
        found = [self.tracking.read(record, session_id)]
        root = self.tracking.root
        if root is not None:
            from sessionlens.pipeline_events import events_results

            found.append(events_results(self, root, record, session_id))
        return merge(record, *found)

    def metric_names(self) -> list[str]:
        """Every metric name some session has, sorted (column and plot choosers). This default
        lists every session; indexed backends read their index."""
        names: set[str] = set()
        for summary in self.list_summaries(limit=None):
            names.update(summary.metrics or ())
        return sorted(names)

    def metric_series(
        self, query: Query | None, metric: str, limit: int | None = None
    ) -> list[tuple[str, str | None, float]]:
        """(session id, started_at, value) of ``metric`` for the newest ``limit`` sessions
        ``query`` matches that have it (all when None), oldest first: what a metric plot draws.
        Backends with an index answer it without building summaries (10k in tens of ms)."""
        from sessionlens.stores.listing import all_sessions

        newest = (query or all_sessions()).sorted_by("started", True)
        found = []
        for s in self.list_summaries(newest, limit=None):
            value = (s.metrics or {}).get(metric)
            if value is not None:
                found.append((s.session_id, s.started_at, value))
                if limit is not None and len(found) >= limit:
                    break
        return found[::-1]

    def needs_index(self) -> bool:
        """Whether filters and sorts other than newest first wait for :meth:`build_index`
        (a big store browsed for the first time); the default listing never waits."""
        return False

    def build_index(  # noqa: B027 - most backends have nothing to build
        self,
        progress: IndexProgress | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> None:
        """Build what filters and sorts need, ahead of the first one (the app runs it in a
        worker at open; a filter calls it itself otherwise). Other calls go on meanwhile.
        ``cancelled()`` true, or :meth:`close`, stops it soon with a ``StoreError``; what was
        built so far is kept."""

    def first_write_changes(self) -> str | None:
        """What recording a first session would add to a store another tool wrote (as words
        that follow "recording this run ..."), so a UI can ask first; None when sessionlens has
        written here before, or writing adds nothing."""
        return None

    @abstractmethod
    def change_token(self) -> Any:
        """A cheap value that changes whenever sessions are added or updated (for polling)."""

    # -- writing ----------------------------------------------------------------------
    def insert(self, record: Record) -> None:
        """Store a NEW session, claiming its id atomically: ``SessionExistsError`` when the id
        is in the store already (another process may have claimed it a moment ago). Never
        replaces anything: that is what :meth:`update` is for. A record inserted ``running``
        counts as its run's first :meth:`heartbeat` (no write of its own on the run path)."""
        self.insert_many([record])

    @abstractmethod
    def insert_many(self, records: Iterable[Record]) -> None:
        """:meth:`insert` for several sessions (imports, demos, tests); atomic where the
        backend has transactions."""

    @abstractmethod
    def update(self, record: Record) -> None:
        """Replace the record of a session already in the store (a running session saving
        again), atomically; ``UnknownSessionError`` when there is none."""

    @abstractmethod
    def append_log(self, session_id: str, text: str, stream: str = "stdout") -> None:
        """Append to a session's log; called as output streams, so it must be cheap. An append
        is a heartbeat too (in the same write where the backend can): a busy run costs no more
        writes than its log."""

    @abstractmethod
    def heartbeat(self, session_id: str) -> None:
        """Record "the run of ``session_id`` is alive now". Runs call it at least every
        ``record.HEARTBEAT_EVERY_S`` seconds; a ``running`` session whose last heartbeat is older
        than ``record.STALE_AFTER_S`` is listed ``lost`` (its runner is gone where the pid
        check cannot tell: another host, a reused pid). Must be cheap: one small write."""

    def set_user_details(
        self,
        session_id: str,
        *,
        title: str | None = None,
        notes: str | None = None,
        bookmark: bool | None = None,
    ) -> None:
        """Change a session's title, notes or bookmark (kedro-viz's ``user_run_details``): only
        the fields given (None: unchanged); text is kept as typed. ``UnknownSessionError`` for
        a session not in the store, ``ReadOnlyStoreError`` on a read-only store. A backend that
        keeps none (``capabilities.user_details`` false) refuses with a ``StoreError``."""
        self._check_writable()
        raise StoreError(f"{self.describe()}: this store keeps no title, notes or bookmark")

    def archive(self, session_ids: Iterable[str], archived: bool = True) -> None:
        """Archive (or, ``archived=False``, bring back) sessions: an archived session stays in
        the store, hidden from listings unless a query asks ``archived:yes``/``any``. All or
        nothing: ``UnknownSessionError`` for an id not in the store, before anything is
        written; ``ReadOnlyStoreError`` on a read-only store."""
        self._check_writable()
        raise StoreError(f"{self.describe()}: this store cannot archive sessions")

    def delete(self, session_ids: Iterable[str]) -> None:
        """Remove sessions for good: record, log, heartbeat, details and index rows, in one
        transaction where the backend has them. ``UnknownSessionError`` for an id not in the
        store, before anything is removed; ``ReadOnlyStoreError`` on a read-only store."""
        self._check_writable()
        raise StoreError(f"{self.describe()}: this store cannot delete sessions")

    def import_sessions(self, sessions: Iterable[SessionCopy]) -> None:
        """Add whole sessions taken from another store (``sessionlens copy``): for each, its
        log, then its record, then its details. The record is what makes a session "in the
        store", so a crash between the steps leaves either a log without a record (``copy``
        finds its chunks a prefix of the source's and appends the rest) or a record without
        its details (``copy`` sets them when it finds them missing). ``SessionExistsError``
        when a record's id is taken. Backends with transactions write a batch in one."""
        for session in sessions:
            session_id = session.session_id
            for chunk in session.log:
                self.append_log(session_id, chunk.text, chunk.stream)
            self._insert_copied(session.plain_record)
            if session.details and self.capabilities.user_details:
                self.set_user_details(session_id, **details_args(session.details))

    def _insert_copied(self, record: Record) -> None:
        """How :meth:`import_sessions` inserts a record; a backend whose claim a crash can
        leave behind empty (shelve) takes such a claim over here."""
        self.insert(record)

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyStoreError(f"{self.location} is open read-only; nothing was written")

    # -- lifecycle --------------------------------------------------------------------
    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release files and connections."""

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def describe(self) -> str:
        """``kind: location`` for headers and messages."""
        return f"{self.kind}: {self.location}"
