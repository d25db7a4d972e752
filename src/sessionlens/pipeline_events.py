"""kedro-viz 12's ``.viz/kedro_pipeline_events.json``: the node timings of a project's last run.

kedro-viz 12 (with Kedro 1.x) writes, at every ``kedro run``, the events of that run only:
``before_pipeline_run`` (timestamp), ``after_node_run`` (node, duration, status),
``on_node_error`` (node, error, timestamp), ``on_pipeline_error`` and ``after_pipeline_run``
(timestamps), plus dataset events ignored here. The file names no session, so it is given to the
one session it can belong to: the latest one started at or before ``before_pipeline_run`` (and
at most :data:`MAX_START_GAP` before it), whose recorded end, if any, is not before the events
end. Nothing here imports Kedro; the file is read as data, bounded in size, and a file that
cannot be read gives one problem line, never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sessionlens.record import session_id_time
from sessionlens.results import NO_RESULTS, NodeTiming, Results, as_metric, nodes_of
from sessionlens.timefmt import parse_time

if TYPE_CHECKING:
    from sessionlens.stores.base import SessionStore

#: where kedro-viz 12 writes the events, from the project root
EVENTS_FILE = Path(".viz") / "kedro_pipeline_events.json"
#: a larger file is not read (a run of a few hundred nodes writes some hundred KiB)
MAX_BYTES = 8 * 1024 * 1024
#: a session started longer than this before the pipeline did is not its session
MAX_START_GAP = timedelta(minutes=10)
#: how much earlier than the events' end a session's recorded end may be (clocks, rounding)
END_SLACK = timedelta(seconds=5)
#: longest error text kept per node
MAX_ERROR_CHARS = 2000


class EventsError(ValueError):
    """The events file is not what kedro-viz writes (one line, names the problem)."""


class PipelineEvents(NamedTuple):
    """One run's events: when the pipeline started and ended, and its nodes in run order."""

    started: datetime
    ended: datetime | None
    nodes: tuple[NodeTiming, ...]


def parse(data: Any) -> PipelineEvents:
    """The events kedro-viz wrote (a JSON list of event objects); ``EventsError`` otherwise."""
    if not isinstance(data, list):
        raise EventsError(f"holds {type(data).__name__}, not a list of events")
    started: datetime | None = None
    ended: datetime | None = None
    nodes: list[NodeTiming] = []
    for event in data:
        if not isinstance(event, Mapping):
            continue
        kind = event.get("event")
        moment = _time(event.get("timestamp"))
        if kind == "before_pipeline_run":
            started = moment
        elif kind in ("after_pipeline_run", "on_pipeline_error"):
            ended = moment or ended
        elif kind == "after_node_run" and isinstance(event.get("node"), str):
            status = event.get("status")
            nodes.append(
                NodeTiming(
                    name=event["node"],
                    status=status if status in ("success", "failed") else "success",
                    duration_s=as_metric(event.get("duration")),
                )
            )
        elif kind == "on_node_error" and isinstance(event.get("node"), str):
            error = event.get("error")
            text = " ".join(str(error).split())[:MAX_ERROR_CHARS] if error is not None else None
            nodes.append(NodeTiming(name=event["node"], status="failed", error=text or None))
            ended = moment or ended
    if started is None:
        raise EventsError("no before_pipeline_run event with a timestamp")
    return PipelineEvents(started, ended, tuple(nodes))


def _time(value: Any) -> datetime | None:
    return parse_time(value) if isinstance(value, str) else None


def read_events(root: Path) -> PipelineEvents | None:
    """The events file of the project at ``root``; None when there is none, ``EventsError``
    (one line, naming the file) when it cannot be read."""
    path = Path(root) / EVENTS_FILE
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise EventsError(f"{path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise EventsError(f"{path}: larger than {MAX_BYTES:,} bytes, not read")
    try:
        return parse(json.loads(raw))
    except EventsError as exc:
        raise EventsError(f"{path}: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise EventsError(f"{path}: not JSON ({' '.join(str(exc).split())[:200]})") from None


def session_start(record: Mapping[str, Any], session_id: str) -> datetime | None:
    """The earliest start the record tells: its id's time (Kedro makes the id when the session
    is created, before the pipeline runs) or ``run.started_at``."""
    run = record.get("run") if isinstance(record.get("run"), Mapping) else {}
    times = [session_id_time(session_id), _time(run.get("started_at"))]
    kedro_id = record.get("kedro_session_id")
    if isinstance(kedro_id, str):
        times.append(session_id_time(kedro_id))
    found = [t for t in times if t is not None]
    return min(found) if found else None


def fits(events: PipelineEvents, record: Mapping[str, Any], session_id: str) -> bool:
    """Whether the session's own times allow the events to be its run's (not whether another
    session fits better: see :func:`events_results`)."""
    start = session_start(record, session_id)
    if start is None or not (events.started - MAX_START_GAP <= start <= events.started):
        return False
    run = record.get("run") if isinstance(record.get("run"), Mapping) else {}
    finished = _time(run.get("finished_at"))
    end = events.ended or events.started
    return finished is None or finished >= end - END_SLACK


def events_results(
    store: SessionStore | None, root: Path, record: Mapping[str, Any], session_id: str
) -> Results:
    """The node timings of the project's events file for this session, when they are its run's:
    the session fits (:func:`fits`) and ``store`` holds no session started after it and still
    at or before the pipeline's start. Empty for a record with nodes of its own."""
    if nodes_of(record):
        return NO_RESULTS
    try:
        events = read_events(root)
    except EventsError as exc:
        return Results({}, {}, {}, (), (str(exc),))
    if events is None or not events.nodes or not fits(events, record, session_id):
        return NO_RESULTS
    if store is not None and _later_session(store, record, session_id, events):
        return NO_RESULTS
    return Results({}, {}, {}, events.nodes)


def _later_session(
    store: SessionStore, record: Mapping[str, Any], session_id: str, events: PipelineEvents
) -> bool:
    from sessionlens.query import parse_query

    start = session_start(record, session_id)
    assert start is not None  # fits() checked it
    since = (start + timedelta(milliseconds=1)).isoformat()
    until = events.started.isoformat()
    try:
        query = parse_query(f"since:{since} until:{until}")
        found = store.list_summaries(query, limit=5)
    except Exception:  # a store that cannot answer: better no nodes than another run's
        return True
    return any(s.session_id != session_id for s in found)
