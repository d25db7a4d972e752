"""The session record: what a store holds per session, and the derived values every view needs.

Records come from Kedro 0.17-0.19, kedro-viz and sessionlens itself, so readers never assume a
key exists (DESIGN.md section 1). Everything here is pure: no I/O beyond a pid liveness check
and the clock (a heartbeat's age).
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import PurePath
from typing import Any, NamedTuple

from sessionlens.results import metrics_of
from sessionlens.timefmt import parse_time

SESSION_ID_FORMAT = "%Y-%m-%dT%H.%M.%S.%fZ"

#: The record's top-level keys sessionlens knows, in the order people read them: the rows of
#: ``diff`` and the compare screen, and the keys ``show`` gives a section of their own (others
#: follow, in each record's own order).
KEY_ORDER = (
    "session_id",
    "package_name",
    "project_path",
    "username",
    "env",
    "run",
    "git",
    "cli",
    "runtime_params",
    "extra_params",
    "exception",
    "environment",
)

#: Statuses a summary can have. ``completed`` is a Kedro record without sessionlens run data;
#: ``lost`` a ``running`` record whose heartbeat went stale (see :func:`derive_status`);
#: ``unreadable`` a record that cannot be read (``SessionSummary.problem`` says why).
STATUSES = ("running", "success", "failed", "interrupted", "completed", "lost", "unreadable")
UNREADABLE = "unreadable"
#: What a record's ``run.status`` may say; ``lost`` and ``unreadable`` are only ever derived.
_RECORDED = frozenset(STATUSES) - {"lost", UNREADABLE}

#: A live run refreshes its heartbeat (``SessionStore.heartbeat``) at least this often, even
#: when its child prints nothing (the runner, the Kedro hooks).
HEARTBEAT_EVERY_S = 5.0
#: A ``running`` session whose last heartbeat is older than this is shown ``lost``: its runner
#: is gone (another host, a reused pid, a frozen machine) or cannot write. Twelve missed beats,
#: so a busy disk or a clock a little off between hosts never makes a live run look lost.
STALE_AFTER_S = 60.0

Record = dict[str, Any]


def new_session_id(now: datetime | None = None) -> str:
    """Kedro's session id: UTC time cut to milliseconds, sortable as text."""
    now = now or datetime.now(timezone.utc)
    return now.astimezone(timezone.utc).strftime(SESSION_ID_FORMAT)[:-4] + "Z"


def session_id_time(session_id: str) -> datetime | None:
    """The UTC time encoded in a Kedro-format session id, or None for another format. Read with
    a regular expression, not ``strptime`` (a fifth of the time of indexing a kedro-viz row
    went there); ``strptime`` still decides an id of another length (``...05.1Z``)."""
    found = _ID_SHAPE.fullmatch(session_id)
    if found is None:
        try:
            return datetime.strptime(session_id, SESSION_ID_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            return None
    year, month, day, hour, minute, second, milli = map(int, found.groups())
    try:
        return datetime(year, month, day, hour, minute, second, milli * 1000, timezone.utc)
    except ValueError:  # 2026-13-45
        return None


_ID_SHAPE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d)\.(\d\d)\.(\d\d)\.(\d{3})Z", re.ASCII)


def next_session_id(session_id: str) -> str | None:
    """The id of the following millisecond, or None for an id not in Kedro's format."""
    moment = session_id_time(session_id)
    if moment is None:
        return None
    return new_session_id(moment + timedelta(milliseconds=1))


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def running_run(command: list[str] | None, *, pid: int | None = None) -> dict[str, Any]:
    """The ``run`` dict a session saves before its run starts; finishing fills in the rest."""
    return {
        "status": "running",
        "started_at": utc_now_iso(),
        "finished_at": None,
        "duration_s": None,
        "exit_code": None,
        "pid": pid if pid is not None else os.getpid(),
        "hostname": hostname(),
        "command": command,
    }


@functools.cache
def hostname() -> str:
    """This machine's name, as ``socket.gethostname()`` gives it, without importing ``socket``
    (a few ms on the ``sessionlens run`` path)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket  # pragma: no cover - no uname (Windows)

    return socket.gethostname()  # pragma: no cover


def is_running(record: Mapping[str, Any]) -> bool:
    """Whether the record says its run is going on (``run.status`` is ``running``)."""
    run = record.get("run")
    return isinstance(run, Mapping) and run.get("status") == "running"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def is_stale(heartbeat: float, now: float | None = None) -> bool:
    """Whether a heartbeat (epoch seconds) is older than :data:`STALE_AFTER_S`."""
    return (time.time() if now is None else now) - heartbeat > STALE_AFTER_S


def derive_status(
    record: Mapping[str, Any],
    *,
    check_pid: bool = True,
    heartbeat: float | None = None,
    now: float | None = None,
) -> str:
    """Status as DESIGN.md defines it, for a ``running`` record as it stands now: its process
    gone (same host, pid dead) -> ``interrupted``, which wins; else its last ``heartbeat``
    (epoch seconds, from ``SessionStore.last_heartbeat``) stale -> ``lost``. A record without
    a heartbeat keeps the pid rule alone (runs of other hosts and older writers)."""
    run = record.get("run")
    if isinstance(run, Mapping) and run.get("status") in _RECORDED:
        status = str(run["status"])
        if status == "running" and check_pid:
            pid, host = run.get("pid"), run.get("hostname")
            if isinstance(pid, int) and host == hostname() and not _pid_alive(pid):
                return "interrupted"
        if status == "running" and heartbeat is not None and is_stale(heartbeat, now):
            return "lost"
        return status
    return "failed" if record.get("exception") else "completed"


def command_line(record: Mapping[str, Any]) -> str | None:
    """The command as a person typed it: Kedro's ``cli.command_path`` or the run's argv."""
    run = record.get("run")
    if isinstance(run, Mapping) and isinstance(run.get("command"), list | tuple):
        import shlex

        return shlex.join(str(a) for a in run["command"])
    cli = record.get("cli")
    if isinstance(cli, Mapping) and cli.get("command_path"):
        return str(cli["command_path"])
    return None


def params_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """The run's parameters: Kedro's ``--params`` (``cli.params.params``), else runtime params."""
    cli = record.get("cli")
    if isinstance(cli, Mapping):
        cli_params = cli.get("params")
        inner = cli_params.get("params") if isinstance(cli_params, Mapping) else None
        if isinstance(inner, Mapping) and inner:
            return dict(inner)
    for key in ("runtime_params", "extra_params"):
        value = record.get(key)
        if isinstance(value, Mapping) and value:
            return dict(value)
    return {}


def param_text(value: Any) -> str:
    """How a parameter value reads as text: strings raw, anything else JSON (``3``, ``true``).
    The common scalars skip ``json.dumps`` (same text): every index row formats them."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    if type(value) is float and math.isfinite(value):
        return repr(value)  # what json.dumps writes for a finite float
    return json.dumps(value, sort_keys=True, default=str)


def as_number(text: str) -> float | None:
    """``text`` as a number when it reads as one (``3``, ``-0.1``, ``1e-3``), else None: how
    both a parameter's value and a filter term's value are told to be numbers."""
    if not _NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def started_epoch(started_at: str | None) -> float | None:
    """When a session started, in epoch seconds (a time without a zone is UTC, as the records
    write them), None when unknown or unreadable: what ``since``/``until`` compare."""
    moment = parse_time(started_at) if isinstance(started_at, str) else None
    if moment is None:
        return None
    try:
        return moment.timestamp()
    except (OverflowError, ValueError):
        return None


def params_line(params: Mapping[str, Any]) -> str | None:
    """Parameters on one line for session lists, ``scale=3 seed=42``: keys sorted so the text
    is the same wherever it is made; None when there are none."""
    if not params:
        return None
    return " ".join(f"{k}={param_text(params[k])}" for k in sorted(params, key=str))


class SessionSummary(NamedTuple):
    """One row of a session list: the fields the table, filter and sort need, nothing more.

    A NamedTuple (``_replace`` for a changed copy), not a dataclass: the stores build these, and
    ``dataclasses`` would cost ``sessionlens run``, which imports a store, about 10 ms."""

    session_id: str
    status: str
    started_at: str | None = None
    finished_at: str | None = None
    duration_s: float | None = None
    exit_code: int | None = None
    branch: str | None = None
    commit_sha: str | None = None
    dirty: bool | None = None
    command: str | None = None
    username: str | None = None
    package_name: str | None = None
    hostname: str | None = None
    rerun_of: str | None = None
    title: str | None = None
    bookmark: bool = False
    notes: str | None = None
    params: str | None = None  # params_line(params_of(record))
    #: why the record cannot be read (status ``unreadable``); None for every readable one
    problem: str | None = None
    #: the session's metrics (``results.metrics_of``, plus tracking files where the store reads
    #: them); None when it has none
    metrics: dict[str, float] | None = None
    #: archived (``sessionlens archive``): hidden from listings unless a query asks for it
    archived: bool = False

    @classmethod
    def from_record(
        cls,
        record: Mapping[str, Any],
        details: Mapping[str, Any] | None = None,
        *,
        check_pid: bool = True,
        heartbeat: float | None = None,
    ) -> SessionSummary:
        """Build a summary from a record and optional kedro-viz ``user_run_details``;
        ``heartbeat``: the store's ``last_heartbeat`` of the session (see ``derive_status``)."""
        git = record.get("git") if isinstance(record.get("git"), Mapping) else {}
        run = record.get("run") if isinstance(record.get("run"), Mapping) else {}
        details = details or {}
        session_id = str(record.get("session_id", ""))
        started = run.get("started_at")
        moment = None if started else session_id_time(session_id)
        if moment:
            started = _iso(moment)
        dirty = git.get("dirty")
        return cls(
            session_id=session_id,
            status=derive_status(record, check_pid=check_pid, heartbeat=heartbeat),
            started_at=started,
            finished_at=run.get("finished_at"),
            duration_s=_float_or_none(run.get("duration_s")),
            exit_code=run.get("exit_code") if isinstance(run.get("exit_code"), int) else None,
            branch=_str_or_none(git.get("branch")),
            commit_sha=_str_or_none(git.get("commit_sha")),
            dirty=bool(dirty) if dirty is not None else None,
            command=command_line(record),
            username=_str_or_none(record.get("username")),
            package_name=_str_or_none(record.get("package_name")),
            hostname=_str_or_none(run.get("hostname")),
            rerun_of=_str_or_none(run.get("rerun_of")),
            title=_str_or_none(details.get("title")),
            bookmark=bool(details.get("bookmark")),
            notes=_str_or_none(details.get("notes")),
            params=params_line(params_of(record)),
            metrics=metrics_of(record) or None,
        )

    @classmethod
    def unreadable(
        cls, session_id: str, problem: str, details: Mapping[str, Any] | None = None
    ) -> SessionSummary:
        """The row of a record that cannot be read: its id, the start time a Kedro-format id
        tells, kedro-viz's title/bookmark/notes (kept apart from the record), and the reason."""
        details = details or {}
        moment = session_id_time(session_id)
        return cls(
            session_id=session_id,
            status=UNREADABLE,
            started_at=_iso(moment) if moment else None,
            title=_str_or_none(details.get("title")),
            bookmark=bool(details.get("bookmark")),
            notes=_str_or_none(details.get("notes")),
            # one line, and printable anywhere (no lone surrogates)
            problem=" ".join(str(problem).encode("utf-8", "replace").decode().split()) or "?",
        )

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _float_or_none(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def to_jsonable(value: Any) -> Any:
    """Plain JSON types from what stores hold: tuples from pickles, paths, sets, datetimes."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def format_duration(seconds: float | None) -> str:
    """Short durations for a table cell: ``0.84s``, ``12.3s``, ``4m05s``, ``1h02m``."""
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 10:
        return f"{sign}{seconds:.2f}s"
    if seconds < 60:
        return f"{sign}{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{sign}{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}h{minutes:02d}m"
