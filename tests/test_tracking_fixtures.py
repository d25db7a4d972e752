"""Kedro experiment tracking read from real tool output (``tests/data/kedro-tracking``: kedro
0.19.15 + kedro-viz 10.2.0) and from projects of other shapes built here: the catalog's many
spellings, layouts and environments, and the kedro 0.18.14 layout (store in ``data/``, a dataset
stored under another file name). Results are checked against ``expected.json``, and browsing
must not change a byte of the project."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from sessionlens.query import parse_query
from sessionlens.stores import SessionStore, open_store
from sessiontools import cli, cli_json
from trackingtools import (
    REGRESSION_SCORES,
    fit_info,
    regression_project,
    viz_record,
    write_file,
    write_store,
    write_tracking,
)

TRACKING = Path(__file__).parent / "data" / "kedro-tracking"
FIXTURE = "kedro-0.19.15-kedro-viz-10.2.0-tracking"
EXPECTED: dict[str, Any] = json.loads((TRACKING / FIXTURE / "expected.json").read_text())
SESSIONS = {s["session_id"]: s for s in EXPECTED["sessions"]}


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A writable copy of the fixture project (so a write would show, not fail)."""
    target = tmp_path / FIXTURE
    shutil.copytree(TRACKING / FIXTURE, target)
    return target


def _ids(store: SessionStore, text: str, sort: str = "started", descending: bool = True) -> list:
    query = parse_query(text, sort=sort, descending=descending)
    return [s.session_id for s in store.list_summaries(query, limit=None)]


def test_the_fixture_is_complete_in_the_repository() -> None:
    """A fresh clone has the store and every tracking file (no .gitignore dropped them)."""
    root = TRACKING / FIXTURE
    assert (root / ".viz" / "session_store.db").is_file()
    assert (root / "gitignore.orig").is_file() and not (root / ".gitignore").exists()
    files = {f for s in EXPECTED["sessions"] for f in s["files_written_under_data"]}
    assert files and all((root / f).is_file() for f in files)


def test_every_session_has_exactly_its_tracking_data(project: Path) -> None:
    with open_store(str(project)) as store:
        assert store.read_only
        assert store.count() == len(SESSIONS)
        for sid, expected in SESSIONS.items():
            results = store.results(sid)
            metrics = expected["tracking_data"]["metrics"] or {}
            assert results.metrics == metrics, sid
            assert all(type(v) is float for v in results.metrics.values())
            run_info = expected["tracking_data"]["run_info"]
            assert results.data == ({} if run_info is None else {"run_info": run_info}), sid
            assert "model" not in results.data and "model" not in results.metrics
            assert results.problems == ()
        assert store.metric_names() == ["accuracy", "epochs", "loss"]


def test_failed_and_partial_runs(project: Path) -> None:
    failed = next(s for s in EXPECTED["sessions"] if not s["success"])
    partial = EXPECTED["sessions"][-1]
    with open_store(str(project)) as store:
        results = store.results(failed["session_id"])
        assert results.metrics == {"accuracy": 0.6, "loss": 0.5, "epochs": 10.0}
        assert "run_info" not in results.data
        assert store.get_summary(failed["session_id"]).status == "failed"
        assert store.results(partial["session_id"]).empty


def test_listing_shows_metrics_filters_and_sorts(project: Path) -> None:
    with open_store(str(project)) as store:
        listed = {s.session_id: s.metrics for s in store.list_summaries(limit=None)}
        assert listed == {sid: s["tracking_data"]["metrics"] for sid, s in SESSIONS.items()}
        expected = sorted(
            (
                sid
                for sid, s in SESSIONS.items()
                if (s["tracking_data"]["metrics"] or {}).get("accuracy", 0) >= 0.6
            ),
            reverse=True,
        )
        assert _ids(store, "metric.accuracy>=0.6") == expected
        assert len(expected) == 3
        with_loss = [s for s in SESSIONS.values() if s["tracking_data"]["metrics"]]
        by_loss = sorted(
            with_loss, key=lambda s: (s["tracking_data"]["metrics"]["loss"], s["session_id"])
        )
        no_loss = [sid for sid, s in SESSIONS.items() if not s["tracking_data"]["metrics"]]
        ascending = [s["session_id"] for s in by_loss] + no_loss
        assert _ids(store, "", "metric.loss", descending=False) == ascending


def test_browsing_writes_nothing(project: Path) -> None:
    before = _snapshot(project)
    with open_store(str(project)) as store:
        for sid in SESSIONS:
            store.results(sid)
        _ids(store, "metric.accuracy>=0.6", "metric.loss")
        store.metric_names()
    for args in (
        ("list", "--filter", "metric.accuracy>=0.6"),
        ("list", "--sort", "metric.loss", "--columns", "id,metric.loss"),
        ("show", "2026-12-01T21.41.32"),
        ("diff", "2026-12-01T21.41.32", "2026-12-01T21.41.44"),
    ):
        assert cli(*args, cwd=project).returncode == 0
    assert _snapshot(project) == before


def test_cli_on_the_fixture(project: Path) -> None:
    listed = cli_json(
        "list", "--filter", "metric.accuracy>=0.6", "--sort", "metric.loss", "--asc", cwd=project
    )
    assert [s["session_id"] for s in listed] == [
        "2026-12-01T21.41.44.527Z",
        "2026-12-01T21.41.40.189Z",  # a tie on loss: by id, in the same direction
        "2026-12-01T21.41.45.928Z",
    ]
    assert listed[0]["metrics"] == {"accuracy": 0.8, "epochs": 10.0, "loss": 0.25}
    shown = cli_json("show", "2026-12-01T21.41.32", cwd=project)
    assert (
        shown["results"]["metrics"]
        == SESSIONS["2026-12-01T21.41.32.411Z"]["tracking_data"]["metrics"]
    )
    assert shown["results"]["data"]["run_info"]["tags"] == ["demo", "train"]


# -- projects of other shapes -------------------------------------------------------------------
def test_a_kedro_0_18_project_with_its_store_in_data(tmp_path: Path) -> None:
    root = regression_project(tmp_path / "regression-demo")
    before = _snapshot(root)
    with open_store(str(root)) as store:
        assert Path(store.location) == root / "data" / "session_store.db"
        listed = {s.session_id: s.metrics for s in store.list_summaries(limit=None)}
        assert listed == REGRESSION_SCORES
        for sid, scores in REGRESSION_SCORES.items():
            results = store.results(sid)
            assert results.metrics == (scores or {})
            assert results.data == ({} if scores is None else {"fit_info": fit_info(sid)})
            assert results.problems == ()
        assert _ids(store, "metric.r2>0.9") == [
            "2026-12-01T21.43.54.111Z",
            "2026-12-01T21.43.49.817Z",
            "2026-12-01T21.43.46.356Z",
        ]
        assert _ids(store, "", "metric.mae", descending=False)[:2] == [
            "2026-12-01T21.43.49.817Z",
            "2026-12-01T21.43.54.111Z",
        ]
        assert store.metric_names() == ["mae", "r2", "rmse"]
    assert _snapshot(root) == before


SID_BASE = "2026-11-20T10.00.00.000Z"
SID_PROD = "2026-11-20T10.05.00.000Z"


def _variety_project(root: Path) -> Path:
    write_file(
        root,
        "conf/base/catalog.yml",
        """\
_csv: &csv
  type: pandas.CSVDataset

metrics:
  type: tracking.MetricsDataSet
  filepath: data/09_tracking/metrics.json

run_info:
  type: kedro.extras.datasets.tracking.JSONDataSet
  filepath: data/09_tracking/run_info.json

templated:
  type: tracking.MetricsDataset
  filepath: ${globals:tracking_folder}/templated.json

"{name}_metrics":
  type: tracking.MetricsDataset
  filepath: data/09_tracking/{name}.json

model:
  type: json.JSONDataset
  filepath: data/06_models/model.json
  versioned: true
""",
    )
    write_file(
        root,
        "conf/base/catalog/sub/x.yml",
        "broken:\n  type: tracking.MetricsDataset\n  filepath: data/09_tracking/broken.json\n",
    )
    write_file(
        root,
        "conf/local/catalog_extra.yml",
        "eval_scores:\n  type: kedro_datasets.tracking.MetricsDataset\n"
        "  filepath: data/09_tracking/eval.json\n",
    )
    write_file(
        root,
        "conf/prod/catalog.yml",
        "prod_scores:\n  type: kedro_datasets.tracking.MetricsDataset\n"
        "  filepath: data/09_tracking/prod.json\n",
    )
    for sid in (SID_BASE, SID_PROD):
        write_tracking(root, "data/09_tracking/metrics.json", sid, {"accuracy": 0.9, "f1": 0.8})
        write_tracking(root, "data/09_tracking/broken.json", sid, "{not json")
        write_tracking(root, "data/06_models/model.json", sid, {"weights": [1, 2]})
    write_tracking(root, "data/09_tracking/run_info.json", SID_BASE, {"a": {"b": [1, None]}})
    write_tracking(root, "data/09_tracking/eval.json", SID_BASE, {"accuracy": 0.7, "auc": 0.95})
    write_tracking(root, "data/09_tracking/prod.json", SID_PROD, {"latency": 12.5})
    write_store(
        root / ".viz" / "session_store.db",
        [viz_record(SID_BASE), viz_record(SID_PROD, env="prod")],
    )
    return root


def test_catalog_variety_and_problems(tmp_path: Path) -> None:
    root = _variety_project(tmp_path / "variety")
    with open_store(str(root)) as store:
        results = store.results(SID_BASE)
        assert results.metrics == {
            "metrics.accuracy": 0.9,
            "f1": 0.8,
            "eval_scores.accuracy": 0.7,
            "auc": 0.95,
        }
        assert results.data == {"run_info": {"a": {"b": [1, None]}}}
        problems = results.problems
        assert len(problems) == 3, problems
        assert sum("templat" in p and "templated" in p for p in problems) == 1
        assert sum("factory" in p and "{name}_metrics" in p for p in problems) == 1
        assert sum("broken.json" in p and "not JSON" in p for p in problems) == 1
        listed = {s.session_id: s.metrics for s in store.list_summaries(limit=None)}
        assert listed[SID_BASE] == results.metrics


def test_the_record_env_picks_the_conf_folder(tmp_path: Path) -> None:
    root = _variety_project(tmp_path / "variety")
    with open_store(str(root)) as store:
        prod = store.results(SID_PROD)
        # conf/prod instead of conf/local: prod_scores read, eval_scores not looked for
        assert prod.metrics == {"accuracy": 0.9, "f1": 0.8, "latency": 12.5}
        assert _ids(store, "metric.latency<20") == [SID_PROD]
