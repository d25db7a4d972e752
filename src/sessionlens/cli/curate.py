"""``sessionlens archive|unarchive|delete ID...``: tidy a store.

The store is opened read-write for the command only (browsing never writes). Every id is
resolved (a unique prefix is enough, archived sessions included) before anything is written, so
a typo changes nothing. ``delete`` asks on a terminal, naming the sessions; elsewhere it needs
``--yes`` (a script must say so), else one line and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from sessionlens.cli.common import EXIT_OK, UsageError, default_store_spec, error

if TYPE_CHECKING:
    from sessionlens.stores.base import SessionStore


def cmd_archive(args: argparse.Namespace) -> int:
    return _archive(args, archived=True)


def cmd_unarchive(args: argparse.Namespace) -> int:
    return _archive(args, archived=False)


def _archive(args: argparse.Namespace, *, archived: bool) -> int:
    store = _open(args)
    try:
        ids = _resolve(store, args.sessions)
        store.archive(ids, archived=archived)
    finally:
        store.close()
    _say(args, f"{_count(ids)} {'archived' if archived else 'unarchived'}", ids)
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    if not args.yes and not sys.stdin.isatty():
        raise UsageError("delete: not on a terminal, so nothing was deleted; add --yes to delete")
    store = _open(args)
    try:
        ids = _resolve(store, args.sessions)
        if not args.yes and not _confirm(store, ids):
            error("nothing was deleted")
            return EXIT_OK
        store.delete(ids)
    finally:
        store.close()
    _say(args, f"{_count(ids)} deleted", ids)
    return EXIT_OK


def _open(args: argparse.Namespace) -> SessionStore:
    from sessionlens.stores import open_store

    store = open_store(args.store or default_store_spec(), read_only=False, tracking=False)
    if store.notice:
        error(f"note: {store.notice}")
    return store


def _resolve(store: SessionStore, texts: list[str]) -> list[str]:
    from sessionlens.cli.read import resolve_session_id

    return list(dict.fromkeys(resolve_session_id(store, text) for text in texts))


def _confirm(store: SessionStore, ids: list[str]) -> bool:
    """Name the sessions (id, title or command) on stderr, and ask."""
    from sessionlens.textsafe import safe_text

    lines = [f"delete {_count(ids)} for good (record, log, title/notes/bookmark)?"]
    for session_id in ids[:20]:
        summary = store.get_summary(session_id)
        what = summary.title or summary.command or summary.problem or ""
        lines.append(safe_text(f"  {session_id}  {' '.join(what.split())[:60]}"))
    if len(ids) > 20:
        lines.append(f"  ... and {len(ids) - 20} more")
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.write("type y to delete, anything else to keep them: ")
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline()
    except KeyboardInterrupt:
        return False
    return answer.strip().lower() in ("y", "yes")


def _count(ids: list[str]) -> str:
    return f"{len(ids)} session{'' if len(ids) == 1 else 's'}"


def _say(args: argparse.Namespace, what: str, ids: list[str]) -> None:
    if args.quiet:
        return
    from sessionlens.textsafe import safe_text

    shown = " ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
    sys.stdout.write(safe_text(f"{what}: {shown}") + "\n")
    sys.stdout.flush()
