"""config.toml: theme, default store, visible columns and key bindings (Textual keymaps); a
broken file is one notice and the defaults, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionlens.config import load_config
from sessionlens.tui.screens.sessions import SessionsScreen
from tui_support import app_test, fill, loaded, make_app, make_backend, table_lines, wait_for

GOOD = """
theme = "textual-light"
store = "~/somewhere/session_store.db"
columns = ["started", "status", "user"]

[keys]
"sessions.rerun" = "E"
"""


def test_a_good_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(GOOD)
    config = load_config(tmp_path)
    assert config.problem is None
    assert config.theme == "textual-light"
    assert config.store == str(Path.home() / "somewhere" / "session_store.db")
    assert config.columns == ("started", "status", "user")
    assert config.keys == {"sessions.rerun": "E"}


def test_a_missing_file_is_the_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.problem is None and config.theme is None and config.keys == {}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("theme = ", "Ignored"),
        ("colour = 1", "unknown setting 'colour'"),
        ('columns = ["nope"]', "no column 'nope'"),
        ("theme = 3", "theme must be a string"),
        ("keys = 1", "keys must be a table"),
    ],
)
def test_a_broken_file_is_one_line_and_defaults(tmp_path: Path, text: str, why: str) -> None:
    (tmp_path / "config.toml").write_text(text)
    config = load_config(tmp_path)
    assert config.problem is not None and why in config.problem
    assert "\n" not in config.problem
    assert config.theme is None and config.columns is None


def test_the_folder_is_the_settings_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSIONLENS_CONFIG_DIR", str(tmp_path))
    (tmp_path / "config.toml").write_text('theme = "textual-light"\n')
    assert load_config().path == tmp_path / "config.toml"


@app_test
async def test_the_app_applies_theme_columns_and_keys(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(GOOD)
    backend = make_backend("memory", tmp_path)
    fill(backend, 3)
    app = make_app(backend.open(), poll_interval=60, config=load_config(tmp_path))
    async with app.run_test(size=(150, 40)) as pilot:
        await loaded(pilot)
        assert app.theme == "textual-light"
        header = table_lines(app)[0]
        assert "Status" in header and "User" in header and "Branch" not in header
        launched: list[str] = []
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        screen.action_rerun = lambda: launched.append("rerun")  # type: ignore[method-assign]
        await pilot.press("e")
        await pilot.press("E")
        await wait_for(pilot, lambda: launched == ["rerun"])


@app_test
async def test_a_broken_config_is_a_notice_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('theme = "no-such-theme"\n')
    backend = make_backend("memory", tmp_path)
    fill(backend, 2)
    app = make_app(backend.open(), poll_interval=60, config=load_config(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert any("no theme 'no-such-theme'" in n.message for n in app._notifications)
