"""Heartbeats of runs without a reader loop: a callable run in-process, a beating thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sessionlens.heartbeat import HeartbeatThread
from sessionlens.session import Session
from sessionlens.stores import open_store
from sessiontools import make_repo


def test_the_thread_beats_at_once_then_on_time_and_stops_for_good() -> None:
    beats: list[float] = []
    thread = HeartbeatThread(lambda: beats.append(time.monotonic()), every=0.05).start()
    deadline = time.monotonic() + 10
    while len(beats) < 4:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    thread.stop()
    count = len(beats)
    time.sleep(0.2)
    assert len(beats) == count
    assert not [t for t in threading.enumerate() if t.name == "sessionlens-heartbeat"]


def test_a_failing_beat_is_skipped_not_raised() -> None:
    calls: list[int] = []

    def beat() -> None:
        calls.append(1)
        raise OSError("disk full")

    thread = HeartbeatThread(beat, every=0.01).start()
    deadline = time.monotonic() + 10
    while len(calls) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    thread.stop()


def test_a_callable_run_beats_while_it_runs(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "p")
    store = open_store(f"sqlite://{tmp_path / 's.db'}", read_only=False, create=True)
    seen: list[float | None] = []

    def job() -> str:
        deadline = time.monotonic() + 10
        while store.last_heartbeat(session.session_id) is None:  # the first beat is at once
            assert time.monotonic() < deadline, "no heartbeat while the callable ran"
            time.sleep(0.01)
        seen.append(store.last_heartbeat(session.session_id))
        return "done"

    with Session.create(repo, store) as session:
        assert session.run(job) == "done"
    assert seen and seen[0] is not None
    assert store.get_summary(session.session_id).status == "success"
    store.close()
