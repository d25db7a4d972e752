"""``kedro sessions``: the sessionlens app and CLI on a Kedro project's own session store.

Registered through the ``kedro.project_commands`` entry point, so it exists in every Kedro
project of an environment where ``sessionlens[kedro]`` is installed. Kedro has already
bootstrapped the project when a project command runs, so the store is read from the project's
real settings (``SESSION_STORE_CLASS``/``SESSION_STORE_ARGS``), not guessed.

    kedro sessions                 # the app on this project's sessions
    kedro sessions list --json     # any sessionlens command, on this project's store
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

#: Kedro's own store classes and where they keep their sessions (``path`` is a folder).
_KEDRO_STORE_LAYOUTS = {
    "kedro.framework.session.shelvestore.ShelveStore": ("shelve", ""),
    "kedro.framework.session.store.ShelveStore": ("shelve", ""),
    "kedro_viz.integrations.kedro.sqlite_store.SQLiteStore": ("sqlite", "session_store.db"),
}


def store_spec_from_settings(
    store_class: type, store_args: Mapping[str, Any], project_path: str | Path
) -> str | None:
    """The sessionlens ``--store`` for a project's session store settings, or None when the
    class keeps nothing on disk that sessionlens knows (Kedro's default ``BaseSessionStore``)."""
    from sessionlens.kedro.store import KedroSessionStore, absolute_setting

    path = store_args.get("path")
    path = None if path is None else str(path)
    if isinstance(store_class, type) and issubclass(store_class, KedroSessionStore):
        return store_class.store_spec(path, project_path)
    for klass in getattr(store_class, "__mro__", ()):
        layout = _KEDRO_STORE_LAYOUTS.get(f"{klass.__module__}.{klass.__qualname__}")
        if layout is not None:
            kind, file_name = layout
            base = absolute_setting(path if path is not None else "sessions", project_path)
            return f"{kind}://{base / file_name if file_name else base}"
    return None


def project_store_spec(project_path: Path) -> str:
    """The store of the bootstrapped project: from its settings, else the project folder, in
    which ``sessionlens`` looks for a store in Kedro's default places."""
    from kedro.framework.project import settings

    spec = store_spec_from_settings(
        settings.SESSION_STORE_CLASS, dict(settings.SESSION_STORE_ARGS), project_path
    )
    return spec or str(project_path)


def sessionlens_argv(store: str, args: Sequence[str]) -> list[str]:
    """The ``sessionlens`` command line for ``kedro sessions ARGS``, on ``store``."""
    return ["--store", store, *args]


def logs_to_stderr() -> None:
    """Point the console log handlers Kedro configured (a Rich handler, or a ``StreamHandler``
    on stdout) at stderr, so whatever Kedro, the project or a store logs while a ``kedro
    sessions`` command runs never mixes with its output (``list --json`` is piped to ``jq``).

    Kedro 1.x logs "Using ... as logging configuration" while ``kedro`` itself is imported,
    before any plugin is loaded: that one line only ``KEDRO_LOGGING_CONFIG`` can move (see
    :data:`STDERR_LOGGING`)."""
    import logging

    seen: set[int] = set()
    for logger in (logging.getLogger(), *_configured_loggers()):
        for handler in logger.handlers:
            if id(handler) in seen:
                continue
            seen.add(id(handler))
            console = getattr(handler, "console", None)
            if console is not None and getattr(console, "file", None) in (sys.stdout, None):
                console.file = sys.stderr  # rich's Console (Kedro's RichHandler)
            elif isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
                handler.setStream(sys.stderr)


def _configured_loggers() -> list[Any]:
    import logging

    manager = logging.Logger.manager
    return [v for v in list(manager.loggerDict.values()) if isinstance(v, logging.Logger)]


#: a Kedro logging configuration that logs to stderr: ``KEDRO_LOGGING_CONFIG`` set to this file
#: moves even the line Kedro logs before any plugin is loaded
STDERR_LOGGING = Path(__file__).with_name("stderr_logging.yml")


@click.group(name="sessionlens")
def commands() -> None:
    """sessionlens commands for a Kedro project."""


@commands.command(
    name="sessions",
    short_help="Browse, compare and re-run this project's sessions (sessionlens).",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def sessions(metadata: Any, args: tuple[str, ...]) -> None:
    """The sessionlens app on this project's session store; with arguments, any sessionlens
    command on it (`kedro sessions list --json`, `kedro sessions --help`)."""
    from sessionlens.cli.main import main

    logs_to_stderr()
    project_path = Path(getattr(metadata, "project_path", None) or Path.cwd())
    code = main(sessionlens_argv(project_store_spec(project_path), args), prog="kedro sessions")
    raise SystemExit(code or 0)
