"""A real Kedro 1.x project recording its results with sessionlens: the catalog's
``sessionlens.kedro.MetricsDataset``/``JSONDataset`` write kedro-datasets 6's files, and the hooks
put node timings, metrics and tracking data into the session record (venv and helpers of
test_kedro_project.py; two ``kedro run``s)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sessionlens.query import parse_query
from sessionlens.stores import open_store
from test_kedro_project import _git, _run, kedro_venv  # noqa: F401 - kedro_venv is a fixture

pytestmark = pytest.mark.kedro

PIPELINE = """
from kedro.pipeline import Pipeline, node


def train(lr, epochs):
    return {"lr": lr, "epochs": epochs, "weights": [lr] * 3}


def evaluate(model):
    metrics = {"accuracy": round(0.5 + model["lr"] * model["epochs"] / 10, 4), "epochs": 3}
    return metrics, {"accuracy": metrics["accuracy"], "n_weights": len(model["weights"])}


def report(summary, fail):
    if fail:
        raise ValueError("Intentional failure requested via params:fail")
    return {"summary": summary, "tags": ["demo"]}


def register_pipelines():
    return {
        "__default__": Pipeline(
            [
                node(train, ["params:lr", "params:epochs"], "model", name="train"),
                node(evaluate, "model", ["metrics", "summary"], name="evaluate"),
                node(report, ["summary", "params:fail"], "run_info", name="report"),
            ]
        )
    }
"""

CATALOG = """
metrics:
  type: sessionlens.kedro.MetricsDataset
  filepath: data/09_tracking/metrics.json

run_info:
  type: sessionlens.kedro.JSONDataset
  filepath: data/09_tracking/run_info.json
"""

SETTINGS = """

from sessionlens.kedro import SQLiteStore

SESSION_STORE_CLASS = SQLiteStore
SESSION_STORE_ARGS = {"path": ".viz"}
"""


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.ids: dict[str, str] = {}

    def store(self) -> Any:
        return open_store(f"sqlite://{self.root / '.viz' / 'session_store.db'}")


@pytest.fixture(scope="module")
def project(kedro_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:  # noqa: F811
    where = tmp_path_factory.mktemp("kedro-results")
    config = where / "new.yml"
    config.write_text("project_name: res-demo\nrepo_name: res-demo\npython_package: res_demo\n")
    _run(kedro_venv, ["kedro", "new", "--config", str(config)], where)
    root = where / "res-demo"
    package = root / "src" / "res_demo"
    (package / "pipeline_registry.py").write_text(PIPELINE)
    (root / "conf" / "base" / "parameters.yml").write_text("lr: 0.1\nepochs: 3\nfail: false\n")
    (root / "conf" / "base" / "catalog.yml").write_text(CATALOG)
    with (package / "settings.py").open("a") as fh:
        fh.write(SETTINGS)
    _git(root, "init", "-q", "-b", "main")
    project = Project(root)
    _run(kedro_venv, ["kedro", "run"], root)
    failed = _run(kedro_venv, ["kedro", "run", "--params", "fail=true"], root, check=False)
    assert failed.returncode != 0
    with project.store() as store:
        summaries = store.list_summaries(parse_query("", sort="started", descending=False))
    assert [s.status for s in summaries] == ["success", "failed"]
    project.ids = {"success": summaries[0].session_id, "failed": summaries[1].session_id}
    yield project


def test_datasets_write_kedro_datasets_layout(project: Project) -> None:
    sid = project.ids["success"]
    tracking = project.root / "data" / "09_tracking"
    metrics = json.loads((tracking / "metrics.json" / sid / "metrics.json").read_text())
    assert metrics == {"accuracy": 0.53, "epochs": 3.0}
    info = json.loads((tracking / "run_info.json" / sid / "run_info.json").read_text())
    assert info == {"summary": {"accuracy": 0.53, "n_weights": 3}, "tags": ["demo"]}
    failed = project.ids["failed"]
    assert (tracking / "metrics.json" / failed / "metrics.json").is_file()
    assert not (tracking / "run_info.json" / failed).exists()  # its node failed first


def test_hooks_record_nodes_metrics_and_tracking(project: Project) -> None:
    with project.store() as store:
        ok = store.get(project.ids["success"])
        bad = store.get(project.ids["failed"])
    assert ok["metrics"] == {"accuracy": 0.53, "epochs": 3.0}
    assert ok["tracking"] == {"run_info": {"summary": {"accuracy": 0.53, "n_weights": 3},
                                           "tags": ["demo"]}}  # fmt: skip
    assert [(n["name"], n["status"]) for n in ok["nodes"]] == [
        ("train", "success"),
        ("evaluate", "success"),
        ("report", "success"),
    ]
    for node in ok["nodes"]:
        assert node["started_at"].startswith(ok["run"]["started_at"][:10])
        assert 0 <= node["duration_s"] < 30
    assert bad["metrics"] == {"accuracy": 0.53, "epochs": 3.0}
    assert "tracking" not in bad
    assert [(n["name"], n["status"]) for n in bad["nodes"]] == [
        ("train", "success"),
        ("evaluate", "success"),
        ("report", "failed"),
    ]
    assert bad["nodes"][-1]["error"] == (
        "ValueError: Intentional failure requested via params:fail"
    )
    assert bad["run"]["status"] == "failed"


def test_store_results_and_metric_filter(project: Project) -> None:
    with project.store() as store:
        results = store.results(project.ids["failed"])
        assert results.metrics == {"accuracy": 0.53, "epochs": 3.0}
        assert [n.status for n in results.nodes] == ["success", "success", "failed"]
        assert results.nodes[-1].error is not None
        ok = store.results(project.ids["success"])
        assert ok.data["run_info"]["tags"] == ["demo"]
        found = store.list_summaries(parse_query("metric.accuracy>=0.5"))
        assert {s.session_id for s in found} == set(project.ids.values())
        assert not store.list_summaries(parse_query("metric.accuracy>0.6"))
