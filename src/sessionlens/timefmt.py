"""Times as people read them, for the CLI and the app alike: ISO 8601 text from records in,
``2026-11-25 09:44:11`` (local time) and ``3m ago`` out.

Records hold UTC times as ISO 8601 text (``run.started_at``); the session id tells the start of
a record without one. Nothing here imports Rich or Textual.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo

#: How a moment is written for people: to the second, local time.
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _parse_iso(value: str) -> datetime | None:
    """``value`` as a datetime, aware when it names a zone (``Z`` too); None when unreadable."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (naive means UTC), or None."""
    if not value:
        return None
    moment = _parse_iso(value)
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def absolute_time(moment: datetime | None, tz: tzinfo | None = None) -> str:
    """``2026-11-25 09:44:11`` in ``tz`` (local time when None)."""
    if moment is None:
        return ""
    return moment.astimezone(tz).strftime(TIME_FORMAT)


def local_time(value: str | None) -> str:
    """An ISO time from a record as local ``YYYY-MM-DD HH:MM:SS`` ('' for None); one without a
    zone is shown as written, and text that is no time as it is (print it as a store value)."""
    if not value:
        return ""
    moment = _parse_iso(value)
    if moment is None:
        return value
    return absolute_time(moment) if moment.tzinfo is not None else moment.strftime(TIME_FORMAT)


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
