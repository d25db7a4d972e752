"""``sessionlens run`` without argparse: the plain lines read exactly as argparse reads them, and
every other line is left to argparse (so its help and errors stay the same)."""

from __future__ import annotations

import pytest

from sessionlens.cli.main import _split_run_command, build_parser
from sessionlens.cli.run_args import parse_run_args

PLAIN = [
    "run",
    "run -q",
    "run --quiet",
    "run --store s.db",
    "run --store=s.db",
    "run --store=",
    "--store top.db run",
    "--store=top.db run",
    "--store top.db run --store sub.db",
    "--store run run",
    "run --params a=1 --params b=2,c=3 -q",
    "run --params=a=1",
    "run --env prod --rerun-of 2025-01-01T00.00.00.000Z",
    "run --env=prod --rerun-of=x -q --store s.db",
    "run --store a.db --store b.db",
    "run -q -- true",
    "run --store s.db -- python main.py --store x -q",
    "run -- sessionlens run --help",
]

LEFT_TO_ARGPARSE = [
    "",
    "--help",
    "--version",
    "list",
    "run --help",
    "run -h",
    "run true",
    "run python main.py",
    "run --sto s.db",
    "run --store",
    "run --store -q",
    "run --params -1",
    "run -qq",
    "run --quiet=yes",
    "run --bogus",
    "--env x run",
    "-q run",
    "run run",
    "run --store s.db true -- x",
    "show run",
]


def _argparse(line: str) -> dict[str, object]:
    parse_argv, command = _split_run_command(line.split())
    args = build_parser().parse_args(parse_argv)
    if command is not None:
        args.cmd = command
    return vars(args)


@pytest.mark.parametrize("line", PLAIN)
def test_a_plain_run_line_reads_as_argparse_reads_it(line: str) -> None:
    parse_argv, command = _split_run_command(line.split())
    fast = parse_run_args(parse_argv)
    assert fast is not None
    if command is not None:
        fast.cmd = command
    assert vars(fast) == _argparse(line)


@pytest.mark.parametrize("line", LEFT_TO_ARGPARSE)
def test_any_other_line_is_left_to_argparse(line: str) -> None:
    parse_argv, _ = _split_run_command(line.split())
    assert parse_run_args(parse_argv) is None
