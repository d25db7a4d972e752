"""The app on a PostgreSQL store: a session another machine writes appears within a second
(LISTEN/NOTIFY moves the change token; the app's poll of it asks the server nothing)."""

from __future__ import annotations

import time

import pytest

from sessionlens.stores import open_store
from tui_support import SIZE, app_test, loaded, make_app, make_record, sid, wait_for

pytest.importorskip("textual")


@app_test
async def test_a_session_written_elsewhere_appears_within_a_second(pg_database: str) -> None:
    writer = open_store(pg_database, read_only=False)
    try:
        writer.insert_many([make_record(i) for i in range(5)])
        app = make_app(open_store(pg_database), poll_interval=0.25)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot)
            table = app.screen.table
            assert table.count == 5
            assert "***" not in app.store.describe() and "postgresql" in app.store.describe()
            started = time.monotonic()
            writer.insert(make_record(5))  # another connection: another machine, in spirit
            await wait_for(pilot, lambda: table.count == 6, timeout=5, what="the new session")
            seen_after = time.monotonic() - started
            assert table.selected is not None
            assert seen_after < 1.5, seen_after  # NOTIFY + one poll of 0.25 s
            assert sid(5) in [s.session_id for s in app.store.list_summaries(limit=1)]
    finally:
        writer.close()
