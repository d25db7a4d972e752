"""kedro-viz 12's ``.viz/kedro_pipeline_events.json`` (real files written by kedro 1.7.0 +
kedro-viz 12.5.0): node timings for the one session the last run belongs to."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from sessionlens import pipeline_events
from sessionlens.pipeline_events import EVENTS_FILE, EventsError, events_results, parse
from sessionlens.stores import open_store
from sessionlens.tracking import TrackingSource

FIXTURES = Path(__file__).parent / "data" / "kedro" / "kedro-1.7.0-kedro-viz-12.5.0-pipeline-events"
#: the success run's pipeline started 2026-11-25T09:48:13.082169Z and ended 09:48:13.100166Z
SUCCESS_ID = "2026-11-25T09.48.13.050Z"
#: the failing run's pipeline started 09:48:15.546001Z, its last node failed at 09:48:15.561600Z
FAILURE_ID = "2026-11-25T09.48.15.500Z"


def _events(kind: str) -> Any:
    return json.loads((FIXTURES / kind / EVENTS_FILE).read_text())


def test_parse_success_run_nodes_and_durations() -> None:
    events = parse(_events("success"))
    assert [n.name for n in events.nodes] == ["make_numbers", "add_offset", "summarize"]
    assert all(n.status == "success" for n in events.nodes)
    assert events.nodes[0].duration_s == pytest.approx(0.0011904, abs=1e-6)
    assert events.started.isoformat() == "2026-11-25T09:48:13.082169+00:00"
    assert events.ended is not None and events.ended > events.started


def test_parse_failure_run_has_failing_node_with_error() -> None:
    events = parse(_events("failure"))
    assert [(n.name, n.status) for n in events.nodes] == [
        ("make_numbers", "success"),
        ("add_offset", "success"),
        ("summarize", "failed"),
    ]
    assert events.nodes[-1].error == "Intentional failure requested via params:fail"


def _project(tmp_path: Path, kind: str) -> Path:
    shutil.copytree(FIXTURES / kind, tmp_path / kind)
    return tmp_path / kind


def _store(root: Path, *records: dict[str, Any]) -> Any:
    store = open_store("memory:", read_only=False)
    store.tracking = TrackingSource(root)
    for record in records:
        store.insert(record)
    return store


def test_store_results_give_the_nodes_to_the_session_of_the_run(tmp_path: Path) -> None:
    root = _project(tmp_path, "failure")
    earlier = {"session_id": "2026-11-25T09.40.00.000Z"}
    ours = {"session_id": FAILURE_ID, "exception": {"type": "ValueError"}}
    later = {"session_id": "2026-11-25T09.50.00.000Z"}
    store = _store(root, earlier, ours, later)
    nodes = store.results(FAILURE_ID).nodes
    assert [n.status for n in nodes] == ["success", "success", "failed"]
    assert nodes[-1].error == "Intentional failure requested via params:fail"
    # the session before it fits the time bound too, but a later one started before the run
    assert store.results(earlier["session_id"]).nodes == ()
    assert store.results(later["session_id"]).nodes == ()  # started after the pipeline


def test_session_too_old_or_ended_before_the_run_gets_no_nodes(tmp_path: Path) -> None:
    root = _project(tmp_path, "success")
    events = parse(_events("success"))
    assert events_results(None, root, {"session_id": SUCCESS_ID}, SUCCESS_ID).nodes
    old = "2026-11-25T09.30.00.000Z"  # 18 minutes before the pipeline
    assert events_results(None, root, {"session_id": old}, old).nodes == ()
    ended_early = {
        "session_id": SUCCESS_ID,
        "run": {"started_at": "2026-11-25T09:48:13.050Z", "finished_at": "2026-11-25T09:48:00Z"},
    }
    assert not pipeline_events.fits(events, ended_early, SUCCESS_ID)
    assert events_results(None, root, ended_early, SUCCESS_ID).nodes == ()


def test_record_with_its_own_nodes_keeps_them(tmp_path: Path) -> None:
    root = _project(tmp_path, "success")
    own = {"session_id": SUCCESS_ID, "nodes": [{"name": "mine", "status": "success"}]}
    store = _store(root, own)
    assert [n.name for n in store.results(SUCCESS_ID).nodes] == ["mine"]


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[" * 100_000 + b"]" * 100_000,  # nesting deeper than the parser allows
        b'{"event": "before_pipeline_run"}',
        b'[{"event": "after_node_run", "node": "x"}]',  # no before_pipeline_run
        b"\xff\xfe\x00garbage",
        b"[" + b'{"event": 1},' * 10 + b"1]",
    ],
)
def test_bad_events_file_gives_one_problem_and_no_nodes(tmp_path: Path, content: bytes) -> None:
    root = tmp_path / "p"
    (root / ".viz").mkdir(parents=True)
    (root / EVENTS_FILE).write_bytes(content)
    store = _store(root, {"session_id": SUCCESS_ID})
    results = store.results(SUCCESS_ID)
    assert results.nodes == ()
    assert len(results.problems) == 1
    assert "kedro_pipeline_events.json" in results.problems[0]
    assert "\n" not in results.problems[0]


def test_huge_events_file_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline_events, "MAX_BYTES", 1000)
    root = _project(tmp_path, "success")
    with pytest.raises(EventsError, match="larger than"):
        pipeline_events.read_events(root)
    (problem,) = events_results(None, root, {"session_id": SUCCESS_ID}, SUCCESS_ID).problems
    assert "larger than" in problem


def test_events_file_that_is_a_folder_gives_a_problem(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / EVENTS_FILE).mkdir(parents=True)
    (problem,) = events_results(None, root, {"session_id": SUCCESS_ID}, SUCCESS_ID).problems
    assert "kedro_pipeline_events.json" in problem


def test_no_events_file_no_problem(tmp_path: Path) -> None:
    assert events_results(None, tmp_path, {"session_id": SUCCESS_ID}, SUCCESS_ID).empty
