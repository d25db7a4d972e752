"""The ``SessionStore`` contract, run against every backend (memory, shelve, sqlite, postgresql).

Listing is checked against the reference semantics: each record read back with ``get`` (and
``user_details``), summarised with ``SessionSummary.from_record``, filtered with
``Query.matches`` and sorted with ``Query.sort_key`` in Python.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from sessionlens.errors import (
    ReadOnlyStoreError,
    SessionExistsError,
    StoreError,
    UnknownSessionError,
    UnreadableSessionError,
)
from sessionlens.query import SORT_KEYS, Query, Term, parse_query
from sessionlens.record import STALE_AFTER_S, SessionSummary, params_of, to_jsonable
from sessionlens.stores import SessionStore, open_store
from storetools import (
    HOST,
    STORE_KINDS,
    _dead_pid,
    add_details,
    database_rows,
    leave_heartbeat,
    make_records,
    store_location,
)


@functools.cache
def _live_ids(n: int) -> tuple[str, ...]:
    """The ids of ``make_records(n)``'s runs of this (live) process (made once: each
    ``make_records`` starts a process for its dead pid)."""
    return tuple(
        record["session_id"]
        for record in make_records(n)
        if record.get("run", {}).get("status") == "running"
        and record["run"].get("pid") == os.getpid()
    )


#: when each shared store's live runs last had a heartbeat here (``id(store)`` -> monotonic)
_beaten: dict[int, float] = {}


def beat_live_runs(store: SessionStore, n: int) -> SessionStore:
    """A shared store's runs of this (live) process (of ``make_records(n)``) given a fresh
    heartbeat: under load a module's tests outlast ``STALE_AFTER_S``, and those runs were then
    shown ``lost``. Beaten again once a quarter of ``STALE_AFTER_S`` has passed, not per test."""
    now = time.monotonic()
    if now - _beaten.get(id(store), -STALE_AFTER_S) >= STALE_AFTER_S / 4:
        for session_id in _live_ids(n):
            store.heartbeat(session_id)
        _beaten[id(store)] = now
    return store


@pytest.fixture
def filled(_filled: SessionStore) -> SessionStore:
    return beat_live_runs(_filled, 64)


@pytest.fixture(scope="module", params=STORE_KINDS)
def _filled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SessionStore]:
    """One store per kind with 64 varied sessions, shared by the read-only listing tests."""
    kind, tmp_path = request.param, tmp_path_factory.mktemp(request.param)
    store = open_store(store_location(kind, tmp_path), read_only=False, create=True)
    records = make_records()
    store.insert_many(records[:40] + UNREADABLE[:1])
    for record in records[40:] + UNREADABLE[1:]:
        store.insert(record)
    add_details(store, tmp_path, records + UNREADABLE)
    yield store
    _beaten.pop(id(store), None)
    store.close()


#: records every backend saves and then lists as ``unreadable`` (a key of the wrong type); the
#: last one has kedro-viz user details in the SQLite store (``DETAILS`` index 64)
UNREADABLE = [
    {"session_id": "2026-11-03T10.30.00.500Z", "run": {"status": "success", "started_at": 5}},
    {"session_id": "legacy-bad", "git": ["main"], "username": "ana"},
    {"session_id": "2026-11-04T09.00.00.000Z", "run": {"exit_code": "0"}},
]


def reference(store: SessionStore, query: Query) -> list[SessionSummary]:
    """What a listing must be, computed from the records alone."""
    everything = store.list_summaries(parse_query("archived:any"), limit=None)
    ids = [s.session_id for s in everything]
    archived = {s.session_id for s in everything if s.archived}
    rows = []
    for sid in ids:
        try:
            record = store.get(sid)
        except UnreadableSessionError as exc:
            summary = SessionSummary.unreadable(sid, exc.problem, store.user_details(sid))
            params = {}
        else:
            summary = SessionSummary.from_record(
                record, store.user_details(sid), heartbeat=store.last_heartbeat(sid)
            )
            params = params_of(record)
        summary = summary._replace(archived=sid in archived)
        if query.matches(summary, params):
            rows.append(summary)
    return sorted(rows, key=query.sort_key, reverse=query.descending)


QUERIES = [
    "",
    "branch:main",
    "-branch:main",
    "branch:feature/ünïcode",
    "status:failed",
    "status:interrupted",
    "status:running",
    "status:completed",
    "status:unreadable",
    "-status:unreadable",
    "-status:success",
    "dirty:yes",
    "dirty:no",
    "-dirty:yes",
    "sha:b",
    "-sha:b",
    "user:ana",
    "user:zoë",
    "-user:ana",
    "host:ws-2",
    f"host:{HOST}",
    "command:train",
    "command:'two words'",
    "-command:kedro",
    "title:base",
    "title:ünï",
    "bookmark:yes",
    "bookmark:no",
    "exit:0",
    "exit:-2",
    "-exit:0",
    "since:2026-11-03",
    "until:2026-11-02",
    "until:2026-11-02T11",
    "since:2026-11-02 until:2026-11-04",
    "rerun:2026-11",
    "-rerun:2026",
    "id:2026-11-01t1",
    "id:legacy",
    "param.scale:3",
    "param.lr:0.1",
    "param.flag:true",
    "param.name:alice",
    "param.model.depth:4",
    "-param.scale:3",
    'param.cfg:\'{"a": null, "b": [1, 2]}\'',
    "train",
    "TRAIN main",
    "ünï",
    "failed",
    "baseline",
    "zoë python",
    "2026-11-01t",
    "branch:main status:success train",
    "kedro run --params",
    '"two words"',
    '"words\' main"',
    '"completed retry"',
    '"ünïcode 1"',
    "scale=3",
    "name=alice",
    "-status:failed scale=10",
    "nothing-matches-this",
    "unreadable",
    "legacy",
    "title:mislaid",
    "metric.accuracy>=0.75",
    "metric.accuracy:0.9",
    "-metric.accuracy:0.9",
    "metric.val.loss<0.3",
    "metric.epochs!=2 status:success",
    "metric.note:1",
    "metric.missing>0",
]


@pytest.mark.parametrize("text", QUERIES)
def test_count_and_list_match_the_reference(filled: SessionStore, text: str) -> None:
    query = parse_query(text)
    expected = reference(filled, query)
    # SQLite plans a page by walking the sort index before count() is known, and lets the
    # filter drive once count() found few matches: both plans must give the same answer
    assert filled.list_summaries(query, limit=None) == expected
    assert filled.list_summaries(query, offset=2, limit=5) == expected[2:7]
    assert filled.count(query) == len(expected)
    assert filled.list_summaries(query, limit=None) == expected
    assert filled.list_summaries(query, offset=2, limit=5) == expected[2:7]


def test_param_names_with_quotes(filled: SessionStore) -> None:
    for value, negate in (("1", False), ("2", False), ("1", True)):
        query = Query(terms=(Term('param.odd"key', value, negate),))
        expected = reference(filled, query)
        assert expected
        assert filled.list_summaries(query, limit=None) == expected


#: the moment relative dates count from in the filter tests, in a zone that is not UTC (dates
#: without a zone are read in it, as in the local time the table shows)
NOW = datetime(2026, 11, 4, 12, 0, tzinfo=timezone(timedelta(hours=1)))

#: sessions with the edges of the filter language: glob characters and non-ASCII case in text,
#: start times with an offset, without a zone and unreadable, parameters that are numbers as
#: text, huge, negative, and text that looks like a glob
EDGE_RECORDS = [
    {
        "session_id": "2026-11-03T23.30.00.000Z",
        "username": "İlkay",
        "git": {"branch": "fix/a?b[1]*", "commit_sha": "ABCDEF1", "dirty": False},
        "run": {
            "status": "success",
            "started_at": "2026-11-03T23:30:00",
            "duration_s": 90,
            "exit_code": 0,
            "hostname": "Straße-1",
            "command": ["kedro", "run", "--pipeline", "Train*"],
        },
        "cli": {
            "params": {
                "params": {"lr": "0.10", "path": "a?b[c]*d", "tag": "Ünïcode-X", "big": 1e300}
            }
        },
    },
    {
        "session_id": "2026-11-04T05.00.00.000Z",
        "git": {"branch": "ÜBER/straße"},
        "run": {
            "status": "failed",
            "started_at": "2026-11-04T10:00:00+05:00",
            "duration_s": 3600.5,
            "exit_code": 137,
            "command": ["sh", "-c", "exit 137"],
        },
        "cli": {"params": {"params": {"lr": 1e-3, "tag": "ünïcode-x", "name": "0.1", "neg": -3}}},
    },
    {
        "session_id": "2026-11-04T10.59.00.000Z",
        "username": "zoë",
        "run": {
            "status": "success",
            "started_at": "2026-11-04T10:59:00.000Z",
            "exit_code": 0,
            "duration_s": 0,
        },
    },
    {"session_id": "2026-11-05T01.00.00.000Z", "run": {"status": "success", "started_at": "x"}},
]

#: filter text -> whether at least one session of ``edged`` must match (a typo in a query that
#: makes it match nothing would prove nothing); None: only where titles are kept (SQLite, PG)
FILTERS = {
    # text: prefix in any case, * a glob, := exact; ?, [ and ] are literal
    "id:2026-11-04": True,
    "id:LEGACY": True,
    "id:*t1*": True,
    "id:=legacy-007": True,
    "branch:feature": True,
    "branch:FEAT*/*20": True,
    "branch:main": True,
    "branch:=main": True,
    "-branch:=main": True,
    "branch:*ünï*": True,
    "branch:über": True,
    "branch:ÜBER/STRASSE": False,  # ß lower-cases to itself
    "branch:fix/a?b[1]": True,
    "branch:fix/a?b[1]*": True,
    "branch:*?b[*": True,
    "branch:=fix/a?b[1]*": True,
    "branch:*": True,
    "-branch:*": True,
    "sha:AB": True,
    "sha:*4*": True,
    "user:İL": True,
    "user:zo": True,
    "user:*Ë": True,
    "-user:a": True,
    "host:straße": True,
    "host:ws": True,
    "command:python": True,
    "command:*train*": True,
    "command:'kedro run'": True,
    "command:'kedro run --pipeline *train*'": True,
    "-command:python": True,
    "title:base": True,  # kedro-viz's rows in SQLite, set_user_details elsewhere
    "title:*ünï*": True,
    "title:=retry": True,
    "-title:*": True,
    "rerun:2026": True,
    "rerun:*t1*": True,
    # status and yes/no
    "status:FAILED": True,
    "-status:success": True,
    "dirty:yes": True,
    "-dirty:no": True,
    "bookmark:no": True,
    # numbers
    "exit:0": True,
    "exit=0": True,
    "exit!=0": True,
    "exit>1": True,
    "exit>=137": True,
    "exit<0": True,
    "exit<=0": True,
    "-exit:0": True,
    "-exit!=0": True,
    "duration>60": True,
    "duration>=1m": True,
    "duration<1": True,
    "duration:0": True,
    "duration=1.5": True,
    "duration!=0": True,
    "duration>1h": True,
    "-duration>60": True,
    # dates: ISO in the zone of NOW, with a zone, whole units, relative to NOW
    "since:2026-11-04": True,
    "until:2026-11-03": True,
    "since:2026-11-03T23": True,
    "until:2026-11-04T05:00": True,
    "since:2026-11-04T10:00:00+05:00": True,
    "since:2026-11-04T05:00Z": True,
    "since:2026-11": True,
    "until:2026-11": True,
    "since:2026": True,
    "since:2d": True,
    "since:36h": True,
    "since:90m": True,
    "until:1d": True,
    "since:today": True,
    "since:yesterday": True,
    "until:yesterday": True,
    "until:today": True,
    "since:yesterday until:yesterday": True,
    "-since:2026-11-03": True,
    # parameters: numbers as numbers, text in any case, globs, operators on numbers only
    "param.scale:3": True,
    "param.scale=3": True,
    "param.scale>=3": True,
    "param.scale!=3": True,
    "param.scale<10": True,
    "param.lr:0.1": True,
    "param.lr:0.10": True,
    "param.lr:=0.10": True,
    "param.lr>=0.01": True,
    "param.lr<0.01": True,
    "param.lr!=0.1": True,
    "param.name:0.1": True,
    "param.name>0": True,
    "param.name:alice": True,
    "param.name:ALICE": True,
    "param.name:=zoë": True,
    "param.name:ZOË": True,
    "param.name:al*": True,
    "param.tag:ünïcode-x": True,
    "param.path:a?b[c]*d": True,
    "param.path:=a?b[c]*d": True,
    "param.flag:true": True,
    "param.flag>0": False,  # true is not a number
    "param.big>1e299": True,
    "param.neg<0": True,
    "param.neg:-3.0": True,
    "-param.lr:0.1": True,
    "-param.lr>0.05": True,
    "param.model.depth>=4": True,
    "param.cfg:*null*": True,
    # together, with free words
    "branch:main status:success train": True,
    "-status:failed param.lr<=0.01 since:2026-11-02": True,
    "exit!=0 command:*train*": True,
    "zoë -exit:0": True,
    # free words as LIKE patterns (PostgreSQL's trigram indexes): % _ \\ literal; titles by id
    "retry": True,
    "fail": True,
    "lr=0.01": True,
    "_": False,
    "%": False,
    "\\": False,
    "a?b[": True,
    "nowhere-at-all": False,
}


@pytest.fixture
def edged(_edged: SessionStore) -> SessionStore:
    return beat_live_runs(_edged, 40)


@pytest.fixture(scope="module", params=STORE_KINDS)
def _edged(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SessionStore]:
    """One store per kind: 40 varied sessions and the EDGE_RECORDS, kedro-viz details too."""
    kind, tmp_path = request.param, tmp_path_factory.mktemp(f"edged-{request.param}")
    store = open_store(store_location(kind, tmp_path), read_only=False, create=True)
    records = make_records(40)
    store.insert_many(records + EDGE_RECORDS)
    add_details(store, tmp_path, records)
    yield store
    _beaten.pop(id(store), None)
    store.close()


@pytest.mark.parametrize("text", FILTERS)
def test_every_filter_means_the_same_in_every_backend(edged: SessionStore, text: str) -> None:
    """Each store lists, pages and counts what ``Query.matches`` accepts (the reference)."""
    query = parse_query(text, now=NOW, tz=NOW.tzinfo)
    expected = reference(edged, query)
    must = FILTERS[text]
    assert bool(expected) is must, [s.session_id for s in expected]
    ids = [s.session_id for s in expected]
    assert [s.session_id for s in edged.list_summaries(query, limit=None)] == ids
    assert edged.count(query) == len(expected)
    # counted: SQLite now lets a filter with few matches drive the query
    assert [s.session_id for s in edged.list_summaries(query, limit=None)] == ids
    assert edged.list_summaries(query, offset=1, limit=3) == expected[1:4]


@pytest.mark.parametrize("sort", [*sorted(SORT_KEYS), "metric.accuracy", "metric.val.loss"])
@pytest.mark.parametrize("descending", [True, False])
def test_every_sort_order_with_missing_values_last(
    filled: SessionStore, sort: str, descending: bool
) -> None:
    for text in ("", "-status:success"):
        query = parse_query(text, sort=sort, descending=descending)
        expected = reference(filled, query)
        got = filled.list_summaries(query, limit=None)
        assert [s.session_id for s in got] == [s.session_id for s in expected]
        if sort.startswith("metric."):
            values = [(s.metrics or {}).get(sort.removeprefix("metric.")) for s in got]
        else:
            values = [getattr(s, SORT_KEYS[sort]) for s in got]
        if None in values:  # missing values come last whatever the direction
            assert all(v is None for v in values[values.index(None) :])
        # counted: SQLite reads pages past the middle backwards, from the other end
        assert filled.count(query) == len(expected)
        for offset in range(0, len(expected) + 3, 5):
            page = filled.list_summaries(query, offset=offset, limit=7)
            assert page == expected[offset : offset + 7], offset


@pytest.mark.parametrize("text", ["", "-status:success", "branch:main", "nothing-matches-this"])
def test_count_at_most_stops_at_the_cap(filled: SessionStore, text: str) -> None:
    query = parse_query(text)
    whole = len(reference(filled, query))
    for cap in (0, 1, 5, whole, whole + 10):
        assert filled.count_at_most(query, cap) == min(whole, cap)
    assert filled.count(query) == whole  # a capped count is not taken for the whole one


def test_paging(filled: SessionStore) -> None:
    query = parse_query("-status:success", sort="duration", descending=False)
    whole = reference(filled, query)
    assert len(whole) > 20
    pages = [filled.list_summaries(query, offset=o, limit=7) for o in range(0, len(whole), 7)]
    assert [s for page in pages for s in page] == whole
    assert filled.list_summaries(query, offset=len(whole) + 5, limit=7) == []
    assert filled.list_summaries(query, offset=3, limit=0) == []
    assert filled.list_summaries(query, offset=3, limit=None) == whole[3:]
    assert filled.list_summaries(limit=5) == reference(filled, Query())[:5]


def test_newest_first_by_default(filled: SessionStore) -> None:
    page = filled.list_summaries()
    started = [s.started_at for s in page if s.started_at]
    assert started == sorted(started, key=str.lower, reverse=True)
    assert filled.count() == 64 + len(UNREADABLE)


def test_status_shown_is_live(filled: SessionStore) -> None:
    by_status: dict[str, set[str]] = {}
    for s in filled.list_summaries(limit=None):
        by_status.setdefault(s.status, set()).add(s.session_id)
    assert set(by_status) == {"success", "failed", "running", "interrupted", "completed"} | {
        "unreadable"
    }
    assert by_status["unreadable"] == {r["session_id"] for r in UNREADABLE}
    records = make_records()
    mine = {r["session_id"] for r in records if r.get("run", {}).get("pid") == os.getpid()}
    assert mine and mine <= by_status["running"]  # this process is alive
    dead = [r["session_id"] for r in records if r.get("run", {}).get("status") == "running"]
    assert set(dead) - mine <= by_status["interrupted"]  # same host, process gone


def test_round_trip(new_store: SessionStore) -> None:
    record = make_records(3)[0]
    record["environment"] = {"python": "3.11.7", "tuple": (1, 2), "path": Path("/a/b")}
    record["unknown_key"] = {"kept": ["as", "is"]}
    new_store.insert(record)
    got = new_store.get(record["session_id"])
    assert got["environment"] == {"python": "3.11.7", "tuple": [1, 2], "path": "/a/b"}
    assert got["unknown_key"] == {"kept": ["as", "is"]}
    assert got["git"] == record["git"] and got["run"] == record["run"]
    record["environment"]["python"] = "changed after save"
    assert new_store.get(record["session_id"])["environment"]["python"] == "3.11.7"
    # an update replaces the record (a run that finished)
    record["run"] = {**record["run"], "status": "failed", "exit_code": 3}
    new_store.update(record)
    assert new_store.get(record["session_id"])["run"]["exit_code"] == 3
    assert new_store.count() == 1
    summary = new_store.get_summary(record["session_id"])
    assert summary == SessionSummary.from_record(new_store.get(record["session_id"]))
    assert summary.status == "failed" and summary.exit_code == 3


def test_params_line_in_every_listing(filled: SessionStore) -> None:
    """``params`` is the same one-line text in a listing, ``get_summary`` and the reference."""
    listed = filled.list_summaries(parse_query("", sort="params"), limit=None)
    with_params = [s for s in listed if s.params is not None]
    assert with_params and len(with_params) < len(listed)  # records without params: None
    for s in listed:
        if s.status == "unreadable":
            assert s.params is None and s.problem
            continue
        record = filled.get(s.session_id)
        assert s.params == SessionSummary.from_record(record).params
        assert filled.get_summary(s.session_id).params == s.params
        assert (s.params is None) == (not params_of(record))
    assert with_params[0].params.startswith('cfg={"a": null, "b": [1, 2]} flag=')


def test_params_line_text(new_store: SessionStore) -> None:
    """Keys sorted, strings as typed (spaces, quotes, non-ASCII kept), other values as JSON."""
    record = make_records(1)[0]
    record["cli"]["params"]["params"] = {
        "scale": 3,
        "name": 'Zoë "b" c',
        "lr": 0.1,
        "flag": False,
        "none": None,
        "cfg": {"z": [1, "x"], "a": {}},
        "Upper": "",
    }
    new_store.insert(record)
    want = 'Upper= cfg={"a": {}, "z": [1, "x"]} flag=false lr=0.1 name=Zoë "b" c none=null scale=3'
    assert new_store.get_summary(record["session_id"]).params == want
    assert new_store.list_summaries()[0].params == want
    record["cli"]["params"]["params"] = {}
    new_store.update(record)  # saved again without params: the line goes too
    assert new_store.list_summaries()[0].params is None


def test_unknown_session(new_store: SessionStore) -> None:
    new_store.insert(make_records(1)[0])
    for sid in ("2099-01-01T00.00.00.000Z", "../etc", ""):
        with pytest.raises(UnknownSessionError) as info:
            new_store.get(sid)
        assert isinstance(info.value, KeyError) and "\n" not in str(info.value)
        with pytest.raises(UnknownSessionError):
            new_store.get_summary(sid)


def test_record_without_session_id_is_refused(new_store: SessionStore) -> None:
    with pytest.raises(StoreError):
        new_store.insert({"git": {}})
    assert new_store.count() == 0


def test_logs(new_store: SessionStore) -> None:
    sid = make_records(1)[0]["session_id"]
    assert new_store.read_log(sid) == ""
    assert list(new_store.iter_log(sid)) == []
    chunks = [("line 1\n", "stdout"), ("oops ünï\n", "stderr"), ("partial", "stdout")]
    chunks += [(f"{n}\n", "stdout") for n in range(2500)]  # more than one SQLite page
    for text, stream in chunks:
        new_store.append_log(sid, text, stream)
    new_store.append_log("other", "elsewhere\n")
    got = list(new_store.iter_log(sid))
    assert [(c.text, c.stream) for c in got] == chunks
    assert [c.text for c in new_store.iter_log(sid, start=2)] == [c[0] for c in chunks[2:]]
    assert list(new_store.iter_log(sid, start=len(chunks))) == []
    assert new_store.read_log(sid) == "".join(c[0] for c in chunks)
    assert new_store.read_log("other") == "elsewhere\n"
    assert [c.stream for c in new_store.iter_log(sid)][:2] == ["stdout", "stderr"]
    # many sessions' logs at once (``copy``): the same chunks, sessions without one left out
    logs = new_store.logs_for([sid, "other", "nobody"])
    assert sorted(logs) == sorted(["other", sid])
    assert logs[sid] == got and logs["other"] == list(new_store.iter_log("other"))


def test_log_tail_is_the_end_of_the_log(new_store: SessionStore) -> None:
    record = make_records(1)[0]
    new_store.insert(record)
    sid = record["session_id"]
    assert new_store.log_tail(sid) == []
    for i in range(300):  # more chunks than one page read from the end
        new_store.append_log(sid, f"line {i}\npart", "stderr" if i % 2 else "stdout")
        new_store.append_log(sid, f" {i}\n")
    assert (
        new_store.log_tail(sid, 3)
        == ["part 297", "line 298", "part 298", "line 299", "part 299"][-3:]
    )
    assert new_store.log_tail(sid, 2, max_chars=12) == ["part 299"]
    assert new_store.log_tail(sid, 0) == []
    whole = new_store.read_log(sid).splitlines()
    assert new_store.log_tail(sid, 50) == whole[-50:]


def test_change_token_changes_on_save(new_store: SessionStore) -> None:
    records = make_records(4)
    seen = {new_store.change_token()}
    for record in records:
        new_store.insert(record)
        token = new_store.change_token()
        assert token not in seen
        seen.add(token)
        assert new_store.change_token() == token  # stable while nothing changes
    records[0]["run"]["status"] = "success"
    new_store.update(records[0])  # an update, not a new session
    assert new_store.change_token() not in seen


def test_change_token_ignores_log_appends(new_store: SessionStore) -> None:
    """A browser polls the token during a run; a growing log must not make it reload pages."""
    record = make_records(1)[0]
    new_store.insert(record)
    token = new_store.change_token()
    for i in range(3):
        new_store.append_log(record["session_id"], f"line {i}\n")
    assert new_store.change_token() == token


def test_read_only_store_refuses_writes_and_changes_nothing(
    store_kind: str, tmp_path: Path
) -> None:
    spec = store_location(store_kind, tmp_path)
    records = make_records(5)
    with open_store(spec, read_only=False, create=True) as writer:
        writer.insert_many(records)
        writer.append_log(records[0]["session_id"], "hello\n")
        if store_kind == "memory":
            reader = writer
            writer.read_only = True  # a memory store is only reachable through its object
    before = _snapshot(tmp_path)
    if store_kind != "memory":
        reader = open_store(spec)  # read-only by default
    with reader:
        assert reader.read_only
        assert reader.count() == 5
        assert reader.read_log(records[0]["session_id"]) == "hello\n"
        with pytest.raises(ReadOnlyStoreError):
            reader.insert(records[0])
        with pytest.raises(ReadOnlyStoreError):
            reader.insert_many(records)
        with pytest.raises(ReadOnlyStoreError):
            reader.append_log(records[0]["session_id"], "more\n")
        assert reader.get(records[1]["session_id"]) == to_jsonable(records[1])
        reader.list_summaries(parse_query("branch:main"), limit=None)
    assert _snapshot(tmp_path) == before


def _snapshot(folder: Path) -> dict[str, object]:
    """Bytes and mtime of every file under ``folder``: what 'changed nothing' means. SQLite's
    ``-wal``/``-shm`` companions are left out: every reader of a WAL database maps them. For a
    PostgreSQL store made for ``folder``: every row of its database."""
    from pgserver import _databases

    if str(folder) in _databases:
        return database_rows(_databases[str(folder)])
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


def test_capabilities_say_what_the_backend_does(new_store: SessionStore, store_kind: str) -> None:
    caps = new_store.capabilities
    assert caps.persistent == (store_kind != "memory")
    assert caps.logs
    assert caps.user_details
    assert new_store.kind == store_kind
    assert new_store.describe().startswith(f"{store_kind}: ")


def test_user_details_set_through_the_api_list_filter_and_sort_alike(
    new_store: SessionStore, store_kind: str, tmp_path: Path
) -> None:
    """``set_user_details`` in every backend: only the given fields change, text as typed, and
    listings, ``title:``/``bookmark:`` terms and the title sort follow at once."""
    records = make_records(12)
    new_store.insert_many(records + UNREADABLE[:1])
    a, b, c = (r["session_id"] for r in records[:3])
    bad = UNREADABLE[0]["session_id"]
    token = new_store.change_token()
    typed = "  [bold]Zeta[/]  \x1b[31m"
    new_store.set_user_details(a, title=typed, notes="line 1\nline 2")
    assert new_store.change_token() != token
    new_store.set_user_details(b, bookmark=True)
    new_store.set_user_details(c, title="alpha", bookmark=True)
    new_store.set_user_details(c, bookmark=False)  # the title stays
    new_store.set_user_details(bad, title="unreadable but titled")
    assert new_store.user_details(a) == {
        "title": typed,
        "bookmark": False,
        "notes": "line 1\nline 2",
    }
    assert new_store.user_details(b) == {"title": None, "bookmark": True, "notes": None}
    assert new_store.user_details(c) == {"title": "alpha", "bookmark": False, "notes": None}
    # many sessions' details at once (``copy``): the same, sessions without any left out
    many = new_store.details_for([a, b, c, "2030-01-01T00.00.00.000Z"])
    assert many == {sid: new_store.user_details(sid) for sid in (a, b, c)}
    assert new_store.get_summary(a).title == typed
    assert new_store.get_summary(bad).title == "unreadable but titled"

    def ids(text: str, sort: str = "started", descending: bool = True) -> list[str]:
        query = parse_query(text, sort=sort, descending=descending)
        found = [s.session_id for s in new_store.list_summaries(query, limit=None)]
        assert found == [s.session_id for s in reference(new_store, query)]
        assert new_store.count(query) == len(found)
        return found

    assert ids("bookmark:yes") == [b]
    assert ids("title:alp") == [c]
    assert ids("title:*zeta*") == [a]
    assert ids("title:unread") == [bad]
    assert ids("-title:*", "id", False)[:1] != [a]
    assert ids("", "title", False)[:3] == [a, c, bad]  # as typed: leading spaces first
    row = next(s for s in new_store.list_summaries(None, limit=None) if s.session_id == a)
    assert (row.title, row.notes, row.bookmark) == (typed, "line 1\nline 2", False)
    new_store.update({**records[0], "username": "changed"})  # a later save keeps them
    assert new_store.user_details(a)["title"] == typed
    assert ids("title:*zeta*") == [a]
    with pytest.raises(UnknownSessionError):
        new_store.set_user_details("2030-01-01T00.00.00.000Z", title="x")
    if store_kind != "memory":  # another reader of the same store sees them
        with open_store(store_location(store_kind, tmp_path)) as reader:
            assert reader.user_details(a)["title"] == typed
            assert [s.session_id for s in reader.list_summaries(parse_query("bookmark:yes"))] == [b]
            with pytest.raises(ReadOnlyStoreError):
                reader.set_user_details(a, title="no")
            assert reader.user_details(a)["title"] == typed


def test_every_backend_is_safe_to_share_between_threads(new_store: SessionStore) -> None:
    """``SessionStore``'s promise: callers (the app's workers, a run's threads) add no lock."""
    from concurrent.futures import ThreadPoolExecutor

    records = make_records(32)
    ids = [r["session_id"] for r in records]

    def work(n: int) -> int:
        new_store.insert(records[n])
        new_store.append_log(ids[n], f"line {n}\n")
        new_store.heartbeat(ids[n])
        new_store.update({**records[n], "username": f"user{n}"})
        new_store.list_summaries(parse_query("branch:main"), limit=10)
        new_store.change_token()
        assert new_store.get(ids[n])["username"] == f"user{n}"
        assert new_store.log_tail(ids[n], 5) == [f"line {n}"]
        return new_store.count()

    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(work, range(32)))
    assert max(counts) == 32 == new_store.count()
    assert {s.session_id for s in new_store.list_summaries(limit=None)} == set(ids)
    assert all(new_store.read_log(i) == f"line {n}\n" for n, i in enumerate(ids))


# -- claiming ids: new sessions never replace another's ----------------------------------------
def test_insert_claims_an_id_once_and_update_needs_one(new_store: SessionStore) -> None:
    first, second, third = make_records(3)
    new_store.insert(first)
    with pytest.raises(SessionExistsError) as info:
        new_store.insert({**first, "username": "somebody else"})
    assert first["session_id"] in str(info.value) and "\n" not in str(info.value)
    assert new_store.get(first["session_id"])["username"] == first["username"]
    with pytest.raises(UnknownSessionError):
        new_store.update(second)
    assert new_store.count() == 1
    # a batch that holds a taken id writes none of it where the backend has transactions
    with pytest.raises(SessionExistsError):
        new_store.insert_many([second, first, third] if new_store.kind != "shelve" else [first])
    if new_store.kind != "shelve":
        assert new_store.count() == 1
    new_store.update({**first, "username": "updated"})
    assert new_store.get(first["session_id"])["username"] == "updated"


CLAIMER = """
import json, sys, time
from sessionlens.errors import SessionExistsError
from sessionlens.stores import open_store
spec, start, worker = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
won = []
with open_store(spec, read_only=False) as store:
    while time.time() < start:
        pass
    for k in range(40):
        sid = f"2026-11-25T09.44.11.{k:03d}Z"
        try:
            store.insert({"session_id": sid, "worker": worker})
        except SessionExistsError:
            continue
        won.append(sid)
print(json.dumps(won))
"""


@pytest.mark.parametrize("kind", ["shelve", "sqlite", "postgresql"])
def test_processes_racing_for_the_same_ids_each_win_distinct_ones(
    kind: str, tmp_path: Path
) -> None:
    """Eight processes insert the same 40 ids at the same instant: each id is won once, by
    the process whose record is stored; the others are told, never silently replaced."""
    spec = store_location(kind, tmp_path)
    open_store(spec, read_only=False, create=True).close()
    start = time.time() + 1.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, spec, str(start), str(w)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(8)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in outputs]
    won = {w: json.loads(out) for w, (out, _) in enumerate(outputs)}
    claimed = [sid for ids in won.values() for sid in ids]
    assert sorted(claimed) == [f"2026-11-25T09.44.11.{k:03d}Z" for k in range(40)]
    with open_store(spec) as store:
        assert store.count() == 40
        for worker, ids in won.items():
            assert all(store.get(sid)["worker"] == worker for sid in ids)


SAME_MILLISECOND_SESSIONS = """
import json, sys, time
from datetime import timedelta
import sessionlens.session as session_module
from sessionlens.record import new_session_id, session_id_time
from sessionlens.session import Session
project, spec, start, n = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
base = session_id_time("2026-11-25T09.44.11.000Z")
ticks = iter(range(10**6))
# every process asks for the same ids, one millisecond apart: each must claim its own
session_module._unique_session_id = lambda: new_session_id(
    base + timedelta(milliseconds=next(ticks))
)
ids = []
while time.time() < start:
    pass
for _ in range(n):
    with Session.create(project, spec) as session:
        session.run(lambda: None)
    ids.append(session.session_id)
print(json.dumps(ids))
"""


@pytest.mark.parametrize("kind", ["shelve", "sqlite", "postgresql"])
def test_sessions_started_in_the_same_millisecond_all_keep_their_record(
    kind: str, tmp_path: Path, long_torture: bool
) -> None:
    """8 processes asking for the same ids at once: 20 sessions each in a long torture run
    (``-m torture``), 10 each always."""
    n = 20 if long_torture else 10
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.sessionlens]\nrun = ["true"]\n')
    spec = store_location(kind, tmp_path)
    start = time.time() + 1.5
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                SAME_MILLISECOND_SESSIONS,
                str(project),
                spec,
                str(start),
                str(n),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in outputs]
    ids = [sid for out, _ in outputs for sid in json.loads(out)]
    assert len(set(ids)) == 8 * n
    with open_store(spec) as store:
        assert {s.session_id for s in store.list_summaries(limit=None)} == set(ids)
        assert store.count(parse_query("status:success")) == 8 * n


# -- liveness: a running record whose heartbeat went stale is lost ---------------------------------
#: (name, host, pid, heartbeat age in seconds or None, status recorded) -> status shown
LIVENESS = {
    "other-host-stale": ("elsewhere-1", 4242, 10 * STALE_AFTER_S, "running"),
    "other-host-fresh": ("elsewhere-2", 4242, 1.0, "running"),
    "other-host-never": ("elsewhere-1", 4242, None, "running"),
    "reused-pid-stale": (HOST, os.getpid(), 2 * STALE_AFTER_S, "running"),
    "dead-pid-stale": (HOST, "dead", 2 * STALE_AFTER_S, "running"),
    "dead-pid-fresh": (HOST, "dead", 1.0, "running"),
    "finished-stale": ("elsewhere-2", 4242, 10 * STALE_AFTER_S, "success"),
}
SHOWN = {
    "other-host-stale": "lost",
    "other-host-fresh": "running",
    "other-host-never": "running",
    "reused-pid-stale": "lost",
    "dead-pid-stale": "interrupted",
    "dead-pid-fresh": "interrupted",
    "finished-stale": "success",
}


def _liveness_records() -> list[dict]:
    dead = _dead_pid()
    records = []
    for n, (name, (host, pid, _age, status)) in enumerate(LIVENESS.items()):
        run = {
            "status": status,
            "started_at": f"2026-12-01T10:0{n}:00.000Z",
            "pid": dead if pid == "dead" else pid,
            "hostname": host,
            "command": ["python", "train.py", name],
        }
        sid = f"2026-12-01T10.0{n}.00.000Z"
        records.append({"session_id": sid, "git": {"branch": "main"}, "run": run})
    return records


@pytest.fixture(scope="module", params=STORE_KINDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SessionStore, dict[str, str]]]:
    """Each kind of store with varied sessions plus the LIVENESS cases; their ids by name."""
    kind, tmp_path = request.param, tmp_path_factory.mktemp(f"live-{request.param}")
    store = open_store(store_location(kind, tmp_path), read_only=False, create=True)
    store.insert_many(make_records(24))
    ids = {}
    now = time.time()
    for name, record in zip(LIVENESS, _liveness_records(), strict=True):
        if LIVENESS[name][2] is None:  # as an older writer left it: running, never a heartbeat
            store.insert({**record, "run": {**record["run"], "status": "success"}})
            store.update(record)
        else:
            store.insert(record)
        ids[name] = record["session_id"]
        age = LIVENESS[name][2]
        if age is not None:
            leave_heartbeat(store, record["session_id"], now - age)
    yield store, ids
    store.close()


def test_stale_heartbeat_shows_lost_a_dead_pid_still_wins(
    live: tuple[SessionStore, dict[str, str]],
) -> None:
    store, ids = live
    listed = {s.session_id: s.status for s in store.list_summaries(limit=None)}
    for name, sid in ids.items():
        assert listed[sid] == SHOWN[name], name
        assert store.get_summary(sid).status == SHOWN[name], name
    lost = {ids["other-host-stale"], ids["reused-pid-stale"]}
    assert {s.session_id for s in store.list_summaries(parse_query("status:lost"))} == lost
    assert store.count(parse_query("status:lost")) == 2


LIVENESS_QUERIES = ["", "status:lost", "-status:lost", "status:running", "lost", "los train"]


@pytest.mark.parametrize("text", LIVENESS_QUERIES)
@pytest.mark.parametrize("sort", ["status", "started"])
@pytest.mark.parametrize("descending", [True, False])
def test_liveness_filter_sort_and_count_match_the_reference(
    live: tuple[SessionStore, dict[str, str]], text: str, sort: str, descending: bool
) -> None:
    store, _ = live
    query = parse_query(text, sort=sort, descending=descending)
    expected = reference(store, query)
    assert store.list_summaries(query, limit=None) == expected
    assert store.count(query) == len(expected)
    assert store.list_summaries(query, offset=1, limit=3) == expected[1:4]


def test_heartbeats_and_log_appends_keep_a_run_alive(new_store: SessionStore) -> None:
    """``heartbeat`` and ``append_log`` both refresh a run's heartbeat; neither moves the change
    token (a browser must not reload its page every few seconds per run)."""
    record = _liveness_records()[0]
    sid = record["session_id"]
    before = time.time()
    new_store.insert(record)  # inserting a running record is its first heartbeat
    first = new_store.last_heartbeat(sid)
    assert first is not None and first >= before - 1
    assert new_store.get_summary(sid).status == "running"
    leave_heartbeat(new_store, sid, time.time() - 10 * STALE_AFTER_S)
    assert [s.status for s in new_store.list_summaries()] == ["lost"]
    token = new_store.change_token()
    before = time.time()
    new_store.heartbeat(sid)
    beat = new_store.last_heartbeat(sid)
    assert beat is not None and beat >= before - 1
    assert new_store.get_summary(sid).status == "running"
    leave_heartbeat(new_store, sid, time.time() - 10 * STALE_AFTER_S)
    new_store.append_log(sid, "still here\n")
    assert new_store.get_summary(sid).status == "running"
    assert [s.status for s in new_store.list_summaries()] == ["running"]
    assert new_store.change_token() == token


def test_reading_heartbeats_writes_nothing(store_kind: str, tmp_path: Path) -> None:
    spec = store_location(store_kind, tmp_path)
    record = _liveness_records()[0]
    sid = record["session_id"]
    with open_store(spec, read_only=False, create=True) as writer:
        writer.insert(record)
        leave_heartbeat(writer, sid, time.time() - 10 * STALE_AFTER_S)
        if store_kind == "memory":
            reader = writer
            writer.read_only = True
    before = _snapshot(tmp_path)
    if store_kind != "memory":
        reader = open_store(spec)
    with reader:
        assert reader.last_heartbeat(sid) is not None
        assert reader.list_summaries(parse_query("status:lost"))[0].session_id == sid
        assert reader.get_summary(sid).status == "lost"
        with pytest.raises(ReadOnlyStoreError):
            reader.heartbeat(sid)
    assert _snapshot(tmp_path) == before


def test_archive_hides_sessions_until_asked_and_unarchive_brings_them_back(
    new_store: SessionStore, store_kind: str, tmp_path: Path
) -> None:
    """``archive`` in every backend: hidden from listings and counts unless a query has an
    ``archived`` term; ``archived:yes``/``no``/``any`` (and ``-archived:yes``) as the reference
    says; all or nothing for an unknown id; a later save keeps the mark."""
    records = make_records(10)
    new_store.insert_many(records + UNREADABLE[:1])
    a, b = records[0]["session_id"], records[1]["session_id"]
    bad = UNREADABLE[0]["session_id"]
    token = new_store.change_token()
    new_store.archive([a, b, bad])
    assert new_store.change_token() != token

    def ids(text: str) -> list[str]:
        query = parse_query(text)
        found = [s.session_id for s in new_store.list_summaries(query, limit=None)]
        assert found == [s.session_id for s in reference(new_store, query)], text
        assert new_store.count(query) == len(found)
        return found

    assert set(ids("archived:yes")) == {a, b, bad}
    assert len(ids("")) == 8 and new_store.count() == 8
    assert not {a, b, bad} & set(ids(""))
    assert ids("-archived:yes") == ids("archived:no") == ids("")
    assert len(ids("archived:any")) == 11
    assert ids(f"id:{a}") == [] and ids(f"id:{a} archived:any") == [a]
    assert (
        new_store.get_summary(a).archived
        and not new_store.get_summary(records[2]["session_id"]).archived
    )
    assert new_store.get(a)["session_id"] == a  # still in the store
    new_store.update({**records[0], "username": "changed"})  # a later save keeps the mark
    assert a in ids("archived:yes")
    with pytest.raises(UnknownSessionError):
        new_store.archive([records[3]["session_id"], "2030-01-01T00.00.00.000Z"])
    assert records[3]["session_id"] not in ids("archived:yes")  # nothing was written
    new_store.archive([a], archived=False)
    assert set(ids("archived:yes")) == {b, bad} and a in ids("")
    if store_kind != "memory":  # another reader sees the marks, and cannot change them
        with open_store(store_location(store_kind, tmp_path)) as reader:
            assert {s.session_id for s in reader.list_summaries(parse_query("archived:yes"))} == {
                b,
                bad,
            }
            assert reader.count() == 9
            with pytest.raises(ReadOnlyStoreError):
                reader.archive([a])
            with pytest.raises(ReadOnlyStoreError):
                reader.delete([a])


def test_delete_removes_record_log_details_and_index_rows(
    new_store: SessionStore, store_kind: str, tmp_path: Path
) -> None:
    """``delete`` in every backend: the session is gone from every read (its log, details,
    heartbeat, parameters and metrics too), the others untouched; an unknown id deletes
    nothing; the id can be recorded again."""
    records = make_records(8)
    new_store.insert_many(records + UNREADABLE[:1])
    a, b, keep = (r["session_id"] for r in records[:3])
    bad = UNREADABLE[0]["session_id"]
    new_store.append_log(a, "gone\n")
    new_store.append_log(keep, "kept\n")
    new_store.heartbeat(a)
    new_store.set_user_details(a, title="to delete", bookmark=True)
    new_store.archive([b])
    with pytest.raises(UnknownSessionError):
        new_store.delete([a, "2030-01-01T00.00.00.000Z"])
    assert new_store.get(a)["session_id"] == a  # nothing was removed
    token = new_store.change_token()
    new_store.delete([a, b, bad])
    assert new_store.change_token() != token
    for gone in (a, b, bad):
        with pytest.raises(UnknownSessionError):
            new_store.get(gone)
        with pytest.raises(UnknownSessionError):
            new_store.get_summary(gone)
    assert new_store.read_log(a) == ""
    assert new_store.user_details(a) in ({}, {"title": None, "bookmark": False, "notes": None})
    assert new_store.last_heartbeat(a) is None
    assert new_store.existing_ids([a, b, keep]) == {keep}
    assert new_store.count(parse_query("archived:any")) == 6
    assert new_store.read_log(keep) == "kept\n"
    assert not new_store.list_summaries(parse_query("bookmark:yes archived:any"), limit=None)
    metric = records[0].get("metrics") and next(iter(records[0]["metrics"]), None)
    if metric:
        assert a not in [sid for sid, _, _ in new_store.metric_series(None, metric)]
    new_store.insert(records[0])  # the id is free again
    assert new_store.get(a)["session_id"] == a
    assert new_store.read_log(a) == ""
    if store_kind != "memory":
        with open_store(store_location(store_kind, tmp_path)) as reader:
            assert reader.count() == 7
