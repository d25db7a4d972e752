"""Turning store values into text that is shown literally, and the time formats of the app.

Store values come from other people's projects: a branch called ``[bold]x[/]`` or a log line with
terminal escape codes must appear as the characters it is. So every value goes into a
``rich.text.Text`` (never a markup string), and control characters, C1 and bidi controls are
shown by :func:`sessionlens.textsafe.safe_text`. Nothing here imports Textual.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Any

from rich.text import Text

from sessionlens.record import format_duration  # noqa: F401 - re-exported for widgets
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


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (naive means UTC), or None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


_UNITS = (
    (60, "s", 1),
    (3600, "m", 60),
    (86400, "h", 3600),
    (86400 * 14, "d", 86400),
    (86400 * 60, "w", 86400 * 7),
    (86400 * 365, "mo", 86400 * 30),
)


def relative_time(moment: datetime | None, now: datetime) -> str:
    """``5s ago``, ``3m ago``, ``2h ago``, ``4d ago``, ``5mo ago``; ``in 3m`` for the future."""
    if moment is None:
        return ""
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 5:
        return "just now"
    amount, unit = int(seconds // (86400 * 365)), "y"
    for limit, name, size in _UNITS:
        if seconds < limit:
            amount, unit = int(seconds // size), name
            break
    return f"in {amount}{unit}" if future else f"{amount}{unit} ago"


def absolute_time(moment: datetime | None, tz: tzinfo | None = None) -> str:
    """``2026-11-25 09:44:11`` in ``tz`` (local time when None)."""
    if moment is None:
        return ""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


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
