"""``sessionlens annotate``: title, notes, bookmark through the CLI, read back as kedro-viz does."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from sessionlens.stores import open_store
from sessiontools import assert_one_line_error, cli
from storetools import make_records

VIZ_DB = (
    Path(__file__).parent
    / "data/kedro/kedro-0.19.15-kedro-viz-10.2.0-sqlitestore/.viz/session_store.db"
)


def kedro_viz_rows(path: Path) -> list[tuple]:
    """What kedro-viz's SQLAlchemy model reads (``UserRunDetailsModel``), with plain sqlite3."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT id, run_id, bookmark, title, notes, typeof(bookmark) FROM user_run_details "
            "ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


def test_annotate_writes_kedro_viz_rows(tmp_path: Path) -> None:
    db = tmp_path / "session_store.db"
    shutil.copy(VIZ_DB, db)
    typed = "  [bold]Tuned[/] \u00fcn\u00efcode  "
    proc = cli("annotate", "--store", str(db), "2026-11-25T09.45.41", "--title", typed)
    assert proc.returncode == 0, proc.stderr
    assert "title saved" in proc.stdout
    proc = cli("annotate", "--store", str(db), "2026-11-25T09.45.22.894Z", "--no-bookmark")
    assert proc.returncode == 0, proc.stderr
    proc = cli(
        "annotate", "--store", str(db), "2026-11-25T09.45.38", "--notes", "a\nb", "--bookmark"
    )
    assert proc.returncode == 0, proc.stderr
    rows = kedro_viz_rows(db)
    assert rows[:2] == [
        (1, "2026-11-25T09.45.22.894Z", 0, "Baseline run", "first clean run on main", "integer"),
        (2, "2026-11-25T09.45.38.310Z", 1, "Intentional failure", "a\nb", "integer"),
    ]
    assert rows[2][1:] == ("2026-11-25T09.45.41.013Z", 0, typed, None, "integer")
    assert rows[2][0] == 3  # id assigned by SQLite, as for kedro-viz's rows
    shown = json.loads(cli("show", "--store", str(db), "2026-11-25T09.45.41", "--json").stdout)
    assert shown["user_details"]["title"] == typed
    assert shown["summary"]["title"] == typed
    listed = json.loads(cli("list", "--store", str(db), "-f", "bookmark:yes", "--json").stdout)
    assert [s["session_id"] for s in listed] == ["2026-11-25T09.45.38.310Z"]
    proc = cli("show", "--store", str(db), "2026-11-25T09.45.38")
    assert "a" in proc.stdout and "Intentional failure" in proc.stdout


def test_annotate_shelve_and_bad_input(tmp_path: Path) -> None:
    spec = f"shelve://{tmp_path / 'sessions'}"
    with open_store(spec, read_only=False, create=True) as store:
        records = make_records(4)
        store.insert_many(records)
    sid = records[0]["session_id"]
    proc = cli("annotate", "--store", spec, sid, "--title", "t", "--bookmark", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "session_id": sid,
        "title": "t",
        "bookmark": True,
        "notes": None,
    }
    with open_store(spec) as store:
        assert store.user_details(sid)["title"] == "t"
    assert_one_line_error(cli("annotate", "--store", spec, sid), "nothing to change")
    assert_one_line_error(
        cli("annotate", "--store", spec, "2031-01-01", "--title", "x"), "no session"
    )
    assert_one_line_error(cli("annotate", "--store", spec, "2026-11", "--title", "x"), "several")
    assert_one_line_error(
        cli("annotate", "--store", str(tmp_path / "none.db"), sid, "--title", "x")
    )
    assert_one_line_error(cli("annotate", "--store", spec, sid, "--bookmark", "--no-such"))
    assert not (tmp_path / "none.db").exists()
