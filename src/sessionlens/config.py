"""The user's ``config.toml``: theme, default store, visible columns and key bindings.

It sits beside the app's ``settings.json`` (one folder: ``$SESSIONLENS_CONFIG_DIR``, else the
user config dir). People write this file by hand, so a broken one gives one notice line
(:attr:`UserConfig.problem`) and the defaults, never a crash. Nothing here imports Textual.

Example::

    theme = "textual-light"
    store = "~/projects/demo/.viz/session_store.db"
    columns = ["started", "status", "branch", "command", "user"]

    [keys]                    # binding id = keys, as Textual's keymaps take them
    "sessions.rerun" = "E,ctrl+e"
    "app.quit" = "q,ctrl+q"
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

FILE_NAME = "config.toml"


class UserConfig(NamedTuple):
    theme: str | None = None
    store: str | None = None
    #: column names to show (None: all), in the table's own order
    columns: tuple[str, ...] | None = None
    #: Textual keymap: binding id -> comma-separated keys
    keys: dict[str, str] = {}  # a NamedTuple default, never mutated
    path: Path | None = None
    #: why the file was ignored (one line), else None
    problem: str | None = None


def _toml() -> Any:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib


def load_config(folder: Path | None = None) -> UserConfig:
    """Read ``config.toml`` from ``folder`` (default: the config dir); defaults when it is
    missing, defaults and a ``problem`` when it cannot be read or holds wrong types."""
    from sessionlens.tui.settings import config_dir

    path = (folder or config_dir()) / FILE_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return UserConfig(path=path)
    except (OSError, UnicodeDecodeError) as exc:
        return UserConfig(path=path, problem=f"Ignored {path}: {exc}")
    try:
        data = _toml().loads(text)
    except ModuleNotFoundError:
        return UserConfig(path=path, problem=f"Ignored {path}: install tomli to read it")
    except ValueError as exc:
        return UserConfig(path=path, problem=f"Ignored {path}: {exc}")
    try:
        return _parse(data, path)
    except (TypeError, ValueError) as exc:
        return UserConfig(path=path, problem=f"Ignored {path}: {exc}")


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{key} must be a string")
    return value or None


def _parse(data: dict[str, Any], path: Path) -> UserConfig:
    from sessionlens.tui.widgets.session_columns import COLUMNS

    known = {"theme", "store", "columns", "keys"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})")
    columns = data.get("columns")
    if columns is not None:
        names = {c.name for c in COLUMNS}
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise TypeError("columns must be a list of column names")
        wrong = [c for c in columns if c not in names]
        if wrong:
            raise ValueError(f"no column {wrong[0]!r} (columns: {', '.join(sorted(names))})")
        columns = tuple(columns)
    keys = data.get("keys", {})
    if not isinstance(keys, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in keys.items()
    ):
        raise TypeError('keys must be a table of binding id = "keys"')
    store = _text(data, "store")
    if store and "://" not in store and not store.startswith("memory:"):
        store = str(Path(store).expanduser())
    return UserConfig(_text(data, "theme"), store, columns, dict(keys), path)
