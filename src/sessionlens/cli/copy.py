"""``sessionlens copy SRC DST``: copy sessions between two stores (:mod:`sessionlens.copying`).

SRC is opened read-only (a kedro-viz file is never written), DST read-write and created when
missing. Progress goes to stderr only when it is a terminal; the summary line to stdout (or the
``--json`` summary). Sessions that are not copied are named one line each on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TYPE_CHECKING

from sessionlens.cli.common import EXIT_OK, UsageError, error
from sessionlens.copying import CopyResult, copy_sessions

if TYPE_CHECKING:
    from sessionlens.query import Query
    from sessionlens.stores.base import SessionStore


def cmd_copy(args: argparse.Namespace) -> int:
    from sessionlens.query import parse_query
    from sessionlens.stores import detect_store, open_store

    query = parse_query(args.filter) if args.filter else None
    src_spec = detect_store(args.src)
    dst_spec = detect_store(args.dst, create=True)  # names it; nothing is made yet
    for role, spec in (("SRC", src_spec), ("DST", dst_spec)):
        if spec.kind == "memory":
            raise UsageError(
                f"{role} is memory:, which keeps nothing between commands; copy to or from a "
                "memory store through the Python API (sessionlens.copying.copy_sessions)"
            )
    if _same_store(src_spec.location, dst_spec.location):
        raise UsageError(f"SRC and DST are the same store ({src_spec.location}); nothing to do")
    src = open_store(args.src, read_only=True, tracking=False)
    try:
        if src.notice:
            error(f"note: {src.notice}")
        if args.dry_run and not dst_spec.exists:
            dst = None  # nothing there yet: every session would be copied
        else:
            dst = open_store(
                args.dst, read_only=args.dry_run, create=not args.dry_run, tracking=False
            )
        try:
            result = _run(src, dst, query, args)
        finally:
            if dst is not None:
                dst.close()
    finally:
        src.close()
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict()) + "\n")
    else:
        sys.stdout.write(result.line() + "\n")
    sys.stdout.flush()
    return EXIT_OK


def _run(
    src: SessionStore, dst: SessionStore | None, query: Query | None, args: argparse.Namespace
) -> CopyResult:
    bar = _Progress() if sys.stderr.isatty() and not args.quiet else None

    def problem(session_id: str, reason: str) -> None:
        if bar is not None:
            bar.clear()
        error(f"{session_id}: {reason}")

    from sessionlens.stores import open_store

    target = dst if dst is not None else open_store("memory:")  # a dry run writes nowhere
    try:
        return copy_sessions(
            src,
            target,
            query,
            dry_run=args.dry_run,
            progress=bar.show if bar is not None else None,
            problem=problem,
        )
    finally:
        if bar is not None:
            bar.clear()


class _Progress:
    """One line on stderr, redrawn at most ten times a second: done/total, rate, eta."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.shown_at = 0.0

    def show(self, done: int, total: int | None) -> None:
        now = time.perf_counter()
        if now - self.shown_at < 0.1 and done != total:
            return
        self.shown_at = now
        rate = done / (now - self.started) if now > self.started else 0.0
        width = 30
        if total:
            filled = int(width * done / total)
            bar = "#" * filled + "-" * (width - filled)
            left = f", {int((total - done) / rate)} s left" if rate > 0 and done else ""
            text = f"[{bar}] {done:,}/{total:,} sessions ({rate:,.0f}/s{left})"
        else:
            text = f"{done:,} sessions ({rate:,.0f}/s)"
        sys.stderr.write(f"\r{text}\x1b[K")
        sys.stderr.flush()

    def clear(self) -> None:
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()


def _same_store(a: str, b: str) -> bool:
    """Whether two detected locations are one store (paths compared after resolving links)."""
    if "://" in a or "://" in b:
        return a == b
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return a == b
