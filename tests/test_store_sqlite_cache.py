"""A kedro-viz store browsed read-only: its newest sessions straight from ``runs``, its index
built apart in the user cache (never in the store), kept between opens, brought up to date
when kedro-viz adds runs, started again when the store is another file or lost rows."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from sessionlens.query import parse_query
from sessionlens.stores import open_store
from sessionlens.stores.sqlite_cache import BuildCancelled, cache_file
from sessionlens.stores.sqlite_store import DIRECT_ABOVE
from storetools import _twice, write_viz_rows

BIG = DIRECT_ABOVE + 500


def viz_rows(start: int, n: int) -> list[tuple[str, str, str]]:
    """Kedro records one second apart from ``start`` (ids in Kedro's format)."""
    rows = []
    for i in range(start, start + n):
        day, rest = divmod(i, 86_400)
        sid = f"2026-10-{1 + day:02d}T{rest // 3600:02d}.{rest // 60 % 60:02d}.{rest % 60:02d}.000Z"
        record = {
            "session_id": sid,
            "project_path": "/p",
            "username": ["ana", "bob"][i % 2],
            "git": {"commit_sha": hashlib.sha1(str(i).encode()).hexdigest()[:7], "branch": "main"},
            "cli": {"command_path": "kedro run", "params": {"params": {"n": i % 7}}},
        }
        rows.append((sid, _twice(record), "text"))
    return rows


@pytest.fixture
def viz_store(tmp_path: Path) -> Path:
    path = tmp_path / "session_store.db"
    write_viz_rows(path, viz_rows(0, BIG))
    return path


def indexed_rows(store: Path) -> int:
    conn = sqlite3.connect(cache_file(store))
    try:
        return conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
    finally:
        conn.close()


def test_newest_sessions_come_from_runs_before_any_index(viz_store: Path) -> None:
    before = viz_store.read_bytes()
    with open_store(viz_store, read_only=True) as store:
        assert store.needs_index()
        first = store.list_summaries(limit=50)
        last = store.list_summaries(offset=BIG - 30, limit=50)  # read from the other end
        assert store.count() == BIG
        one = store.get_summary(first[3].session_id)
        assert indexed_rows(viz_store) == 0 and store.needs_index()  # nothing was built
        store.build_index()
        assert not store.needs_index()
        assert store.list_summaries(limit=50) == first  # the index agrees, row for row
        assert store.list_summaries(offset=BIG - 30, limit=50) == last
        assert store.get_summary(one.session_id) == one
    assert len(last) == 30 and last[-1].session_id == viz_rows(0, 1)[0][0]
    assert viz_store.read_bytes() == before
    assert sorted(p.name for p in viz_store.parent.iterdir()) == ["session_store.db"]


def test_a_filter_builds_the_index_once_and_later_opens_reuse_it(viz_store: Path) -> None:
    query = parse_query("user:bob")
    with open_store(viz_store, read_only=True) as store:
        assert store.count(query) == BIG // 2
    assert indexed_rows(viz_store) == BIG
    with open_store(viz_store, read_only=True) as store:
        assert not store.needs_index()
        assert store.count(query) == BIG // 2


def test_runs_kedro_viz_adds_are_indexed_alone(viz_store: Path) -> None:
    with open_store(viz_store, read_only=True) as store:
        store.build_index()
    write_viz_rows(viz_store, viz_rows(BIG, 3))
    seen: list[tuple[int, int]] = []
    with open_store(viz_store, read_only=True) as store:
        assert store.needs_index()
        store.build_index(lambda done, total: seen.append((done, total)))
        assert seen[-1] == (3, 3)  # the new rows, not the whole store again
        assert store.count(parse_query("user:ana")) == (BIG + 3 + 1) // 2
        newest = store.list_summaries(limit=1)[0]
    assert newest.session_id == viz_rows(BIG + 2, 1)[0][0]


def test_a_new_row_while_browsing_is_listed_and_filtered(viz_store: Path) -> None:
    with open_store(viz_store, read_only=True) as store:
        store.build_index()
        write_viz_rows(viz_store, viz_rows(BIG, 1))
        assert store.list_summaries(limit=1)[0].session_id == viz_rows(BIG, 1)[0][0]
        assert store.count() == BIG + 1
        assert store.count(parse_query("user:ana")) == BIG // 2 + 1


def test_another_file_or_removed_rows_start_the_index_again(viz_store: Path) -> None:
    with open_store(viz_store, read_only=True) as store:
        store.build_index()
    replacement = viz_store.with_name("other.db")
    write_viz_rows(replacement, viz_rows(10_000, BIG))
    replacement.replace(viz_store)  # same path, another file
    with open_store(viz_store, read_only=True) as store:
        assert store.count(parse_query("user:ana")) == BIG // 2
        ids = {s.session_id for s in store.list_summaries(parse_query("user:ana"), limit=None)}
    assert ids == {sid for sid, _, _ in viz_rows(10_000, BIG)[::2]}

    with sqlite3.connect(viz_store) as conn:  # a row removed below the last one indexed
        conn.execute("DELETE FROM runs WHERE rowid = 5")
    conn.close()
    with open_store(viz_store, read_only=True) as store:
        store.build_index()
        assert store.count(parse_query("user:ana")) + store.count(parse_query("user:bob")) == (
            BIG - 1
        )


def test_a_damaged_index_file_is_built_again(viz_store: Path) -> None:
    with open_store(viz_store, read_only=True) as store:
        store.build_index()
    cache_file(viz_store).write_bytes(b"not a database at all" * 100)
    with open_store(viz_store, read_only=True) as store:
        assert store.count(parse_query("user:bob")) == BIG // 2


def test_close_stops_a_build_at_once(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    write_viz_rows(path, viz_rows(0, 40_000))
    store = open_store(path, read_only=True)
    failure: list[BaseException] = []

    def build() -> None:
        try:
            store.build_index()
        except BaseException as exc:  # the test looks at it
            failure.append(exc)

    worker = threading.Thread(target=build)
    worker.start()
    time.sleep(0.3)
    began = time.monotonic()
    store.close()
    worker.join(10)
    assert not worker.is_alive() and time.monotonic() - began < 2
    assert failure and isinstance(failure[0], BuildCancelled)
    with open_store(path, read_only=True) as again:  # what was committed is kept, and finished
        again.build_index()
        assert again.count(parse_query("user:ana")) == 20_000


def test_a_big_build_shared_among_processes_indexes_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above PARALLEL_ABOVE rows, worker processes index ranges of rowids: the cache holds the
    same rows as a build in one process, and says it is complete only at the end."""
    from sessionlens.stores import sqlite_cache

    one, shared = tmp_path / "one.db", tmp_path / "shared.db"
    for path in (one, shared):
        write_viz_rows(path, viz_rows(0, BIG))
    with open_store(one, read_only=True) as store:
        store.build_index()
    monkeypatch.setattr(sqlite_cache, "PARALLEL_ABOVE", 500)
    monkeypatch.setattr(sqlite_cache, "MAX_WORKERS", 3)
    monkeypatch.setattr(sqlite_cache.os, "cpu_count", lambda: 3)
    seen: list[int] = []
    with open_store(shared, read_only=True) as store:
        store.build_index(lambda done, total: seen.append(done))
        assert not store.needs_index()
        assert store.count(parse_query("user:ana")) == BIG // 2
    assert seen[-1] == BIG

    def rows(store: Path) -> list[tuple]:
        conn = sqlite3.connect(cache_file(store))
        try:
            return conn.execute("SELECT * FROM sessions ORDER BY session_id").fetchall() + (
                conn.execute("SELECT * FROM params ORDER BY session_id, name").fetchall()
            )
        finally:
            conn.close()

    assert rows(one) == rows(shared)


def test_the_app_lists_at_once_indexes_in_the_background_and_filters(viz_store: Path) -> None:
    """The app on a kedro-viz store never indexed: the newest rows first, the index built by a
    worker (the header says so meanwhile), a filter typed at once answered when it is ready."""
    import asyncio

    from sessionlens.tui.app import SessionLensApp
    from sessionlens.tui.widgets.store_header import StoreHeader
    from tui_support import loaded, wait_for, widget_text

    store = open_store(viz_store, read_only=True)

    async def drive() -> None:
        app = SessionLensApp(store, poll_interval=3600)
        async with app.run_test(size=(160, 40)) as pilot:
            await loaded(pilot)
            table = app.screen.table
            assert table.pages.row(0).session_id == viz_rows(BIG - 1, 1)[0][0]
            app.screen.set_filter("user:bob")
            await wait_for(pilot, lambda: not store.needs_index(), 60, "the index")
            await wait_for(pilot, lambda: table.count == BIG // 2, 30, "the filter's rows")
            header = widget_text(app.screen.query_one(StoreHeader))
            assert f"{BIG // 2:,} of {BIG:,} sessions" in header and "index" not in header

    try:
        asyncio.run(drive())
    finally:
        store.close()
    assert indexed_rows(viz_store) == BIG


def test_the_cache_has_every_index_the_store_itself_would(viz_store: Path) -> None:
    """Sorts and filters (``since``/``until`` included) read the cache through the same
    indexes as sessionlens's own tables: one list makes both."""
    from sessionlens.stores.sqlite_index import secondary_indexes

    with open_store(viz_store, read_only=True) as store:
        store.build_index()
    conn = sqlite3.connect(cache_file(viz_store))
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    finally:
        conn.close()
    wanted = {name for name, _ in secondary_indexes("main", "sessions", "params", "metrics")}
    assert "ix_sessions_started_ts" in wanted and wanted <= names
