"""sessionlens.kedro.MetricsDataset / JSONDataset: kedro-datasets 6's tracking layout and
format, loadable. These run without Kedro (its stand-in base); test_kedro_project.py runs them
in a real Kedro project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sessionlens.kedro import JSONDataset, MetricsDataset
from sessionlens.kedro.datasets import DatasetError, Version
from sessionlens.tracking import TrackingCatalog, dataset_kind

SID = "2026-12-01T21.41.32.411Z"


def test_public_names_are_tracking_kinds() -> None:
    assert dataset_kind("sessionlens.kedro.MetricsDataset") == "metrics"
    assert dataset_kind("sessionlens.kedro.JSONDataset") == "json"
    assert dataset_kind(f"{MetricsDataset.__module__}.{MetricsDataset.__qualname__}") == "metrics"
    assert dataset_kind(f"{JSONDataset.__module__}.{JSONDataset.__qualname__}") == "json"
    assert MetricsDataset.versioned and JSONDataset.versioned


def test_metrics_saved_as_floats_in_the_versioned_layout(tmp_path: Path) -> None:
    filepath = tmp_path / "data" / "09_tracking" / "metrics.json"
    ds = MetricsDataset(filepath=str(filepath), version=Version(None, SID))
    data = {"accuracy": 0.53, "epochs": 3}
    ds.save(data)
    written = filepath / SID / "metrics.json"
    assert written.read_text() == json.dumps({"accuracy": 0.53, "epochs": 3.0}, indent=2)
    assert data == {"accuracy": 0.53, "epochs": 3}  # the caller's dict is left alone
    assert MetricsDataset(filepath=str(filepath), version=Version(None, None)).load() == {
        "accuracy": 0.53,
        "epochs": 3.0,
    }
    assert ds.exists()


def test_json_dataset_keeps_any_json_and_loads_the_latest(tmp_path: Path) -> None:
    filepath = tmp_path / "run_info.json"
    first = {"model": {"lr": 0.1}, "tags": ["a"], "ok": False, "none": None}
    JSONDataset(filepath=str(filepath), version=Version(None, SID)).save(first)
    later = "2026-12-01T21.41.40.189Z"
    JSONDataset(filepath=str(filepath), version=Version(None, later)).save([1, 2])
    assert JSONDataset(filepath=str(filepath), version=Version(None, None)).load() == [1, 2]
    assert JSONDataset(filepath=str(filepath), version=Version(SID, None)).load() == first


def test_same_version_is_not_written_twice(tmp_path: Path) -> None:
    filepath = tmp_path / "m.json"
    MetricsDataset(filepath=str(filepath), version=Version(None, SID)).save({"a": 1})
    with pytest.raises(DatasetError, match="must not exist"):
        MetricsDataset(filepath=str(filepath), version=Version(None, SID)).save({"a": 2})


@pytest.mark.parametrize("bad", [{"a": "high"}, {"a": None}, {"a": [1]}, [1, 2]])
def test_metrics_that_are_not_numbers_are_refused(tmp_path: Path, bad: object) -> None:
    ds = MetricsDataset(filepath=str(tmp_path / "m.json"), version=Version(None, SID))
    with pytest.raises(DatasetError, match=r"number|mapping"):
        ds.save(bad)
    assert not (tmp_path / "m.json" / SID / "m.json").exists()


def test_remote_paths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="local files only"):
        MetricsDataset(filepath="s3://bucket/m.json")


def test_tracking_catalog_reads_what_they_wrote(tmp_path: Path) -> None:
    """A catalog naming our classes is read back by the tracking reader, session by session."""
    (tmp_path / "conf" / "base").mkdir(parents=True)
    (tmp_path / "conf" / "base" / "catalog.yml").write_text(
        "metrics:\n  type: sessionlens.kedro.MetricsDataset\n"
        "  filepath: data/09_tracking/metrics.json\n"
        "run_info:\n  type: sessionlens.kedro.JSONDataset\n"
        "  filepath: data/09_tracking/run_info.json\n"
    )
    version = Version(None, SID)
    metrics = tmp_path / "data" / "09_tracking" / "metrics.json"
    MetricsDataset(filepath=str(metrics), version=version).save({"accuracy": 0.9})
    info = tmp_path / "data" / "09_tracking" / "run_info.json"
    JSONDataset(filepath=str(info), version=version).save({"tags": ["x"]})
    catalog = TrackingCatalog.load(tmp_path)
    assert catalog is not None
    found = catalog.read(SID)
    assert found.metrics == {"accuracy": 0.9}
    assert found.data == {"run_info": {"tags": ["x"]}}
