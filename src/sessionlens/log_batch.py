"""A run's log on its way to the store: written in batches, not a write per line.

A child printing a million lines must not cost a million store writes, and a crash must not
lose more than about a second of log. So output waits here until a second has passed since the
last write or 64 KiB are waiting, then goes to the store as one append per stretch of one
stream. The runner (a child's output) and the Kedro hooks (a pipeline's log records) both batch
through this class. Not thread-safe: each user calls it from one thread or under its own lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: write at least this often while output waits...
FLUSH_INTERVAL_S = 1.0
#: ...and as soon as this many characters wait
FLUSH_BYTES = 64 * 1024


class LogBatch:
    """Text waiting to be appended to a session's log, in the order it came."""

    def __init__(
        self,
        interval: float = FLUSH_INTERVAL_S,
        limit: int = FLUSH_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.limit = limit
        self._clock = clock
        self._pieces: list[tuple[str, str]] = []
        self._size = 0
        self._last_write = clock()

    @property
    def waiting(self) -> bool:
        return bool(self._pieces)

    def deadline(self) -> float:
        """When waiting text must be written at the latest (on the ``clock``)."""
        return self._last_write + self.interval

    def add(self, stream: str, text: str) -> None:
        if text:
            self._pieces.append((stream, text))
            self._size += len(text)

    def due(self, now: float | None = None) -> bool:
        """Whether to write now: a second since the last write, or 64 KiB waiting. With
        nothing waiting the interval starts again, so the next output is written whole."""
        now = self._clock() if now is None else now
        if not self._pieces:
            self._last_write = now
            return False
        return self._size >= self.limit or now - self._last_write >= self.interval

    def take(self) -> list[tuple[str, str]]:
        """What waits, as ``(stream, text)`` appends: adjacent pieces of one stream joined."""
        pieces, self._pieces, self._size = self._pieces, [], 0
        self._last_write = self._clock()
        appends: list[tuple[str, list[str]]] = []
        for stream, text in pieces:
            if appends and appends[-1][0] == stream:
                appends[-1][1].append(text)
            else:
                appends.append((stream, [text]))
        return [(stream, "".join(texts)) for stream, texts in appends]
