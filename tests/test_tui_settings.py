"""``sessionlens.tui.settings``: per-store settings in one JSON file, written atomically, a bad
file ignored with a reason (never an error)."""

from __future__ import annotations

import json
from pathlib import Path

from sessionlens.tui.settings import FILE_NAME, Settings, config_dir, store_key
from sessionlens.tui.widgets.session_columns import (
    format_metric,
    metric_column,
    shown_columns,
    with_metrics,
)


def test_the_config_dir_is_overridable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SESSIONLENS_CONFIG_DIR", str(tmp_path))
    assert config_dir() == tmp_path
    monkeypatch.delenv("SESSIONLENS_CONFIG_DIR")
    assert config_dir().name == "sessionlens"


def test_settings_are_kept_per_store_and_survive_a_reload(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / FILE_NAME
    a = Settings(store_key("sqlite", str(tmp_path / "a.db")), path)
    b = Settings(store_key("sqlite", str(tmp_path / "b.db")), path)
    assert a.set_metric_columns(["accuracy", "loss"]) is None
    assert b.set_direction("score", "lower") is None
    again = Settings(a.key, path)
    assert again.metric_columns == ["accuracy", "loss"] and again.directions == {}
    assert Settings(b.key, path).directions == {"score": "lower"}
    assert b.set_direction("score", None) is None
    assert Settings(b.key, path).directions == {}
    assert [p.name for p in path.parent.iterdir()] == [FILE_NAME]  # no temp file left


def test_a_memory_store_keeps_its_settings_in_memory_only(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    settings = Settings(store_key("memory", "memory:"), path)
    assert settings.key is None
    assert settings.set_metric_columns(["x"]) is None and not path.exists()


def test_a_bad_file_is_ignored_with_a_reason_and_replaced_on_save(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    for content in ("{not json", "[1, 2]", '{"stores": 3}'):
        path.write_text(content)
        settings = Settings("sqlite:/x.db", path)
        assert settings.problem and str(path) in settings.problem
        assert settings.metric_columns == []
    path.write_text(
        json.dumps(
            {"stores": {"sqlite:/x.db": {"metric_columns": [1, "ok"], "directions": {"a": "up"}}}}
        )
    )
    settings = Settings("sqlite:/x.db", path)
    assert settings.problem is None
    assert settings.metric_columns == ["ok"] and settings.directions == {}  # bad entries dropped
    path.write_text("{not json")
    settings = Settings("sqlite:/x.db", path)
    assert settings.set_metric_columns(["loss"]) is None
    assert json.loads(path.read_text())["stores"]["sqlite:/x.db"]["metric_columns"] == ["loss"]


def test_an_unwritable_folder_is_a_message_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings = Settings("sqlite:/x.db", blocker / FILE_NAME)
    problem = settings.set_metric_columns(["a"])
    assert problem is not None and "Could not save" in problem


def test_metric_cells_are_compact_right_aligned_and_empty_when_missing() -> None:
    assert [format_metric(v) for v in (0.912345, 12.0, 1234567.0, -0.00012, None)] == [
        "0.9123", "12", "1.235e6", "-0.00012", "",
    ]  # fmt: skip
    column = metric_column("accuracy")
    assert (column.sort, column.align, column.label) == ("metric.accuracy", "right", "accuracy")
    names = [c.name for c in with_metrics(shown_columns(False), ["accuracy"])]
    assert names[names.index("dirty") + 1] == "metric.accuracy"


def test_the_detail_panel_shows_metrics_and_nodes_literally() -> None:
    """The panel under the table: the first metrics (names shown as stored, never as markup)
    and the nodes: how many, the slowest, the one that failed."""
    from rich.style import Style

    from sessionlens.record import SessionSummary
    from sessionlens.tui.palette import PALETTE_CLASSES
    from sessionlens.tui.text import Clock
    from sessionlens.tui.widgets.session_detail import PANEL_METRICS, describe_session

    metrics = {"accuracy": 0.912345, "[bold]x\x1b[31m": 1.0}
    metrics.update({f"m{n}": float(n) for n in range(PANEL_METRICS)})
    summary = SessionSummary("2026-11-25T09.44.11.880Z", "failed", metrics=metrics)
    record = {
        "session_id": summary.session_id,
        "nodes": [
            {"name": "load", "status": "success", "duration_s": 0.5},
            {"name": "train", "status": "success", "duration_s": 12.0},
            {"name": "evaluate", "status": "failed", "duration_s": 0.1, "error": "boom"},
        ],
    }
    palette = {name.removeprefix("palette--"): Style() for name in PALETTE_CLASSES}
    text = describe_session(summary, record, {}, [], Clock(), palette).plain
    line = next(t for t in text.splitlines() if t.startswith("Metrics"))
    assert "accuracy=0.9123" in line and "[bold]x␛[31m=1" in line
    assert f"+{len(metrics) - PANEL_METRICS} more" in line
    nodes = next(t for t in text.splitlines() if t.startswith("Nodes"))
    assert "3 nodes" in nodes and "slowest train 12.0s" in nodes and "failed evaluate" in nodes
