"""Turning store values into text that is shown literally, and the app's clock.

Store values come from other people's projects: a branch called ``[bold]x[/]`` or a log line with
terminal escape codes must appear as the characters it is. So every value goes into a
``rich.text.Text`` (never a markup string), and control characters, C1 and bidi controls are
shown by :func:`sessionlens.textsafe.safe_text`. The time formats are :mod:`sessionlens.timefmt`'s
(shared with the CLI). Nothing here imports Textual.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Any

from rich.text import Text

from sessionlens.textsafe import safe_text


def visible(value: str, *, keep_newlines: bool = False, tab_size: int = 4) -> str:
    """``value`` with tabs expanded (a cell is a cell) and everything else made safe."""
    if "\t" in value:
        value = value.expandtabs(tab_size)
    return safe_text(value, keep_newlines=keep_newlines)


def literal(value: Any, style: str = "", *, keep_newlines: bool = False) -> Text:
    """A ``Text`` holding ``value`` exactly as stored (``None`` becomes an empty text)."""
    if value is None:
        return Text("", style=style)
    return Text(visible(str(value), keep_newlines=keep_newlines), style=style)


def short(value: str, width: int) -> str:
    """``value`` cut to ``width`` cells with an ellipsis when it does not fit."""
    if len(value) <= width:
        return value
    return value[: max(0, width - 1)] + "\u2026"


class Clock:
    """The app's idea of now and of the local time zone; tests freeze both for snapshots."""

    def __init__(self, frozen: datetime | None = None, tz: tzinfo | None = None) -> None:
        self.frozen = frozen
        self.tz = tz

    def now(self) -> datetime:
        return self.frozen or datetime.now(timezone.utc)
