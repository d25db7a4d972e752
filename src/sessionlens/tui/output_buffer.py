"""Output on its way from a run's reader thread to the UI thread: a lock and a list.

The runner's reader thread calls :meth:`OutputBuffer.feed` with every batch and never waits on
the UI; the UI takes everything on a timer. When the UI falls more than ``limit`` characters
behind (a flood while it is busy), the oldest output is dropped here and only counted: the
whole log is in the store anyway, and a stalled UI must not grow memory. Textual-free.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sessionlens.stores.base import LogChunk

#: characters the buffer holds before it drops the oldest
BUFFER_LIMIT = 8 * 1024 * 1024


class OutputBuffer:
    """Batches of output from the reader thread, taken by the UI thread; bounded."""

    def __init__(self, limit: int = BUFFER_LIMIT) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._chunks: list[LogChunk] = []
        self._chars = 0
        self._skipped_lines = 0
        #: everything ever fed, in characters and newlines (newlines counted by the consumer)
        self.total_chars = 0

    def feed(self, chunks: Iterable[LogChunk]) -> None:
        """The runner's ``on_output``: called on the reader thread, returns at once."""
        with self._lock:
            for chunk in chunks:
                self._chunks.append(chunk)
                self._chars += len(chunk.text)
                self.total_chars += len(chunk.text)
            if self._chars > self.limit:
                self._trim()

    def _trim(self) -> None:
        keep = self.limit // 2
        chunks = self._chunks
        drop = 0
        while drop < len(chunks) - 1 and self._chars - len(chunks[drop].text) >= keep:
            self._chars -= len(chunks[drop].text)
            self._skipped_lines += chunks[drop].text.count("\n")
            drop += 1
        del chunks[:drop]

    def take(self) -> tuple[list[LogChunk], int]:
        """Everything fed since the last call, and how many lines were dropped unseen
        (0 unless the UI fell more than ``limit`` characters behind)."""
        with self._lock:
            chunks, self._chunks, self._chars = self._chunks, [], 0
            skipped, self._skipped_lines = self._skipped_lines, 0
        return chunks, skipped
