"""Run parameters as people type them: Kedro's ``--params`` syntax, and commands that take them.

``sessionlens run --params``, the app's run form and re-runs all read and write parameters here,
so a session launched from any of them records the same values and passes ``kedro run`` the
same ``--params``. Standard library only (this is on the ``sessionlens run`` path).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sessionlens.errors import SessionLensError


class ParamsError(SessionLensError):
    """``--params`` text that is not ``key=value`` (or ``key:value``) items."""


def parse_param_value(text: str) -> Any:
    """A JSON scalar when the text is one (``3``, ``1.5``, ``true``, ``null``, ``"x"``), else
    the text itself."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return text  # json accepts NaN/Infinity; keep them as the words they are
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return text


def parse_params(text: str) -> dict[str, Any]:
    """Kedro's ``--params`` syntax: ``scale=3,offset=100`` or ``scale:3,offset:100``.

    Items are split on commas, each at its first ``=`` or ``:``; values are JSON scalars where
    possible. Raises ``ParamsError`` with a one-line message.
    """
    params: dict[str, Any] = {}
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        cut = min((i for i in (item.find("="), item.find(":")) if i >= 0), default=-1)
        if cut < 0:
            raise ParamsError(f"--params item {item!r} must look like key=value or key:value")
        key = item[:cut].strip()
        if not key:
            raise ParamsError(f"--params item {item!r} has an empty key")
        params[key] = parse_param_value(item[cut + 1 :].strip())
    return params


def format_params(params: Mapping[str, Any]) -> str:
    """Back to ``--params`` text, as Kedro reads it (``k=v`` items, JSON for non-strings)."""
    return ",".join(
        f"{key}={value if isinstance(value, str) else json.dumps(value)}"
        for key, value in params.items()
    )


def is_kedro_run(argv: Sequence[str]) -> bool:
    return len(argv) >= 2 and Path(argv[0]).name == "kedro" and argv[1] == "run"


def command_with_params(argv: Sequence[str], params: Mapping[str, Any]) -> list[str]:
    """``argv``, plus ``--params`` when it is ``kedro run`` and there are parameters."""
    argv = list(argv)
    if params and is_kedro_run(argv):
        argv += ["--params", format_params(params)]
    return argv
