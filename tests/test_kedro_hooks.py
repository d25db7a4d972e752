"""The node and dataset hooks, driven as Kedro drives them, without Kedro: per-node timings and
errors, metrics and JSON data of tracking datasets, nothing raised into the pipeline."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from sessionlens.kedro import SQLiteStore
from sessionlens.kedro.hooks import SessionLensHooks
from sessionlens.kedro.store import live_store
from sessionlens.stores import open_store

SID = "2026-11-25T09.44.11.880Z"


class FakeCatalog:
    """Kedro 1.x's ``get_type`` and ``keys``."""

    TYPES = {
        "metrics": "sessionlens.kedro.datasets.MetricsDataset",
        "scores": "kedro_datasets.tracking.metrics_dataset.MetricsDataset",
        "run_info": "kedro_datasets.tracking.json_dataset.JSONDataset",
        "model": "kedro_datasets.json.json_dataset.JSONDataset",
    }

    def get_type(self, name: str) -> str | None:
        return self.TYPES.get(name)

    def keys(self) -> list[str]:
        return list(self.TYPES)


def _node(name: str) -> Any:
    return SimpleNamespace(name=name)


@pytest.fixture
def started(tmp_path: Path) -> tuple[SessionLensHooks, SQLiteStore]:
    hooks = SessionLensHooks()
    store = SQLiteStore(str(tmp_path / ".viz"), SID)
    store.update({"project_path": str(tmp_path), "session_id": SID})
    params = {"run_id": SID, "project_path": str(tmp_path), "kedro_version": "1.7.0"}
    hooks.after_catalog_created(catalog=FakeCatalog(), save_version=SID)
    hooks.before_pipeline_run(run_params=params)
    return hooks, store


def _stored(tmp_path: Path) -> dict[str, Any]:
    with open_store(f"sqlite://{tmp_path / '.viz' / 'session_store.db'}") as store:
        return dict(store.get(SID))


def test_nodes_metrics_and_tracking_reach_the_record(
    tmp_path: Path, started: tuple[SessionLensHooks, SQLiteStore]
) -> None:
    hooks, store = started
    hooks.before_node_run(node=_node("train"))
    hooks.after_dataset_saved(dataset_name="model", data={"weights": [1]})  # not tracking
    hooks.after_node_run(node=_node("train"))
    hooks.before_node_run(node=_node("evaluate"))
    hooks.after_dataset_saved(dataset_name="metrics", data={"acc": 0.9, "val": {"loss": 0.1}})
    hooks.after_dataset_saved(dataset_name="scores", data={"r2": 0.5, "note": "text"})
    hooks.after_dataset_saved(dataset_name="run_info", data={"tags": ["a"]})
    hooks.after_node_run(node=_node("evaluate"))
    hooks.before_node_run(node=_node("report"))
    error = ValueError("y is zero:\nfactor must not be 0")
    hooks.on_node_error(error=error, node=_node("report"))
    record = _stored(tmp_path)  # saved at each node's end, before the pipeline ends
    assert record["metrics"] == {"acc": 0.9, "val.loss": 0.1, "r2": 0.5}
    assert record["tracking"] == {"run_info": {"tags": ["a"]}}
    assert [(n["name"], n["status"]) for n in record["nodes"]] == [
        ("train", "success"),
        ("evaluate", "success"),
        ("report", "failed"),
    ]
    assert all(n["duration_s"] >= 0 and n["started_at"] for n in record["nodes"])
    assert record["nodes"][-1]["error"] == "ValueError: y is zero: factor must not be 0"
    hooks.on_pipeline_error(error=error, run_params={"run_id": SID})
    assert _stored(tmp_path)["run"]["status"] == "failed"
    assert store.data["nodes"] == record["nodes"]


def test_hooks_never_raise_into_the_pipeline(
    tmp_path: Path, started: tuple[SessionLensHooks, SQLiteStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks, store = started

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "record_node", broken)
    monkeypatch.setattr(store, "add_metrics", broken)
    hooks.before_node_run(node=_node("train"))
    hooks.after_dataset_saved(dataset_name="metrics", data={"acc": 1})
    hooks.after_node_run(node=_node("train"))


def test_no_store_no_catalog_nothing_recorded(tmp_path: Path) -> None:
    hooks = SessionLensHooks()
    hooks.before_pipeline_run(run_params={"run_id": "2026-01-01T00.00.00.000Z"})
    hooks.before_node_run(node=_node("x"))
    hooks.after_dataset_saved(dataset_name="metrics", data={"acc": 1})
    hooks.after_node_run(node=_node("x"))


def test_a_forked_process_gets_no_live_store(
    started: tuple[SessionLensHooks, SQLiteStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, store = started
    assert live_store(SID) is store
    monkeypatch.setattr(os, "getpid", lambda: store._pid + 1)
    assert live_store(SID) is None


def test_read_back_unseen_tracking_files(tmp_path: Path) -> None:
    """ParallelRunner: the saves happened in workers; the files are read at the pipeline end."""
    hooks = SessionLensHooks()
    store = SQLiteStore(str(tmp_path / ".viz"), SID)
    store.update({"project_path": str(tmp_path), "session_id": SID})
    folder = tmp_path / "data" / "metrics.json"
    (folder / SID).mkdir(parents=True)
    (folder / SID / "metrics.json").write_text('{"acc": 0.7}')

    class Catalog(FakeCatalog):
        TYPES = {"metrics": "sessionlens.kedro.MetricsDataset"}

        def get(self, name: str) -> Any:
            from pathlib import PurePosixPath

            return SimpleNamespace(_filepath=PurePosixPath(folder))

    hooks.after_catalog_created(catalog=Catalog(), save_version=SID)
    hooks.before_pipeline_run(run_params={"run_id": SID})
    hooks.after_pipeline_run(run_params={"run_id": SID})
    assert _stored(tmp_path)["metrics"] == {"acc": 0.7}
