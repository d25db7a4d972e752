"""``sessionlens.log_metrics``: from a ``sessionlens run`` child, from ``Session.run(fn)``, and
refused anywhere else or for values that are not numbers."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sessionlens
from sessionlens import SessionError
from sessionlens.query import parse_query
from sessionlens.session import Session, current_session
from sessionlens.stores import open_store
from sessiontools import cli, make_repo

SCRIPT = """
import sessionlens
sessionlens.log_metrics({"accuracy": 0.5, "val": {"loss": 0.4}})
sessionlens.log_metrics({"accuracy": 0.9, "val": {"loss": 0.2}, "epochs": 3}, step=3)
print("logged")
"""


def test_sessionlens_run_child_logs_metrics_into_its_session(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "p", {"train.py": SCRIPT})
    proc = cli("run", "-q", "--store", "s.db", "--", sys.executable, "train.py", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "logged" in proc.stdout
    with open_store(str(root / "s.db")) as store:
        (summary,) = store.list_summaries()
        record = store.get(summary.session_id)
        assert record["run"]["status"] == "success"  # the parent's final save kept them
        assert record["metrics"] == {"accuracy": 0.9, "val.loss": 0.2, "epochs": 3.0}
        assert record["metric_steps"] == [
            {"step": 3, "metrics": {"accuracy": 0.9, "val.loss": 0.2, "epochs": 3.0}}
        ]
        assert summary.metrics == {"accuracy": 0.9, "val.loss": 0.2, "epochs": 3.0}
        assert store.results(summary.session_id).metrics["accuracy"] == 0.9
        assert [s.session_id for s in store.list_summaries(parse_query("metric.accuracy>=0.9"))]
        assert not store.list_summaries(parse_query("metric.accuracy>0.95"))
    listed = cli("list", "--json", "--store", "s.db", "--filter", "metric.val.loss<0.3", cwd=root)
    assert listed.returncode == 0, listed.stderr
    assert summary.session_id in listed.stdout


def test_python_api_run_logs_into_its_session(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "p")
    store = open_store(f"sqlite://{tmp_path / 's.db'}", read_only=False, create=True)

    def train() -> str:
        assert current_session() is session
        sessionlens.log_metrics({"loss": 0.3})
        assert store.get(session.session_id)["metrics"] == {"loss": 0.3}  # saved at once
        session.log_metrics({"accuracy": 0.8})
        return "done"

    with Session.create(repo, store) as session:
        assert session.run(train) == "done"
    assert current_session() is None
    assert store.get(session.session_id)["metrics"] == {"loss": 0.3, "accuracy": 0.8}
    store.close()


def test_outside_a_run_it_says_how_to_use_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SESSIONLENS_SESSION_ID", raising=False)
    monkeypatch.delenv("SESSIONLENS_STORE", raising=False)
    with pytest.raises(SessionError, match="sessionlens run") as info:
        sessionlens.log_metrics({"a": 1})
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ({"ok": True}, "'ok' is True (bool)"),
        ({"acc": math.nan}, "finite"),
        ({"acc": math.inf}, "finite"),
        ({"acc": "high"}, "'acc' is 'high' (str)"),
        ({"acc": None}, "(NoneType)"),
        ({"val": {"loss": [1]}}, "'val.loss'"),
        ({1: 2.0}, "name 1"),
        ([("a", 1)], "mapping"),
    ],
)
def test_values_that_are_not_numbers_are_refused(bad: object, needle: str) -> None:
    with pytest.raises(SessionError) as info:
        sessionlens.log_metrics(bad)  # type: ignore[arg-type]
    assert needle in str(info.value)


def test_bad_value_in_child_is_one_line_and_nothing_is_stored(tmp_path: Path) -> None:
    script = "import sessionlens\nsessionlens.log_metrics({'acc': 'high'})\n"
    root = make_repo(tmp_path / "p", {"bad.py": script})
    proc = cli("run", "-q", "--store", "s.db", "--", sys.executable, "bad.py", cwd=root)
    assert proc.returncode == 1
    assert "metric 'acc' is 'high' (str)" in proc.stderr
    with open_store(str(root / "s.db")) as store:
        (summary,) = store.list_summaries()
        assert "metrics" not in store.get(summary.session_id)


def test_import_sessionlens_stays_cheap() -> None:
    code = "import sys, sessionlens; print(sorted(m for m in sys.modules if 'sessionlens' in m))"
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert out.strip() == "['sessionlens', 'sessionlens._version', 'sessionlens.errors']"


def test_the_python_api_is_exported_lazily_without_textual() -> None:
    """``from sessionlens import Session, open_store, log_metrics`` (issue 13): each loads its
    module when asked, and none of them brings Textual."""
    code = (
        "import sys\n"
        "from sessionlens import Session, open_store, log_metrics, __version__\n"
        "print(Session.__module__, open_store.__module__, log_metrics.__module__, "
        "'textual' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == [
        "sessionlens.session",
        "sessionlens.stores",
        "sessionlens.metrics_log",
        "False",
    ]
