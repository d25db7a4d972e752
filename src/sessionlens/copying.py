"""Copying sessions from one store into another (``sessionlens copy``), through ``SessionStore``.

Only the interface is used, so any two backends work in either direction (a new one too):
the source is read with ``iter_saved`` (pages of records, or of records as saved with their
index rows where both stores index alike; ``list_summaries`` picks the ids
when a filter is given), a batch's logs and details with ``logs_for`` and ``details_for``; the
destination is asked ``existing_ids`` per batch and written with ``import_sessions``, a
batch at a time (one transaction in SQLite and PostgreSQL). What is
copied: the record as the source's ``get`` returns it (its metrics are in it), the log chunks
with their streams in order, and title/notes/bookmark. Not copied: heartbeats, the Kedro
tracking files beside a project (they are not in the store).

Idempotent: a session is "in the destination" when its record is (compared by id); such a
session is never written again, so a second copy adds nothing ("0 copied, N already there").

Resumable, whatever kills the copy (Ctrl-C, ``kill -9``, a full disk): ``import_sessions``
writes a session's log first, then its record, then its details (backends with transactions,
SQLite, write a whole batch in one, so a crash leaves the batch whole or absent). Since the
record is what makes a session "there", a crash can leave only:

- a log without its record: the next run finds the session missing, reads the destination's
  chunks for it, checks they are the first chunks of the source's log, and appends the rest
  (chunks that are not such a prefix are another writer's: the session is reported, not
  touched);
- a record without its details: the next run finds the session there, and sets the source's
  details where the destination has none (counted as ``repaired``).

The destination is readable throughout: every backend write is atomic on its own.

Unreadable sources (a record ``get`` refuses, a log that cannot be read) are reported one line
each, counted, and skipped; they never stop the copy. So are sessions the destination refuses
(an id a shelve folder cannot be named after, say).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, NamedTuple

from sessionlens.errors import SessionExistsError, StoreError
from sessionlens.stores.base import LogChunk, SavedSession, SessionCopy, SessionStore
from sessionlens.stores.sqlite_index import batched

if TYPE_CHECKING:
    from sessionlens.query import Query
    from sessionlens.record import Record

#: batches written at once, each by a thread of its own (PostgreSQL works each on a core of
#: its own; other backends take them in turns)
WRITERS = 2
#: sessions read, checked and written per step: one transaction each in SQLite
BATCH = 2000

#: ``progress(done, total)``: sessions dealt with so far (copied, there or skipped), and of how
#: many (None while unknown)
CopyProgress = Callable[[int, int | None], None]
#: ``problem(session_id, reason)``: a session that was not copied, and why
CopyProblem = Callable[[str, str], None]


class CopyResult(NamedTuple):
    """What a copy did (``dry_run``: what it would do: ``copied`` counts those it would)."""

    copied: int
    already: int
    unreadable: int
    refused: int
    repaired: int
    elapsed_s: float
    dry_run: bool

    @property
    def rate(self) -> float:
        """Sessions dealt with per second."""
        done = self.copied + self.already + self.unreadable + self.refused
        return done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**self._asdict(), "sessions_per_s": round(self.rate, 1)}

    def line(self) -> str:
        """The one-line summary the CLI prints."""
        verb = "would copy" if self.dry_run else "copied"
        parts = [f"{self.copied:,} {verb}", f"{self.already:,} already there"]
        parts.append(f"{self.unreadable:,} unreadable")
        if self.refused:
            parts.append(f"{self.refused:,} refused by the destination")
        if self.repaired:
            parts.append(f"{self.repaired:,} details restored")
        return f"{', '.join(parts)} in {self.elapsed_s:.1f} s ({self.rate:,.0f} sessions/s)"


def copy_sessions(
    src: SessionStore,
    dst: SessionStore,
    query: Query | None = None,
    *,
    dry_run: bool = False,
    batch: int = BATCH,
    progress: CopyProgress | None = None,
    problem: CopyProblem | None = None,
) -> CopyResult:
    """Copy the sessions of ``src`` that ``query`` matches (all when None) into ``dst``.

    Batches are written by threads of their own while the next is read: the destination's
    server (or disk) works while this process reads, instead of in turns. At most
    ``WRITERS`` batches are in flight, so a crash loses at most those (each written whole or
    not at all)."""
    started = time.perf_counter()
    counts = {"copied": 0, "already": 0, "unreadable": 0, "refused": 0, "repaired": 0}

    def report(kind: str, session_id: str, reason: str) -> None:
        counts[kind] += 1
        if problem is not None:
            problem(session_id, reason)

    records, total = _source(src, query)
    done = 0
    pending: deque[tuple[Future[_Written], int]] = deque()

    def advance(size: int) -> None:
        nonlocal done
        done += size
        if progress is not None:
            progress(done, total)

    def settle() -> None:
        """Wait for the oldest batch in flight; count what it did."""
        future, size = pending.popleft()
        written, problems = future.result()
        for kind, n in written.items():
            counts[kind] += n
        for kind, session_id, reason in problems:
            report(kind, session_id, reason)
        advance(size)

    advance(0)
    with ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="sessionlens-copy") as pool:
        for page in batched(records, max(1, batch)):
            there = dst.existing_ids(sid for sid, _ in page)
            todo: list[tuple[str, Record | SavedSession]] = []
            for session_id, record in page:
                if session_id in there:
                    counts["already"] += 1
                    if not dry_run and _restore_details(src, dst, session_id):
                        counts["repaired"] += 1
                elif isinstance(record, str):
                    report("unreadable", session_id, record)
                elif dry_run:
                    counts["copied"] += 1
                else:
                    todo.append((session_id, record))
            full_logs: dict[str, list[LogChunk]] = {}
            copies = _whole_sessions(src, dst, todo, full_logs, report) if todo else []
            if len(pending) == WRITERS:
                settle()
            if copies:
                pending.append((pool.submit(_write, dst, copies, full_logs), len(page)))
            else:
                advance(len(page))
        while pending:
            settle()
    elapsed = time.perf_counter() - started
    return CopyResult(elapsed_s=elapsed, dry_run=dry_run, **counts)


def _source(src: SessionStore, query: Query | None) -> tuple[Iterator[tuple[str, Any]], int]:
    """The source's (id, record or reason) pairs to copy, and how many there are."""
    if query is None or query.is_empty:  # every session, archived ones too
        from sessionlens.query import parse_query

        return src.iter_saved(None), src.count(parse_query("archived:any"))
    by_id = query.sorted_by("id", False)
    ids = [s.session_id for s in src.list_summaries(by_id, limit=None)]
    return src.iter_saved(ids), len(ids)


def _meaningful(details: Mapping[str, Any]) -> dict[str, Any]:
    """Details worth writing: {} when nothing is set (no row for a session nobody annotated)."""
    title, notes = details.get("title"), details.get("notes")
    if isinstance(title, str) or isinstance(notes, str) or details.get("bookmark"):
        return {"title": title, "notes": notes, "bookmark": bool(details.get("bookmark"))}
    return {}


def _whole_sessions(
    src: SessionStore,
    dst: SessionStore,
    todo: list[tuple[str, Record | SavedSession]],
    full_logs: dict[str, list[LogChunk]],
    report: Callable[[str, str, str], None],
) -> list[SessionCopy]:
    """The sessions as ``import_sessions`` takes them, each log reduced to the chunks the
    destination still lacks (a copy killed mid-log wrote the first ones); the others are
    reported. Logs and details are read for the whole batch at once (a query each, not two
    per session); when that fails, one session at a time, to name the ones that cannot be
    read. ``full_logs`` gets the source's whole logs, for a retry."""
    ids = [session_id for session_id, _ in todo]
    try:
        logs = src.logs_for(ids)
        details = src.details_for(ids) if dst.capabilities.user_details else {}
    except StoreError:
        logs, details = {}, {}
        for session_id in list(ids):
            try:
                logs[session_id] = [LogChunk(c.text, c.stream) for c in src.iter_log(session_id)]
                if dst.capabilities.user_details:
                    details[session_id] = src.user_details(session_id)
            except StoreError as exc:
                report("unreadable", session_id, f"cannot read its log or details ({exc})")
                ids.remove(session_id)
    wanted = set(ids)
    for session_id, record in todo:
        if session_id in wanted:
            full_logs[_record_id(record, session_id)] = logs.get(session_id, [])
    written = dst.logs_for([sid for sid, log in full_logs.items() if log])
    copies = []
    for session_id, record in todo:
        if session_id not in wanted:
            continue
        log = full_logs[_record_id(record, session_id)]
        rest = _unwritten(written.get(_record_id(record, session_id), []), log)
        if rest is None:
            report(
                "unreadable",
                session_id,
                "the destination holds a different log for this id; not touched",
            )
            continue
        copies.append(SessionCopy(record, rest, _meaningful(details.get(session_id, {}))))
    return copies


def _record_id(record: Record | SavedSession, session_id: str) -> str:
    """The id a record is saved under (its own, else the one it was listed under)."""
    if isinstance(record, SavedSession):
        return record.session_id
    return str(record.get("session_id", session_id))


def _unwritten(written: list[LogChunk], log: list[LogChunk]) -> list[LogChunk] | None:
    """The chunks of ``log`` after ``written`` (the destination's), which must be the first
    of ``log`` (None when they are not: another writer's log)."""
    if written != log[: len(written)]:
        return None
    return log[len(written) :]


def _restore_details(src: SessionStore, dst: SessionStore, session_id: str) -> bool:
    """A session already in ``dst``: set the source's details when ``dst`` has none (a copy
    killed between a record and its details). Never overwrites what someone typed there."""
    if not dst.capabilities.user_details or not src.capabilities.user_details:
        return False
    try:
        details = _meaningful(src.user_details(session_id))
        if not details or _meaningful(dst.user_details(session_id)):
            return False
        dst.set_user_details(
            session_id,
            title=details["title"],
            notes=details["notes"],
            bookmark=details["bookmark"],
        )
    except StoreError:
        return False
    return True


#: what a batch's write did: counts by kind, and (kind, session id, reason) of each problem
_Written = tuple[dict[str, int], list[tuple[str, str, str]]]


def _write(
    dst: SessionStore, copies: list[SessionCopy], full_logs: dict[str, list[LogChunk]]
) -> _Written:
    """``import_sessions`` of a batch (in the writer thread: it reports by returning); when
    it fails (an id taken meanwhile, a record the destination refuses), the sessions it did
    not write go one at a time."""
    counts = {"copied": 0, "already": 0}
    problems: list[tuple[str, str, str]] = []
    try:
        dst.import_sessions(copies)
        counts["copied"] += len(copies)
        return counts, problems
    except StoreError:
        pass
    done = dst.existing_ids(_ids(copies))
    counts["copied"] += len(done)
    for copy in copies:
        session_id = copy.session_id
        if session_id in done:
            continue
        log = full_logs.get(session_id, [])
        rest = _unwritten(dst.logs_for([session_id]).get(session_id, []) if log else [], log)
        if rest is None:  # the failed batch wrote part of it: take up where it stopped
            problems.append(("refused", session_id, "its log in the destination does not match"))
            continue
        try:
            dst.import_sessions([copy._replace(log=rest)])
        except SessionExistsError:
            counts["already"] += 1
        except StoreError as exc:
            problems.append(("refused", session_id, f"not copied: {exc}"))
        else:
            counts["copied"] += 1
    return counts, problems


def _ids(copies: Iterable[SessionCopy]) -> list[str]:
    return [c.session_id for c in copies]
