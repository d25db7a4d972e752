"""``sessionlens run``'s options read without argparse, for the timed ``run`` path.

Importing argparse and building the whole command line's parser costs ``sessionlens run -- true``
about 10 ms (DESIGN.md section 6), for a command whose options are five plain ones. This reads
only their plain spellings (``--store S``, ``--store=S``, ``--params``/``--env``/``--rerun-of``
likewise, ``-q``, ``--quiet``, a ``--store`` before ``run``); anything else - ``--help``, a
mistake, an abbreviation, a value that looks like an option, ``run CMD`` without ``--`` - gives
None and argparse reads the line, so help, errors and the rare spellings stay argparse's own.
``tests/test_cli_run_args.py`` checks both parsers agree on every line this one accepts.
"""

from __future__ import annotations

from types import SimpleNamespace

#: option -> (attribute, appends): the options of ``run`` that take a value
_VALUED = {
    "--store": ("store", False),
    "--params": ("params", True),
    "--env": ("env", False),
    "--rerun-of": ("rerun_of", False),
}
_FLAGS = {"-q": "quiet", "--quiet": "quiet"}


def parse_run_args(argv: list[str]) -> SimpleNamespace | None:
    """The namespace argparse would give for ``argv`` (the line before ``--``, which
    ``cli.main`` cuts off), or None when the line is not a plain ``run`` one."""
    values: dict[str, object] = {
        "command": "run",
        "store": None,
        "params": [],
        "env": None,
        "rerun_of": None,
        "quiet": False,
        "cmd": [],
    }
    words = iter(argv)
    top = True
    for word in words:
        if top and word == "run":
            top = False
            continue
        name, eq, value = word.partition("=")
        if name in _VALUED and (not top or name == "--store"):
            if not eq:
                value = next(words, "-")
                if value.startswith("-"):  # missing, or option-like: argparse says what is wrong
                    return None
            attribute, appends = _VALUED[name]
            if appends:
                values[attribute].append(value)  # type: ignore[attr-defined]
            else:
                values[attribute] = value
        elif not top and word in _FLAGS:
            values[_FLAGS[word]] = True
        else:
            return None
    return None if top else SimpleNamespace(**values)
