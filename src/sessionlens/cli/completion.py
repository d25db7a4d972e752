"""Shell completion: ``sessionlens completion bash|zsh|fish`` prints the shell's snippet, and the
snippet calls ``sessionlens`` back with ``_ARGCOMPLETE`` set to ask what can follow the line.

Built on argcomplete (the usual completion of argparse command lines: it knows the quirks of
each shell). Nothing here is imported unless the shell is completing or the ``completion``
command runs: :func:`sessionlens.cli.main.main` looks at ``_ARGCOMPLETE`` before anything else.
Session ids are offered from the store the line names, opened read-only; a store that cannot be
read offers nothing, and nothing is ever written or printed but the completions.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from sessionlens.cli.common import PROG

if TYPE_CHECKING:
    import argparse

#: How many ids are offered at most (newest first): a shell shows no more than a screenful.
MAX_IDS = 200

#: The arguments that take session ids (by ``dest``), whatever the command.
ID_ARGUMENTS = frozenset({"session", "sessions", "left", "right", "rerun_of"})


def cmd_completion(args: argparse.Namespace) -> int:
    """Print the snippet that makes the shell complete ``sessionlens`` lines; the shell is one
    argparse already accepted (``bash``, ``zsh``, ``fish``)."""
    import argcomplete

    sys.stdout.write(argcomplete.shellcode([PROG], shell=args.shell))
    sys.stdout.flush()
    return 0


def answer_and_exit(make_parser: Callable[[], argparse.ArgumentParser]) -> NoReturn:
    """Answer the shell's completion request (``_ARGCOMPLETE`` is set) and end the process.

    argcomplete writes the completions to fd 8 (or ``_ARGCOMPLETE_STDOUT_FILENAME``) and ends
    the process itself; whatever goes wrong before that ends it quietly with code 1 (the shell
    then offers nothing), never with a traceback in the middle of the user's line."""
    try:
        import argcomplete

        parser = make_parser()
        add_id_completers(parser)
        # options when a "-" is typed, not mixed into the ids and commands of a bare Tab
        argcomplete.autocomplete(parser, always_complete_options=False)
    except BaseException:  # a completion must never print anything
        pass
    os._exit(1)


def add_id_completers(parser: argparse.ArgumentParser) -> None:
    """Give every argument of :data:`ID_ARGUMENTS`, in every command, the session id completer
    (argcomplete calls an action's ``completer`` attribute)."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                add_id_completers(sub)
        elif action.dest in ID_ARGUMENTS:
            action.completer = complete_session_ids  # type: ignore[attr-defined]


def complete_session_ids(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    """Ids of the sessions in the store the line names (``--store``, else the default one)
    that start with ``prefix``, newest first; none when the store cannot be read."""
    try:
        spec = getattr(parsed_args, "store", None) or _store_on_line()
        return session_ids(spec, prefix)
    except BaseException:  # unreadable, missing, foreign, interrupted: nothing
        return []


def session_ids(spec: str | None, prefix: str, limit: int = MAX_IDS) -> list[str]:
    """Up to ``limit`` ids starting with ``prefix``, newest first, the store opened read-only
    (``spec`` None: the store the CLI would use in this folder)."""
    from sessionlens.cli.common import default_store_spec
    from sessionlens.query import Query, Term
    from sessionlens.stores import open_store

    if spec and spec.startswith("~"):
        spec = os.path.expanduser(spec)  # the shell expands it when the command runs
    store = open_store(spec or default_store_spec(), read_only=True, tracking=False)
    try:
        if store.needs_index():
            # a big store never browsed: a prefix filter would wait for its index; the newest
            # page needs none (the ids beyond it are not offered)
            summaries = store.list_summaries(Query(), limit=10 * limit)
        else:
            # archived sessions too: ``show``, ``unarchive`` and ``delete`` take their ids
            terms = (Term("archived", "any"),) + ((Term("id", prefix),) if prefix else ())
            summaries = store.list_summaries(Query(terms=terms), limit=limit)
    finally:
        store.close()
    ids = [s.session_id for s in summaries]
    return [i for i in ids if i.startswith(prefix)][:limit]


def _store_on_line() -> str | None:
    """The ``--store`` given on the line being completed (argparse may not have reached it: a
    command whose required arguments are still missing stops early)."""
    from argcomplete import split_line

    line = os.environ.get("COMP_LINE", "")
    point = int(os.environ.get("COMP_POINT", len(line)))
    words = split_line(line, point)[3]
    found = None
    for i, word in enumerate(words):
        if word == "--store" and i + 1 < len(words):
            found = words[i + 1]
        elif word.startswith("--store="):
            found = word[len("--store=") :]
    return found
