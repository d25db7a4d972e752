"""What every command of the CLI shares: exit codes, ``UsageError``, opening the store to
browse, and the one-line messages on stderr.

Exit codes: 0 ok, 1 (or the child's own code) when a run fails, 2 for bad input with ONE line on
stderr (unknown id, missing store, corrupt or foreign file, bad filter, bad arguments), 130 when
interrupted, 70 for a bug. Standard library only at import: ``sessionlens run`` and ``list
--json`` import this on their timed paths (DESIGN.md section 6).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING, NoReturn

from sessionlens.errors import SessionLensError

if TYPE_CHECKING:
    from sessionlens.stores.base import SessionStore

PROG = "sessionlens"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: An unexpected error inside sessionlens (a bug, not bad input): EX_SOFTWARE.
EXIT_INTERNAL = 70


class UsageError(SessionLensError):
    """Bad command-line arguments."""


def default_store_spec() -> str:
    """Where a read command looks without ``--store``: the current folder when a store is found
    there (e.g. a Kedro project folder with ``sessions/``), else the project it belongs to
    (nearest pyproject.toml or git work tree), in which the usual places are searched."""
    from sessionlens.errors import StoreError
    from sessionlens.project import find_project_root
    from sessionlens.stores import detect_store

    here = os.getcwd()
    try:
        return detect_store(here).location
    except StoreError:
        pass
    return str(find_project_root(here) or here)


def open_read_store(spec: str | None) -> SessionStore:
    """Open a store for browsing (read-only); StoreError with one line when it cannot."""
    from sessionlens.stores import open_store

    store = open_store(spec or default_store_spec(), read_only=True)
    if store.notice:
        error(f"note: {store.notice}")
    return store


def error(message: str) -> None:
    """One line on stderr; store text and what the user typed are shown, never obeyed."""
    from sessionlens.textsafe import safe_text

    line = safe_text(" ".join(message.split()))
    try:
        sys.stderr.write(f"{PROG}: {line}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def exit_now(code: int) -> NoReturn:
    """End the process with ``code`` now, without the interpreter's teardown (freeing every
    module and object costs ``sessionlens run -- true`` about 10 ms). Only for the program itself
    once its work is done: the run's record is saved and its store closed, no thread of ours is
    left, and sessionlens registers no ``atexit`` handler; the standard streams are flushed
    here."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def silence_stdout() -> None:
    """After a broken pipe, point stdout at devnull so the interpreter's final flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
