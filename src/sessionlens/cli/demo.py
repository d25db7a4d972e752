"""``sessionlens demo [--dir D] [--no-open] [--rebuild]``: build the demo project, then open it."""

from __future__ import annotations

import argparse
import sys

from sessionlens.cli.browse import open_app
from sessionlens.cli.common import PROG
from sessionlens.wording import plural


def cmd_demo(args: argparse.Namespace) -> int:
    from sessionlens.demo import build_demo
    from sessionlens.textsafe import safe_text

    def say(text: str) -> None:
        sys.stderr.write(f"{safe_text(text)}\n")
        sys.stderr.flush()

    demo = build_demo(args.dir, rebuild=args.rebuild, progress=say)
    state = "reusing" if demo.reused else "built"
    say(f"{PROG}: {state} demo project {demo.path} ({plural(demo.sessions, 'session')})")
    say(f"{PROG}: try: cd {demo.path} && {PROG} list")
    if args.no_open:
        return 0
    return open_app(demo.store)
