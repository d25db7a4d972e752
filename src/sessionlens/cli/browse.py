"""``sessionlens [--store S]`` without a command: the app on the store, or the session table when
the app is not installed."""

from __future__ import annotations

import argparse

from sessionlens.cli.common import open_read_store


def cmd_browse(args: argparse.Namespace) -> int:
    return open_app(args.store)


def open_app(spec: str | None) -> int:
    """The app on the store ``spec`` names (the project's when None), opened read-only."""
    import importlib.util

    from sessionlens.config import load_config

    config = load_config()
    if spec is None and config.store:
        from sessionlens.project import find_project_root

        if find_project_root() is None:  # outside any project: config.toml's store
            spec = config.store
    store = open_read_store(spec)
    try:
        if importlib.util.find_spec("sessionlens.tui.app") is not None:
            from sessionlens.tui.app import run_app

            return int(run_app(store, config=config) or 0)
        from sessionlens.cli import read

        return read.print_list(store, read.list_query("", "started", False), limit=50)
    finally:
        store.close()
