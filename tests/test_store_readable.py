"""``stores.readable``: which records can be shown, and what the store API does with the rest.

Hostile kedro-viz rows are written with ``sqlite3`` directly (bytes and all); records that every
backend can hold are saved through the API, so memory, shelve and SQLite are held to the same
answer: the bad record is listed ``unreadable`` with its reason, ``get`` raises
``UnreadableSessionError``, and the others list, filter and read exactly as without it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from conftest import SHELVE_FIXTURE, SQLITE_FIXTURE
from sessionlens.errors import StoreError, UnreadableSessionError
from sessionlens.query import parse_query
from sessionlens.record import SessionSummary
from sessionlens.stores import SessionStore, open_store
from sessionlens.stores.readable import MAX_DEPTH, RecordProblem, load_record, nesting_depth
from sessionlens.stores.sqlite_index import SCHEMA_VERSION
from storetools import HOSTILE_BLOBS, good_viz_record, hostile_sqlite_store, make_records


def problem(raw: Any) -> str:
    with pytest.raises(RecordProblem) as info:
        load_record(raw, "blob")
    assert "\n" not in str(info.value)
    return str(info.value)


# -- the decision ---------------------------------------------------------------------------
def test_each_kind_of_unreadable_blob_has_its_reason() -> None:
    reasons = {label: problem(raw) for label, (_, raw, _) in HOSTILE_BLOBS.items()}
    assert reasons["not-json"].startswith("blob is not JSON (")
    assert reasons["invalid-utf8-text"].startswith("blob is not valid UTF-8 (byte 0xff")
    assert reasons["invalid-utf8-blob"].startswith("blob is not valid UTF-8")
    assert reasons["wrong-types"] == "run.started_at is a number (1700000000), not text"
    assert reasons["deep-50k"] == f"blob nests 50,000 levels deep (at most {MAX_DEPTH} are read)"
    assert reasons["deep-50k-twice"] == reasons["deep-50k"]
    assert reasons["not-an-object"] == "blob is a list, not a JSON object"
    assert reasons["null"] == "blob is empty (NULL)"
    assert reasons["huge-exit-code"].startswith("run.exit_code is a number (")


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"git": "main"}, 'git is text ("main"), not an object'),
        ({"git": {"dirty": "yes"}}, 'git.dirty is text ("yes"), not true or false'),
        ({"run": {"duration_s": float("inf")}}, "run.duration_s is a number (inf), not a finite"),
        ({"run": {"duration_s": 10**400}}, "run.duration_s is a number ("),
        ({"run": {"pid": 1 << 40}}, "run.pid is a number (1099511627776), not a process id"),
        ({"run": {"exit_code": True}}, "run.exit_code is a boolean (true), not a 64-bit"),
        ({"run": {"command": "python x.py"}}, 'run.command is text ("python x.py"), not a list'),
        ({"username": ["a"]}, "username is a list, not text"),
        ({"session_id": 5}, "session_id is a number (5), not text"),
    ],
)
def test_keys_the_views_read_must_have_their_type(record: dict[str, Any], reason: str) -> None:
    assert problem(json.dumps(json.dumps(record))).startswith(reason)


def test_nesting_is_measured_without_parsing() -> None:
    """Exact past MAX_DEPTH brackets, escapes inside strings included."""
    assert nesting_depth('{"a": [1, {"b": []}]}') <= 4  # few brackets: their count bounds it
    text = '{"s": "' + "[" * 500 + '", "t": [[1]]}'  # brackets inside strings do not count
    assert nesting_depth(text) == 3
    assert nesting_depth('["\\", ""[[[[", ' + "[" * 200 + "]" * 200 + "]") == 201
    assert nesting_depth("[" * 5000 + "]" * 5000) == 5000
    deepest = {"a": json.loads("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))}
    assert load_record(json.dumps(deepest)) == deepest  # MAX_DEPTH levels are read


def test_lone_surrogates_are_repaired_not_refused() -> None:
    record = load_record(json.dumps(json.dumps({"username": "a\ud800b", "x": {"\udfff": 1}})))
    assert record == {"username": "a\ufffdb", "x": {"\ufffd": 1}}
    assert load_record(json.dumps({"e": "\U0001f600"})) == {"e": "\U0001f600"}  # a real pair


@pytest.mark.parametrize("fixture", [SHELVE_FIXTURE, SQLITE_FIXTURE])
def test_every_real_kedro_record_is_readable(kedro_data: Path, fixture: str) -> None:
    with open_store(kedro_data / fixture) as store:
        rows = store.list_summaries(limit=None)
        assert len(rows) == 8
        assert all(s.status != "unreadable" and s.problem is None for s in rows)
        for s in rows:
            store.get(s.session_id)


# -- every backend ----------------------------------------------------------------------------
BAD_RECORDS = {  # saved through the API: every backend keeps them and reads them as unreadable
    "started-a-number": {"run": {"status": "success", "started_at": 1700000000}},
    "git-a-list": {"git": ["main"]},
    "too-deep": {"environment": json.loads("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5))},
}


def test_an_unreadable_record_never_hides_the_others(new_store: SessionStore) -> None:
    good = make_records(12)
    new_store.insert_many(good)
    expected = new_store.list_summaries(limit=None)
    bad_ids = {}
    for n, (label, fields) in enumerate(BAD_RECORDS.items()):
        session_id = f"2026-12-0{n + 1}T00.00.00.000Z"
        new_store.insert({"session_id": session_id, **fields})
        bad_ids[label] = session_id
    listed = new_store.list_summaries(limit=None)
    assert [s for s in listed if s.status != "unreadable"] == expected
    unreadable = {s.session_id: s for s in listed if s.status == "unreadable"}
    assert set(unreadable) == set(bad_ids.values())
    assert new_store.count() == len(good) + len(bad_ids)
    assert new_store.count(parse_query("status:unreadable")) == len(bad_ids)
    assert new_store.list_summaries(parse_query("-status:unreadable"), limit=None) == expected
    for label, session_id in bad_ids.items():
        row = unreadable[session_id]
        assert row == SessionSummary.unreadable(session_id, row.problem)
        assert row.started_at == f"2026-12-0{list(bad_ids).index(label) + 1}T00:00:00.000Z"
        with pytest.raises(UnreadableSessionError) as info:
            new_store.get(session_id)
        assert info.value.problem == row.problem and session_id in str(info.value)
        assert new_store.get_summary(session_id) == row
    started = unreadable[bad_ids["started-a-number"]].problem
    assert "run.started_at is a number (1700000000), not text" in started
    assert f"deeper than {MAX_DEPTH}" in unreadable[bad_ids["too-deep"]].problem or (
        f"(at most {MAX_DEPTH} are read)" in unreadable[bad_ids["too-deep"]].problem
    )


def test_a_record_that_has_no_json_is_not_saved(new_store: SessionStore) -> None:
    looped: dict[str, Any] = {"session_id": "2026-12-01T00.00.00.000Z"}
    looped["me"] = looped
    with pytest.raises(StoreError) as info:
        new_store.insert(looped)
    assert "cannot save" in str(info.value) and "\n" not in str(info.value)
    assert new_store.count() == 0


# -- SQLite rows written by others ----------------------------------------------------------
@pytest.mark.torture
@pytest.mark.parametrize("read_only", [True, False])
def test_hostile_kedro_viz_rows(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "session_store.db"
    good, bad = hostile_sqlite_store(path)
    with open_store(path, read_only=read_only) as store:  # read-only: the TEMP index
        listed = {s.session_id: s for s in store.list_summaries(limit=None)}
        assert set(listed) == set(good) | set(bad.values())
        for label, session_id in bad.items():
            assert listed[session_id].status == "unreadable", label
            with pytest.raises(UnreadableSessionError):
                store.get(session_id)
        assert listed[bad["not-json"]].title == "bad but titled"  # kedro-viz's details kept
        first = listed[good[0]]
        assert (first.title, first.bookmark, first.notes) == (
            "title \ufffd\ufffd here",
            True,
            "fine",
        )
        assert store.user_details(good[0])["title"] == "title \ufffd\ufffd here"
        assert store.get(good[1]) == good_viz_record(1)
        assert store.count(parse_query("title:*here")) == 1  # a glob: anywhere in the title
        assert store.count(parse_query("title:'title \ufffd'")) == 1  # a prefix
        by_title = store.list_summaries(parse_query("", sort="title", descending=False))
        assert [s.session_id for s in by_title[:2]] == [bad["not-json"], good[0]]
        assert [s.session_id for s in store.list_summaries(parse_query("param.n:2"))] == [good[2]]


def test_a_row_whose_id_is_not_utf8_is_listed_and_explained(tmp_path: Path) -> None:
    path = tmp_path / "session_store.db"
    hostile_sqlite_store(path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO runs VALUES (CAST(? AS TEXT), '\"{}\"')", (b"2026-\xff-id",))
    conn.close()
    with open_store(path) as store:
        [row] = store.list_summaries(parse_query("id:2026-\ufffd"))
        assert (row.status, row.problem) == ("unreadable", "its id is not valid UTF-8")
        with pytest.raises(UnreadableSessionError):
            store.get(row.session_id)


def _as_schema_2(path: Path) -> None:
    """Turn a store into what sessionlens wrote before schema 3: no problem column."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("ALTER TABLE sessionlens_sessions DROP COLUMN problem")
        conn.execute("UPDATE sessionlens_meta SET value = '2' WHERE key = 'schema_version'")
    conn.close()


def test_a_store_of_schema_2_is_read_and_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "session_store.db"
    with open_store(path, read_only=False, create=True) as store:
        store.insert_many(make_records(8))
    _, bad = hostile_sqlite_store(path)  # kedro-viz adds rows, good and bad
    with open_store(path, read_only=False) as store:
        expected = store.list_summaries(limit=None)
    assert sum(s.status == "unreadable" for s in expected) == len(bad)
    _as_schema_2(path)
    before = path.read_bytes()
    with open_store(path) as store:  # read-only: the old index is ignored, TEMP is built
        assert store.list_summaries(limit=None) == expected
    assert path.read_bytes() == before
    with open_store(path, read_only=False) as store:  # read-write: rebuilt in the file
        assert store.list_summaries(limit=None) == expected
    conn = sqlite3.connect(path)
    version = conn.execute("SELECT value FROM sessionlens_meta WHERE key = 'schema_version'")
    assert version.fetchone()[0] == str(SCHEMA_VERSION) == "5"
    conn.close()
    with open_store(path) as store:
        assert store.list_summaries(limit=None) == expected
