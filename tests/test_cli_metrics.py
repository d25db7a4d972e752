"""The CLI's results: ``list --columns`` and metric filters and sorts, ``show``'s Metrics,
Tracking data, Plots, Nodes and problems, ``diff``'s metric and node rows with direction
overrides; as real processes on real SQLite stores and Kedro projects built in tmp. Store text
(metric and node names included) never reaches the terminal as escape codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sessionlens.stores import open_store
from sessiontools import assert_one_line_error, cli, cli_json
from trackingtools import viz_record, write_file, write_store, write_tracking

ESC_NAME = "evil\x1b]0;PWN\x07\x1b[2J"
A, B, C = "2026-11-20T10.00.00.000Z", "2026-11-20T11.00.00.000Z", "2026-11-20T12.00.00.000Z"


def _record(sid: str, metrics: dict[str, Any], nodes: list[dict[str, Any]], **extra: Any) -> dict:
    return {
        "session_id": sid,
        "username": "ana",
        "git": {"commit_sha": "abc1234", "dirty": False, "branch": "main"},
        "run": {
            "status": "success",
            "started_at": sid[:10] + "T" + sid[11:19].replace(".", ":") + "Z",
            "finished_at": None,
            "duration_s": 10.0,
            "exit_code": 0,
            "command": ["python", "train.py"],
        },
        "metrics": metrics,
        "nodes": nodes,
        **extra,
    }


def _nodes(train: float, evaluate: float, error: str | None = None) -> list[dict[str, Any]]:
    return [
        {"name": "train_node", "status": "success", "duration_s": train},
        {
            "name": "evaluate_node",
            "status": "failed" if error else "success",
            "duration_s": evaluate,
            "error": error,
        },
    ]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three sessions with metrics and node timings (one with a hostile metric name)."""
    path = tmp_path_factory.mktemp("metrics") / "runs.db"
    records = [
        _record(A, {"accuracy": 0.8, "loss": 0.4, "r2": 0.85}, _nodes(2.0, 1.0)),
        _record(
            B,
            {"accuracy": 0.9, "loss": 0.3, "r2": 0.95, ESC_NAME: 1.0},
            _nodes(5.0, 1.0),
            tracking={"run_info": {"model": {"lr": 0.1}, "tags": ["x", ESC_NAME], "n": None}},
        ),
        _record(C, {"accuracy": 0.7, "r2": 0.91}, _nodes(2.0, 0.5, error=f"boom {ESC_NAME}")),
    ]
    with open_store(f"sqlite://{path}", read_only=False, create=True) as s:
        for record in records:
            s.insert(record)
    return str(path)


def _clean(proc: Any) -> str:
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout + proc.stderr and "\x07" not in proc.stdout
    return str(proc.stdout)


# -- list ---------------------------------------------------------------------------------------
def test_list_columns(store: str) -> None:
    out = _clean(
        cli("list", "--store", store, "--columns", "id,status,metric.accuracy,metric.loss")
    )
    header = out.splitlines()[0].split()
    assert header == ["id", "status", "metric.accuracy", "metric.loss"]
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:5]}
    assert rows[A] == ["success", "0.8", "0.4"]
    assert rows[C] == ["success", "0.7"]  # no loss: an empty cell
    assert "started" not in out


def test_list_columns_show_hostile_metric_names_visibly(store: str) -> None:
    out = _clean(cli("list", "--store", store, "--columns", "id,metrics"))
    assert "evil␛]0;PWN␇␛[2J=1" in out
    out = _clean(cli("list", "--store", store, "--columns", f"id,metric.{ESC_NAME}"))
    assert "metric.evil␛]0;PWN␇␛[2J" in out


@pytest.mark.parametrize(
    ("columns", "needle"),
    [
        ("id,bogus", "unknown column 'bogus'"),
        ("id,metric.", "name the metric"),
        (",", "name at least one column"),
    ],
)
def test_list_bad_columns_are_one_line_exit_2(store: str, columns: str, needle: str) -> None:
    assert_one_line_error(cli("list", "--store", store, "--columns", columns), needle)
    assert_one_line_error(cli("list", "--store", store, "--json", "--columns", columns), needle)


def test_list_json_has_metrics_and_metric_filters_and_sorts(store: str) -> None:
    listed = cli_json("list", "--store", store)
    assert [s["session_id"] for s in listed] == [C, B, A]
    assert listed[2]["metrics"] == {"accuracy": 0.8, "loss": 0.4, "r2": 0.85}
    good = cli_json("list", "--store", store, "--filter", "metric.r2>0.9")
    assert [s["session_id"] for s in good] == [C, B]
    by_acc = cli_json("list", "--store", store, "--sort", "metric.accuracy")
    assert [s["session_id"] for s in by_acc] == [B, A, C]
    by_loss = cli_json("list", "--store", store, "--sort", "metric.loss", "--asc")
    assert [s["session_id"] for s in by_loss] == [B, A, C]  # without the metric: last


def test_list_adds_the_metric_a_filter_or_sort_names(store: str) -> None:
    out = _clean(
        cli("list", "--store", store, "--filter", "metric.r2>0.9", "--sort", "metric.loss")
    )
    header = out.splitlines()[0].split()
    assert header[-2:] == ["metric.r2", "metric.loss"]
    assert "2 of 3 sessions" in out


def test_list_help_names_columns_and_metric_keys(store: str) -> None:
    out = _clean(cli("list", "--help"))
    assert "--columns" in out and "metric.NAME" in out and "metric.accuracy>=0.9" in out
    assert_one_line_error(cli("list", "--store", store, "--sort", "metric."), "name the metric")
    assert_one_line_error(
        cli("list", "--store", store, "--filter", "metric.r2>high"), "compares with a number"
    )


# -- show ---------------------------------------------------------------------------------------
def test_show_prints_results(store: str) -> None:
    out = _clean(cli("show", "--store", store, B))
    for section in ("Metrics", "Tracking data", "Nodes"):
        assert section in out
    lines = out.splitlines()
    assert any(line.split() == ["accuracy", "0.9"] for line in lines)
    assert any(line.split() == ["run_info.model.lr", "0.1"] for line in lines)
    assert any(line.split() == ["run_info.n", "null"] for line in lines)
    assert any(line.split()[:3] == ["train_node", "success", "5.00s"] for line in lines)
    assert "evil␛]0;PWN␇␛[2J" in out
    assert "Other fields" not in out  # metrics, nodes and tracking are shown above, once
    failed = _clean(cli("show", "--store", store, C))
    assert "boom evil␛]0;PWN␇␛[2J" in failed and "failed" in failed


def test_show_json_has_results(store: str) -> None:
    shown = cli_json("show", "--store", store, B)
    results = shown["results"]
    assert results["metrics"]["r2"] == 0.95 and results["metrics"][ESC_NAME] == 1.0
    assert results["data"]["run_info"]["model"] == {"lr": 0.1}
    assert [n["name"] for n in results["nodes"]] == ["train_node", "evaluate_node"]
    assert results["plots"] == {} and results["problems"] == []


def test_show_plots_and_problems_of_a_kedro_project(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write_file(
        root,
        "conf/base/catalog.yml",
        "metrics:\n  type: tracking.MetricsDataset\n  filepath: data/09_tracking/metrics.json\n"
        "bad:\n  type: tracking.MetricsDataset\n  filepath: data/09_tracking/bad.json\n"
        "chart:\n  type: plotly.JSONDataset\n  filepath: data/08_reporting/chart.json\n",
    )
    write_tracking(root, "data/09_tracking/metrics.json", A, {"accuracy": 0.5})
    write_tracking(root, "data/09_tracking/bad.json", A, "{nope")
    plot = write_tracking(root, "data/08_reporting/chart.json", A, {"data": []})
    write_store(root / ".viz" / "session_store.db", [viz_record(A)])
    out = _clean(cli("show", A, cwd=root))
    assert "Plots" in out and f"chart  {plot}" in out
    assert "Results that could not be read" in out and "not JSON" in out
    shown = cli_json("show", A, cwd=root)
    assert shown["results"]["metrics"] == {"accuracy": 0.5}
    assert shown["results"]["plots"] == {"chart": str(plot)}
    assert len(shown["results"]["problems"]) == 1


# -- diff ---------------------------------------------------------------------------------------
def test_diff_metric_and_node_rows(store: str) -> None:
    out = _clean(cli("diff", "--store", store, A, B))
    lines = [line.split() for line in out.splitlines()]
    assert ["accuracy", "0.8", "0.9", "+0.1", "better"] in lines
    assert ["loss", "0.4", "0.3", "-0.1", "better"] in lines
    assert any(
        line[:3] == ["train_node", "2.00s", "5.00s"] and line[-1] == "slower" for line in lines
    )
    assert any(line[0] == "evaluate_node" and line[-1] == "same" for line in lines)
    assert "evil␛]0;PWN␇␛[2J" in out


def test_diff_json_and_direction_overrides(store: str) -> None:
    data = cli_json("diff", "--store", store, A, C)
    metrics = {m["name"]: m for m in data["metrics"]}
    assert metrics["accuracy"]["change"] == "worse"
    assert metrics["accuracy"]["delta"] == pytest.approx(-0.1)
    assert metrics["loss"] == {
        "name": "loss",
        "lower_is_better": True,
        "left": 0.4,
        "right": None,
        "delta": None,
        "change": "missing",
    }
    nodes = {n["name"]: n for n in data["nodes"]}
    assert nodes["evaluate_node"]["right_status"] == "failed"
    assert nodes["evaluate_node"]["change"] == "faster"
    flipped = cli_json(
        "diff", "--store", store, A, C, "--lower-is-better", "accuracy", "--higher-is-better", "r2"
    )
    metrics = {m["name"]: m for m in flipped["metrics"]}
    assert metrics["accuracy"]["change"] == "better" and metrics["accuracy"]["lower_is_better"]
    out = _clean(cli("diff", "--store", store, A, B, "--higher-is-better", "loss"))
    assert ["loss", "0.4", "0.3", "-0.1", "worse"] in [line.split() for line in out.splitlines()]


def test_diff_conflicting_overrides_are_one_line(store: str) -> None:
    proc = cli(
        "diff", "--store", store, A, B, "--lower-is-better", "r2", "--higher-is-better", "r2"
    )
    assert_one_line_error(proc, "both --higher-is-better and --lower-is-better")


def test_diff_of_sessions_without_results_has_no_result_rows(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    with open_store(f"sqlite://{path}", read_only=False, create=True) as s:
        for sid in (A, B):
            s.insert(
                {k: v for k, v in _record(sid, {}, []).items() if k not in ("metrics", "nodes")}
            )
    out = _clean(cli("diff", "--store", str(path), A, B))
    assert "Metrics" not in out and "Nodes" not in out
    data = json.loads(_clean(cli("diff", "--store", str(path), A, B, "--json")))
    assert data["metrics"] == [] and data["nodes"] == []
