"""``sessionlens.tui.page_cache``: the session table's pages of rows and its window arithmetic,
without an app (the module imports no Textual, and no Rich)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

from sessionlens.query import parse_query
from sessionlens.record import SessionSummary, new_session_id
from sessionlens.stores.memory import MemoryStore
from sessionlens.tui.page_cache import (
    MAX_SHIFT,
    PageCache,
    index_of,
    reload_cursor,
    reload_window,
    rows_added,
    visible_pages,
)

START = datetime(2026, 11, 1, 8, 0, 0, tzinfo=timezone.utc)


def _summary(i: int) -> SessionSummary:
    return SessionSummary(session_id=f"s{i:05d}", status="success")


def _page(first: int, size: int = 10) -> list[SessionSummary]:
    return [_summary(i) for i in range(first, first + size)]


def test_page_cache_keeps_few_pages_and_finds_rows() -> None:
    cache = PageCache(page_size=10, max_pages=3)
    cache.put_rows(0, [_summary(i) for i in range(25)])
    assert len(cache) == 3 and cache.row(24).session_id == "s00024"
    assert cache.row(25) is None and cache.row(30) is None
    cache.put(7, [_summary(i) for i in range(70, 80)], keep=range(0, 1))
    assert 7 in cache and 0 in cache and len(cache) == 3
    assert cache.find("s00075") == 75 and cache.find("nope") is None


def test_reading_a_row_saves_its_page_from_being_dropped_next() -> None:
    cache = PageCache(page_size=10, max_pages=3)
    for page in (0, 1, 2):
        cache.put(page, _page(page * 10))
    assert cache.row(3).session_id == "s00003"  # page 0 is now the most recently used
    cache.put(3, _page(30))
    assert 0 in cache and 1 not in cache and 2 in cache and 3 in cache
    cache.put(4, _page(40))
    assert 2 not in cache and 0 in cache and len(cache) == 3


def test_pages_on_screen_are_kept_even_beyond_the_limit() -> None:
    cache = PageCache(page_size=10, max_pages=2)
    for page in (0, 1, 2, 3):
        cache.put(page, _page(page * 10), keep=range(0, 4))
    assert [p in cache for p in range(4)] == [True] * 4
    cache.put(9, _page(90), keep=range(2, 4))
    # beyond the limit, pages off screen go first, even the one just put
    assert [p for p in range(10) if p in cache] == [2, 3]


def test_rows_are_stored_as_whole_pages_and_an_empty_fetch_is_remembered() -> None:
    cache = PageCache(page_size=10, max_pages=10)
    cache.put_rows(20, _page(20, 13))
    assert 2 in cache and 3 in cache and 1 not in cache
    assert cache.row(32).session_id == "s00032" and cache.row(33) is None
    assert cache.page_of(33) == 3 and cache.page_of(40) == 4
    cache.put_rows(50, [])  # past the end: an empty page, not a page to fetch again
    assert 5 in cache and cache.row(50) is None
    cache.clear()
    assert len(cache) == 0 and cache.row(20) is None


def test_visible_pages_cover_the_screen_and_a_page_either_side() -> None:
    assert visible_pages(0, 31) == range(0, 2)
    assert visible_pages(250, 31) == range(1, 4)
    assert visible_pages(290, 31) == range(1, 5)  # the screen spans pages 2 and 3
    assert visible_pages(95, 10, page_size=10) == range(8, 12)


def test_rows_added_is_bounded() -> None:
    assert rows_added(1000, 1000) == 0
    assert rows_added(990, 1000) == 0  # sessions deleted: the cursor did not move down
    assert rows_added(1030, 1000) == 30
    assert rows_added(10**6, 0) == MAX_SHIFT


def test_reload_window_spans_the_old_cursor_to_where_it_can_be_now() -> None:
    assert reload_window(0, 0) == (0, 200)
    assert reload_window(250, 0) == (100, 300)  # pages 1-3 around the cursor's page 2
    assert reload_window(250, 500) == (100, 800)  # ... down to page 8, after 500 new rows
    offset, limit = reload_window(37, 12, page_size=10)
    assert (offset, limit) == (20, 40) and offset % 10 == 0


def test_reload_cursor_follows_the_selected_session() -> None:
    rows = _page(100, 30)
    assert index_of(rows, "s00105") == 5
    assert index_of(rows, "gone") is None and index_of(rows, None) is None
    assert reload_cursor(rows, 100, "s00105", 103, 1000) == 105
    assert reload_cursor(rows, 100, "gone", 103, 1000) == 103  # the same row number
    assert reload_cursor(rows, 100, "gone", 103, 50) == 49  # ... within the rows left
    assert reload_cursor([], 0, "gone", 3, 0) == 0
    assert reload_cursor(rows, 100, None, 103, 1000) == 0


def test_a_reload_finds_the_selected_session_after_new_ones_arrive() -> None:
    """What the table does when the store changed, against a real store's pages."""

    def record(i: int) -> dict:
        started = (START + timedelta(minutes=i)).isoformat(timespec="milliseconds")
        return {
            "session_id": new_session_id(START + timedelta(minutes=i)),
            "run": {"status": "success", "started_at": started.replace("+00:00", "Z")},
        }

    store = MemoryStore()
    store.insert_many([record(i) for i in range(1000)])
    query = parse_query("")
    cache = PageCache()
    anchor = 250  # the cursor row, newest first
    offset, limit = reload_window(anchor, 0)
    cache.put_rows(offset, store.list_summaries(query, offset=offset, limit=limit))
    selected = cache.row(anchor)
    assert selected is not None

    old_count = store.count(query)
    store.insert_many([record(i) for i in range(1000, 1030)])  # 30 newer sessions
    count = store.count(query)
    offset, limit = reload_window(anchor, rows_added(count, old_count))
    rows = store.list_summaries(query, offset=offset, limit=limit)
    cursor = reload_cursor(rows, offset, selected.session_id, anchor, count)
    assert cursor == anchor + 30
    cache.clear()
    cache.put_rows(offset, rows)
    assert cache.row(cursor) == selected
    assert cache.find(selected.session_id) == cursor


def test_the_page_cache_imports_neither_textual_nor_rich() -> None:
    code = (
        "import sys, sessionlens.tui.page_cache\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
