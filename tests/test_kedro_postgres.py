"""A real Kedro 1.x project recording into PostgreSQL: its settings name
``sessionlens.kedro.SQLiteStore`` with ``SESSION_STORE_ARGS = {"path": "postgresql://..."}``
(what a team does to record every ``kedro run`` into one database). Two runs, one failing: both
sessions in the database with their status, nodes and metrics (the hooks), listed by
``sessionlens --store postgresql://... list --json``. psycopg is in the cached Kedro venv of
test_kedro_project.py through the ``postgresql`` extra, as a user installs it (installed here
into a venv built before the venv came with it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sessionlens.query import parse_query
from sessionlens.stores import open_store
from test_kedro_project import REPO, _git, _pip, _run, kedro_venv  # noqa: F401 - a fixture
from test_kedro_results import CATALOG, PIPELINE

pytestmark = pytest.mark.kedro


@pytest.fixture(scope="module")
def pg_kedro_venv(kedro_venv: Path) -> Path:  # noqa: F811
    """The Kedro venv with ``sessionlens[postgresql]`` (psycopg) installed once."""
    marker = kedro_venv / ".sessionlens-postgresql"
    if not marker.exists():
        _pip(kedro_venv, "-e", f"{REPO}[postgresql]")
        marker.write_text("psycopg installed by test_kedro_postgres\n")
    return kedro_venv


def test_kedro_runs_record_into_postgresql(
    pg_kedro_venv: Path, pg_database: str, tmp_path: Path
) -> None:
    config = tmp_path / "new.yml"
    config.write_text("project_name: pg-demo\nrepo_name: pg-demo\npython_package: pg_demo\n")
    _run(pg_kedro_venv, ["kedro", "new", "--config", str(config)], tmp_path)
    root = tmp_path / "pg-demo"
    package = root / "src" / "pg_demo"
    (package / "pipeline_registry.py").write_text(PIPELINE)
    (root / "conf" / "base" / "parameters.yml").write_text("lr: 0.1\nepochs: 3\nfail: false\n")
    (root / "conf" / "base" / "catalog.yml").write_text(CATALOG)
    with (package / "settings.py").open("a") as fh:
        fh.write(
            "\nfrom sessionlens.kedro import SQLiteStore\n\nSESSION_STORE_CLASS = SQLiteStore\n"
            f"SESSION_STORE_ARGS = {{'path': {pg_database!r}}}\n"
        )
    _git(root, "init", "-q", "-b", "main")

    _run(pg_kedro_venv, ["kedro", "run"], root)
    failed = _run(pg_kedro_venv, ["kedro", "run", "--params", "fail=true"], root, check=False)
    assert failed.returncode != 0

    with open_store(pg_database) as store:
        ok, bad = store.list_summaries(parse_query("", sort="started", descending=False))
        assert (ok.status, bad.status) == ("success", "failed")
        assert ok.metrics == {"accuracy": 0.53, "epochs": 3.0}
        assert store.count(parse_query("metric.accuracy>0.5 status:success")) == 1
        record = store.get(ok.session_id)
        failure = store.get(bad.session_id)
    assert record["cli"]["command_path"] == "kedro run"
    assert [n["status"] for n in record["nodes"]] == ["success"] * 3
    assert record["tracking"]["run_info"]["tags"] == ["demo"]
    assert failure["exception"]["type"].endswith("ValueError")
    assert not (root / "postgresql:").exists()  # the URI was never taken for a folder

    listed = _run(
        pg_kedro_venv, ["sessionlens", "--store", pg_database, "list", "--json"], root
    ).stdout
    rows = {row["session_id"]: row for row in json.loads(listed)}
    assert rows.keys() == {ok.session_id, bad.session_id}
    assert rows[ok.session_id]["status"] == "success"
    assert rows[bad.session_id]["status"] == "failed"
