"""``SessionStore.metric_series``: a metric's values over the newest sessions a filter matches,
oldest first (a plot's data); SQLite's one-pass answer equals the default built from summaries, and
the metric sort walks the metric index for the same order ``Query.sort_key`` gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionlens.query import parse_query
from sessionlens.stores import open_store
from sessionlens.stores.base import SessionStore
from storetools import make_records


@pytest.fixture
def records() -> list[dict]:
    found = make_records(40)
    for n, record in enumerate(found):
        if n % 3:  # every third session has no metrics
            record["metrics"] = {"accuracy": round(0.5 + (n * 7 % 11) / 22, 3), "loss": n / 10}
    return found


def _fill(store: SessionStore, records: list[dict]) -> SessionStore:
    for record in records:
        store.insert(record)
    return store


@pytest.mark.parametrize("text", ["", "metric.accuracy>=0.7", "-metric.loss<2", "status:failed"])
def test_sqlite_series_equals_the_reference(tmp_path: Path, records: list[dict], text: str) -> None:
    with open_store("memory:", read_only=False, create=True) as memory:
        _fill(memory, records)
        expected = SessionStore.metric_series(memory, parse_query(text), "accuracy")
        with open_store(f"sqlite://{tmp_path / 's.db'}", read_only=False, create=True) as sqlite:
            _fill(sqlite, records)
            assert sqlite.metric_series(parse_query(text), "accuracy") == expected
            assert memory.metric_series(parse_query(text), "accuracy") == expected
    started = [t for _, t, _ in expected]
    known = [t for t in started if t is not None]
    # newest last; sessions whose start is unknown cannot be placed, and lead
    assert started == [None] * (len(started) - len(known)) + sorted(known)
    if not text:
        assert len(expected) == sum(1 for r in records if "metrics" in r)
    # the newest few, still oldest first: what a capped plot draws
    with open_store(f"sqlite://{tmp_path / 's.db'}") as sqlite:
        assert sqlite.metric_series(parse_query(text), "accuracy", 5) == expected[-5:]


@pytest.mark.parametrize("descending", [True, False])
def test_metric_sort_pages_follow_the_reference(
    tmp_path: Path, records: list[dict], descending: bool
) -> None:
    query = parse_query("", sort="metric.accuracy", descending=descending)
    with open_store(f"sqlite://{tmp_path / 's.db'}", read_only=False, create=True) as store:
        _fill(store, records)
        every = store.list_summaries(limit=None)
        expected = [s.session_id for s in sorted(every, key=query.sort_key, reverse=descending)]
        pages = [store.list_summaries(query, offset=o, limit=7) for o in range(0, 40, 7)]
        assert [s.session_id for page in pages for s in page] == expected
        total = store.count(query)
        last = store.list_summaries(query, offset=total - 5, limit=5)
        assert [s.session_id for s in last] == expected[-5:]
