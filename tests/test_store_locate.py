"""Finding a store: URIs, plain paths detected by content, project folders (pyproject.toml,
Kedro's settings.py read without running it, Kedro's usual places), creation and errors."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path
from typing import Any

import pytest

from sessionlens.errors import StoreError
from sessionlens.stores import default_store_path, detect_store, open_store
from sessionlens.stores.kedro_settings import read_session_store_settings
from sessiontools import cli
from storetools import make_records


def kedro_viz_db(path: Path, n: int = 1) -> Path:
    """A store as kedro-viz writes it (plain sqlite3, its DDL, blobs encoded twice)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE runs (id VARCHAR NOT NULL, blob JSON, PRIMARY KEY (id))")
    conn.execute(
        "CREATE TABLE user_run_details (id INTEGER NOT NULL, run_id VARCHAR, bookmark BOOLEAN, "
        "title VARCHAR, notes VARCHAR, PRIMARY KEY (id), UNIQUE (run_id))"
    )
    for i in range(n):
        record = {"session_id": f"2026-11-2{i}T10.00.00.000Z", "username": path.parent.name}
        conn.execute(
            "INSERT INTO runs VALUES (?, ?)", (record["session_id"], json.dumps(json.dumps(record)))
        )
    conn.commit()
    conn.close()
    return path


def shelve_folder(folder: Path) -> Path:
    with open_store(f"shelve://{folder}", read_only=False, create=True) as store:
        store.insert(make_records(1)[0])
    return folder


def kedro_project(root: Path, settings: str | None = None, package: str = "demo") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f'[tool.kedro]\npackage_name = "{package}"\n')
    if settings is not None:
        pkg = root / "src" / package
        pkg.mkdir(parents=True)
        (pkg / "settings.py").write_text(textwrap.dedent(settings))
    return root


# -- URIs ----------------------------------------------------------------------------------
def test_uris(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = kedro_viz_db(tmp_path / "a" / "s.db")
    assert detect_store(f"sqlite://{db}").location == str(db)  # sqlite:///abs
    assert detect_store(f"sqlite:///{db}").location == str(db)  # sqlite:////abs
    monkeypatch.chdir(tmp_path)
    assert detect_store("sqlite:///a/s.db").location == str(db)  # relative, as SQLAlchemy
    assert detect_store("sqlite:a/s.db").location == str(db)
    new = detect_store("sqlite:///new.db", create=True)
    assert (new.kind, new.location, new.exists) == ("sqlite", str(tmp_path / "new.db"), False)
    assert detect_store("memory:").kind == "memory"
    folder = shelve_folder(tmp_path / "sh")
    assert detect_store(f"shelve://{folder}") == detect_store(folder).__class__(
        "shelve", str(folder), "uri"
    )
    assert detect_store(f"file://{db}").kind == "sqlite"


def test_postgresql_uri_never_shows_its_password(tmp_path: Path) -> None:
    spec = detect_store("postgresql://ana:s3cret@db.example:5432/sessions")
    assert spec.kind == "postgresql" and "s3cret" not in spec.location
    assert "s3cret" not in repr(spec) and spec.address is not None
    pytest.importorskip("psycopg")
    with pytest.raises(StoreError) as info:  # nothing listens on port 1: refused at once
        open_store("postgresql://ana:s3cret@127.0.0.1:1/sessions")
    message = str(info.value)
    assert "127.0.0.1" in message
    assert "s3cret" not in message and "\n" not in message


def test_bad_uris(tmp_path: Path) -> None:
    for spec, problem in (
        ("mysql://x/y", "unknown store URI scheme 'mysql'"),
        (f"sqlite://{tmp_path / 'missing.db'}", "no such file"),
        (f"shelve://{tmp_path / 'missing'}", "no such folder"),
        (f"sqlite://{tmp_path}", "is a folder"),
        ("", "empty store path"),
    ):
        with pytest.raises(StoreError) as info:
            open_store(spec)
        assert problem in str(info.value) and "\n" not in str(info.value)


# -- plain paths, by content ------------------------------------------------------------------
def test_plain_paths_by_content(tmp_path: Path) -> None:
    db = kedro_viz_db(tmp_path / "whatever.name")  # no .db suffix: content decides
    assert detect_store(db).kind == "sqlite"
    folder = shelve_folder(tmp_path / "runs")
    assert detect_store(folder).kind == "shelve"
    viz = kedro_viz_db(tmp_path / "viz" / "session_store.db")
    assert detect_store(viz.parent).location == str(viz)  # what SESSION_STORE_ARGS names
    with open_store(db) as store:
        assert store.kind == "sqlite" and store.count() == 1


@pytest.mark.parametrize(
    ("place", "kind"),
    [
        (".viz/session_store.db", "sqlite"),
        ("sessions/session_store.db", "sqlite"),
        ("data/session_store.db", "sqlite"),
        ("sessions", "shelve"),
    ],
)
def test_kedros_places_in_a_project(tmp_path: Path, place: str, kind: str) -> None:
    project = kedro_project(tmp_path / "p")
    if kind == "sqlite":
        kedro_viz_db(project / place, n=2)
    else:
        shelve_folder(project / place)
    spec = detect_store(project)
    assert (spec.kind, spec.location) == (kind, str(project / place))
    with open_store(project) as store:
        assert store.count() == (2 if kind == "sqlite" else 1)


def test_places_are_tried_in_order(tmp_path: Path) -> None:
    project = kedro_project(tmp_path / "p")
    shelve_folder(project / "sessions")
    kedro_viz_db(project / "data" / "session_store.db")
    assert detect_store(project).location == str(project / "data" / "session_store.db")
    kedro_viz_db(project / "sessions" / "session_store.db")
    assert detect_store(project).location == str(project / "sessions" / "session_store.db")
    kedro_viz_db(project / ".viz" / "session_store.db")
    assert detect_store(project).found_by == ".viz/session_store.db"
    (project / "pyproject.toml").write_text(
        '[tool.kedro]\npackage_name = "demo"\n[tool.sessionlens]\nstore = "sessions"\n'
    )
    assert detect_store(project).location == str(project / "sessions" / "session_store.db")


def test_pyproject_store_setting(tmp_path: Path) -> None:
    project = tmp_path / "p"
    db = kedro_viz_db(project / "var" / "runs.db")
    (project / "pyproject.toml").write_text('[tool.sessionlens]\nstore = "var/runs.db"\n')
    spec = detect_store(project)
    assert (spec.kind, spec.location, spec.found_by) == ("sqlite", str(db), "pyproject.toml")
    (project / "pyproject.toml").write_text('[tool.sessionlens]\nstore = "sqlite:///var/runs.db"\n')
    assert detect_store(project).location == str(db)
    (project / "pyproject.toml").write_text('[tool.sessionlens]\nstore = "shelve:///sh"\n')
    created = detect_store(project, create=True)
    assert (created.kind, created.location, created.exists) == (
        "shelve",
        str(project / "sh"),
        False,
    )
    (project / "pyproject.toml").write_text('[tool.sessionlens]\nstore = "nope.db"\n')
    with pytest.raises(StoreError) as info:
        detect_store(project)
    assert "pyproject.toml" in str(info.value) and "nope.db" in str(info.value)
    with open_store(project, read_only=False, create=True) as store:
        assert store.location == str(project / "nope.db")
    (project / "pyproject.toml").write_text("[tool.sessionlens\nstore = ")
    with pytest.raises(StoreError) as info:
        detect_store(project)
    assert "invalid TOML" in str(info.value) and "\n" not in str(info.value)


# -- Kedro settings.py ---------------------------------------------------------------------
KEDRO_VIZ_SETTINGS = """
from pathlib import Path
from kedro_viz.integrations.kedro.sqlite_store import SQLiteStore

SESSION_STORE_CLASS = SQLiteStore
SESSION_STORE_ARGS = {"path": str(Path(__file__).parents[2] / "data")}
open(str(Path(__file__).parent / "EXECUTED"), "w")  # must never run
"""


def test_settings_py_is_read_not_run(tmp_path: Path) -> None:
    project = kedro_project(tmp_path / "p", KEDRO_VIZ_SETTINGS)
    db = kedro_viz_db(project / "data" / "session_store.db")
    spec = detect_store(project)
    assert (spec.kind, spec.location) == ("sqlite", str(db))
    assert spec.found_by == "src/demo/settings.py SESSION_STORE_ARGS"
    assert not (project / "src" / "demo" / "EXECUTED").exists()
    created = detect_store(kedro_project(tmp_path / "q", KEDRO_VIZ_SETTINGS), create=True)
    assert created.location == str(tmp_path / "q" / "data" / "session_store.db")
    assert not created.exists


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ('SESSION_STORE_ARGS = {"path": "./sessions"}', (None, "./sessions")),
        (
            "from kedro.framework.session.store import ShelveStore\n"
            "SESSION_STORE_CLASS = ShelveStore\n"
            "SESSION_STORE_ARGS = dict(path='/abs/sessions')",
            ("ShelveStore", "/abs/sessions"),
        ),
        (
            "import pathlib, os\nROOT = pathlib.Path(__file__).resolve().parent.parent\n"
            "SESSION_STORE_ARGS = {'path': os.path.join(str(ROOT), 'viz')}",
            (None, "{settings_dir}/../viz"),
        ),
        ("SESSION_STORE_ARGS = {'path': os.environ['STORE']}", None),
        ("SESSION_STORE_ARGS = {'path': f'{HOME}/x'}", None),
        ("SESSION_STORE_ARGS = {'path': get_path()}", None),
        ("# SESSION_STORE_ARGS = {'path': 'commented'}", None),
        ("SESSION_STORE_ARGS = {", None),  # a syntax error: skipped, not raised
    ],
)
def test_settings_shapes(tmp_path: Path, settings: str, expected: tuple | None) -> None:
    path = tmp_path / "src" / "demo" / "settings.py"
    path.parent.mkdir(parents=True)
    path.write_text(settings)
    found = read_session_store_settings(path)
    if expected is not None and "{settings_dir}" in expected[1]:
        root = Path(str(path.parent).rsplit("/", 1)[0])
        expected = (expected[0], str(root / "viz"))
    assert found == expected


def test_settings_shelve_path_relative_to_the_project(tmp_path: Path) -> None:
    settings = (
        "from kedro.framework.session.store import ShelveStore\n"
        "SESSION_STORE_CLASS = ShelveStore\n"
        'SESSION_STORE_ARGS = {"path": "./runs"}\n'
    )
    project = kedro_project(tmp_path / "p", settings)
    shelve_folder(project / "runs")
    spec = detect_store(project)
    assert (spec.kind, spec.location) == ("shelve", str(project / "runs"))
    empty = kedro_project(tmp_path / "q", settings)
    created = detect_store(empty, create=True)
    assert (created.kind, created.location) == ("shelve", str(empty / "runs"))
    with open_store(empty, read_only=False, create=True) as store:
        assert store.kind == "shelve" and (empty / "runs").is_dir()


# -- creation and errors --------------------------------------------------------------------
def test_default_store_path(tmp_path: Path) -> None:
    kedro = kedro_project(tmp_path / "k")
    plain = tmp_path / "plain"
    plain.mkdir()
    assert default_store_path(kedro) == kedro / ".viz" / "session_store.db"
    assert default_store_path(plain) == plain / ".sessionlens" / "session_store.db"
    for project in (kedro, plain):
        with open_store(project, read_only=False, create=True) as store:
            store.insert(make_records(1)[0])
            assert store.location == str(default_store_path(project))
        assert detect_store(project).location == str(default_store_path(project))


def test_create_a_new_path(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "sessions.db"
    assert detect_store(path, create=True).exists is False
    with open_store(path, read_only=False, create=True) as store:
        assert store.kind == "sqlite" and store.count() == 0
    assert detect_store(path).exists
    with open_store(f"shelve://{tmp_path / 'new'}", read_only=False, create=True) as store:
        assert store.kind == "shelve"
    assert (tmp_path / "new").is_dir()
    with pytest.raises(StoreError):  # create needs read_only=False
        open_store(tmp_path / "other.db", create=True)


def test_nothing_found(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello")
    for spec, problem in (
        (tmp_path, "no session store found"),
        (tmp_path / "README.md", "not a session store"),
        (tmp_path / "missing", "no such file or folder"),
    ):
        with pytest.raises(StoreError) as info:
            open_store(spec)
        message = str(info.value)
        assert problem in message and str(spec) in message and "\n" not in message


def test_settings_path_naming_the_database_file(tmp_path: Path) -> None:
    """A ``SESSION_STORE_ARGS`` path may name the .db file itself, as our SQLiteStore allows."""
    settings = (
        "from sessionlens.kedro import SQLiteStore\n"
        "SESSION_STORE_CLASS = SQLiteStore\n"
        'SESSION_STORE_ARGS = {"path": "runs/team.db"}\n'
    )
    project = kedro_project(tmp_path / "p", settings)
    db = kedro_viz_db(project / "runs" / "team.db")
    spec = detect_store(project)
    assert (spec.kind, spec.location) == ("sqlite", str(db))
    created = detect_store(kedro_project(tmp_path / "q", settings), create=True)
    assert created.location == str(tmp_path / "q" / "runs" / "team.db")


@pytest.mark.parametrize(
    "expression",
    [
        "+".join(["1"] * 200_000),  # a long sum: the parser recurses past Python's limit
        "-" * 1_000_000 + "1",  # a deep unary chain: the parser runs out of memory
        'Path("a")' + ' / "b"' * 200_000,  # parses, but evaluating it recursed just as deep
    ],
    ids=["sum", "unary", "division"],
)
def test_a_hostile_kedro_settings_file_is_not_an_internal_error(
    tmp_path: Path, expression: str
) -> None:
    """settings.py is read statically (never run) to find the store; one written to break the
    parser or the evaluator made ``sessionlens list`` in that project exit 70."""
    project = tmp_path / "p"
    (project / "src" / "x").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.kedro]\npackage_name = "x"\n')
    (project / "src" / "x" / "settings.py").write_text(
        f"from pathlib import Path\nx = {expression}\nSESSION_STORE_ARGS = {{'path': x}}\n"
    )
    proc = cli("list", cwd=project)
    assert proc.returncode == 2, proc.stderr
    assert "internal error" not in proc.stderr and "no session store found" in proc.stderr


@pytest.mark.parametrize("command", [["list"], ["run", "--", "true"]])
def test_a_pyproject_nested_too_deep_is_one_line_not_an_internal_error(
    tmp_path: Path, command: list[str]
) -> None:
    """tomllib recurses per nested array: a pyproject.toml of 100,000 of them is as invalid as
    any TOML it cannot read (one line, exit 2), not a RecursionError (exit 70)."""
    (tmp_path / "pyproject.toml").write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    proc = cli(*command, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "internal error" not in proc.stderr
    assert "pyproject.toml" in proc.stderr


def test_a_file_another_process_is_creating_is_an_sqlite_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight writers opening one new store at once: one read the header while the file was
    still empty, and then found it no longer empty ("not a session store", seen under load).
    Empty or SQLite is decided on one read."""
    from sessionlens.stores import open_store, sqlite_files

    path = tmp_path / "shared.db"
    with open_store(path, read_only=False, create=True):
        pass  # now it holds the first page, as if another process had just written it
    real = sqlite_files.read_header
    calls = []

    def empty_the_first_time(target: Any, size: int = 100) -> bytes | None:
        calls.append(target)
        return b"" if len(calls) == 1 else real(target, size)

    monkeypatch.setattr(sqlite_files, "read_header", empty_the_first_time)
    with open_store(str(path), read_only=False, create=True) as store:
        assert store.kind == "sqlite"
