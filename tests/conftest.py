"""Shared fixtures: the real Kedro/kedro-viz fixture stores, and a store of every kind.

Others may append fixtures here; keep each one small and documented.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pgserver import pg_database, pg_server, stop_shared  # noqa: F401 - fixtures
from sessionlens.stores import SessionStore, open_store
from storetools import STORE_KINDS, hostile_shelve_store, hostile_sqlite_store, store_location
from torture import long_torture_run

DATA = Path(__file__).parent / "data"
KEDRO_DATA = DATA / "kedro"
SHELVE_FIXTURE = "kedro-0.18.14-shelvestore-dbm-dumb"
SQLITE_FIXTURE = "kedro-0.19.15-kedro-viz-10.2.0-sqlitestore"
#: the fixtures under data/ include Kedro projects with their own (Kedro-importing) tests
collect_ignore = ["data"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The heaviest repetitions (``@pytest.mark.torture(long=True)``: 16 x 100 writers under
    load, a dozen hang-ups in a row) run only in a long torture run: ``-m torture`` or
    ``SESSIONLENS_TORTURE_REPEAT`` set. Each has a small always-on version."""
    if long_torture_run(config):
        return
    skip = pytest.mark.skip(reason="a long torture run only: select it with -m torture")
    for item in items:
        if any(mark.kwargs.get("long") for mark in item.iter_markers("torture")):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def long_torture(request: pytest.FixtureRequest) -> bool:
    """Whether this is a long torture run (``-m torture``): the scale of the always-on
    adversarial tests that repeat a scenario."""
    return long_torture_run(request.config)


@pytest.fixture(scope="session", autouse=True)
def index_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Indexes of stores browsed read-only go to a temp folder, not the user's cache (the
    variable is inherited by every subprocess a test starts)."""
    folder = tmp_path_factory.mktemp("index-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SESSIONLENS_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session", autouse=True)
def stop_postgresql() -> Iterator[None]:
    """Stop the PostgreSQL server some test started (``pgserver``), at the end of the session."""
    yield
    stop_shared()


@pytest.fixture(scope="session")
def kedro_data() -> Path:
    """``tests/data/kedro``: stores written by real kedro 0.18.14 and kedro-viz 10.2.0 runs."""
    return KEDRO_DATA


@pytest.fixture(scope="session")
def kedro_expected() -> dict[str, Any]:
    """``expected.json`` of the Kedro fixtures, keyed by fixture name."""
    data = json.loads((KEDRO_DATA / "expected.json").read_text(encoding="utf-8"))
    return {fixture["name"]: fixture for fixture in data["fixtures"]}


@pytest.fixture
def kedro_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Copy one fixture project folder (dotted ``.viz`` included) into tmp_path, writable."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(KEDRO_DATA / name, target)
        for path in [target, *target.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        return target

    return copy


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def new_store(store_kind: str, tmp_path: Path) -> Iterator[SessionStore]:
    """An empty, writable store of each kind (memory, shelve, sqlite) in turn."""
    store = open_store(store_location(store_kind, tmp_path), read_only=False, create=True)
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "shelve"])
def hostile_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, list[str], dict]:
    """A store holding sessions that cannot be read beside good ones: (store spec, good ids
    oldest first, label -> id of a session that cannot be read)."""
    if request.param == "sqlite":
        good, bad = hostile_sqlite_store(tmp_path / "session_store.db")
        return f"sqlite://{tmp_path / 'session_store.db'}", good, bad
    good, bad = hostile_shelve_store(tmp_path / "sessions")
    return f"shelve://{tmp_path / 'sessions'}", good, bad


@pytest.fixture(autouse=True)
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The app's settings (metric columns, directions) go to a fresh temp folder per test, not
    the user's config dir (inherited by subprocesses too)."""
    folder = tmp_path_factory.mktemp("config")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SESSIONLENS_CONFIG_DIR", str(folder))
        yield folder
