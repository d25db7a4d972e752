"""Find a project's root and read what sessionlens needs from its ``pyproject.toml``.

A project is the folder holding ``pyproject.toml`` (or, without one, the top of the git work
tree). sessionlens reads two tables:

``[tool.sessionlens]``
    ``package_name`` (str), ``run`` (the command a plain ``sessionlens run`` launches: a list of
    strings or one shell-like string) and ``store`` (a store URI or a path relative to the root).
``[tool.kedro]``
    ``package_name``; its presence alone marks a Kedro project, whose default command is
    ``kedro run``.

Only the standard library is imported here: this module is on the ``sessionlens run`` path.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any, NamedTuple

from sessionlens.errors import SessionLensError

PYPROJECT = "pyproject.toml"


class ProjectError(SessionLensError):
    """A project's ``pyproject.toml`` cannot be read or holds a value of the wrong type."""


class ProjectConfig(NamedTuple):
    """What sessionlens knows about a project; every field may be missing. (A NamedTuple: no
    ``dataclasses`` import on the ``run`` path.)"""

    root: Path
    pyproject: Path | None = None
    package_name: str | None = None
    #: ``[tool.sessionlens] run``, as an argv list
    run: tuple[str, ...] | None = None
    #: ``[tool.sessionlens] store``: a URI as written, or a path made absolute against ``root``
    store: str | None = None
    is_kedro: bool = False

    def default_command(self) -> list[str] | None:
        """The command a plain ``sessionlens run`` launches, or None when none is configured."""
        if self.run:
            return list(self.run)
        if self.is_kedro:
            return ["kedro", "run"]
        return None


def find_project_root(start: str | Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: the current one) that holds a
    pyproject.toml or is the top of a git work tree (a project without pyproject.toml)."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PYPROJECT).is_file() or (folder / ".git").exists():
            return folder
    return None


def load_project(path: str | Path | None = None, *, search_parents: bool = True) -> ProjectConfig:
    """Read the project at ``path`` (default: found from the current folder).

    Without a pyproject.toml the project is just the folder, with nothing configured.
    """
    start = Path(path) if path is not None else Path.cwd()
    start = start.resolve()
    root = (find_project_root(start) if search_parents else None) or start
    pyproject = root / PYPROJECT
    if not pyproject.is_file():
        return ProjectConfig(root=root)
    data = _read_toml(pyproject)
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    ours = _table(tool, "sessionlens", pyproject)
    kedro = _table(tool, "kedro", pyproject)
    package = ours.get("package_name", kedro.get("package_name"))
    if package is not None and not isinstance(package, str):
        raise ProjectError(f"{pyproject}: package_name must be a string, not {package!r}")
    return ProjectConfig(
        root=root,
        pyproject=pyproject,
        package_name=package,
        run=_run_command(ours.get("run"), pyproject),
        store=_store_spec(ours.get("store"), root, pyproject),
        is_kedro="kedro" in tool,
    )


def _read_toml(path: Path) -> dict[str, Any]:
    # imported here: a project without pyproject.toml (and ``run``'s other paths) skips ~5 ms
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path}: not valid TOML ({exc})") from None
    except (RecursionError, MemoryError):  # tomllib recurses per nested array or table
        raise ProjectError(f"{path}: not valid TOML (nested too deep to read)") from None
    except OSError as exc:
        raise ProjectError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _table(tool: dict[str, Any], name: str, where: Path) -> dict[str, Any]:
    table = tool.get(name, {})
    if not isinstance(table, dict):
        raise ProjectError(f"{where}: [tool.{name}] must be a table")
    return table


def _run_command(value: Any, where: Path) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise ProjectError(f"{where}: [tool.sessionlens] run: {exc}") from None
    elif isinstance(value, list) and all(isinstance(a, str) for a in value):
        argv = list(value)
    else:
        raise ProjectError(f"{where}: [tool.sessionlens] run must be a list of strings")
    if not argv:
        raise ProjectError(f"{where}: [tool.sessionlens] run is empty")
    return tuple(argv)


def _store_spec(value: Any, root: Path, where: Path) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ProjectError(f"{where}: [tool.sessionlens] store must be a non-empty string")
    if value == "memory:" or "://" in value:
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else root / path)
