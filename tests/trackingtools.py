"""Kedro projects with tracking datasets, built in tmp for the tracking and CLI tests: a
kedro-viz store (``runs`` rows as kedro-viz writes them) plus versioned tracking files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from storetools import write_viz_rows


def viz_record(session_id: str, **extra: Any) -> dict[str, Any]:
    """A record as kedro + kedro-viz write it (no ``run`` part: its results are on disk)."""
    return {
        "session_id": session_id,
        "project_path": "/tmp/p",
        "username": "viz",
        "git": {"commit_sha": "abc1234", "dirty": False, "branch": "main"},
        "cli": {"command_path": "kedro run", "params": {"params": {}}},
        **extra,
    }


def write_store(path: Path, records: list[dict[str, Any]]) -> None:
    """A kedro-viz SQLite store at ``path`` holding ``records`` (blob JSON-encoded twice)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [(r["session_id"], json.dumps(json.dumps(r)), "text") for r in records]
    write_viz_rows(path, rows)


def write_tracking(root: Path, filepath: str, session_id: str, content: Any) -> Path:
    """The file ``kedro run`` saves for a versioned dataset: ``<filepath>/<sid>/<basename>``;
    ``content`` a str is written as is (a file that is not JSON), anything else as JSON."""
    folder = root / filepath / session_id
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / Path(filepath).name
    text = content if isinstance(content, str) else json.dumps(content, indent=2)
    target.write_text(text, encoding="utf-8")
    return target


def write_file(root: Path, name: str, text: str) -> Path:
    target = root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


#: the 0.18.14 + kedro-viz 6.7.0 acceptance project's shape: store in ``data/``, ``scores``
#: stored as ``regressor_scores.json``, a full-path ``JSONDataSet``
REGRESSION_CATALOG = """\
scores:
  type: tracking.MetricsDataSet
  filepath: data/09_tracking/regressor_scores.json

fit_info:
  type: kedro.extras.datasets.tracking.JSONDataSet
  filepath: data/09_tracking/fit_info.json
"""
REGRESSION_SCORES = {
    "2026-12-01T21.43.44.061Z": {"r2": 0.8333, "mae": 0.25, "rmse": 0.3125},
    "2026-12-01T21.43.46.356Z": {"r2": 0.95, "mae": 0.0625, "rmse": 0.0781},
    "2026-12-01T21.43.49.817Z": {"r2": 0.9889, "mae": 0.0125, "rmse": 0.0156},
    "2026-12-01T21.43.54.111Z": {"r2": 0.9762, "mae": 0.025, "rmse": 0.0312},
    "2026-12-01T21.43.56.842Z": None,  # failed in the first node: no tracking file at all
    "2026-12-01T21.44.00.227Z": {"r2": 0.3333, "mae": 1.0, "rmse": 1.25},
}


def fit_info(session_id: str) -> dict[str, Any]:
    return {
        "estimator": "FakeForestRegressor",
        "hyperparameters": {"alpha": 0.5, "n_estimators": 20},
        "feature_importances": {"x1": 0.6667, "x2": 0.3333},
        "warm_start": False,
        "notes": None,
        "sid": session_id,
    }


def regression_project(root: Path) -> Path:
    """A project shaped like the kedro 0.18.14 acceptance fixture; returns its root."""
    write_file(root, "conf/base/catalog.yml", REGRESSION_CATALOG)
    write_file(root, "conf/base/parameters_regress.yml", "alpha: 0.5\n")
    write_file(root, "conf/local/credentials.yml", "")
    records = []
    for sid, scores in REGRESSION_SCORES.items():
        extra: dict[str, Any] = {"package_name": None}
        if scores is None:
            extra["exception"] = {"type": "RuntimeError", "value": "early", "traceback": []}
        records.append(viz_record(sid, **extra))
        if scores is not None:
            write_tracking(root, "data/09_tracking/regressor_scores.json", sid, scores)
            write_tracking(root, "data/09_tracking/fit_info.json", sid, fit_info(sid))
    write_store(root / "data" / "session_store.db", records)
    return root
