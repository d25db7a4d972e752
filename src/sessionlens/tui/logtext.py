"""A log held as one string plus an index of line starts: toolong's idea, without Textual.

A 100 MB log is a million lines; a widget that makes an object per line (``Log``, ``RichLog``)
spends seconds and hundreds of MiB on it. Here the text stays one string and the index is an
``array`` of offsets built at C speed, so showing a screenful and searching cost the same for
a 1 KB and a 100 MB log.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

_NEWLINE = re.compile("\n")
_BACKWARD_CHUNK = 1 << 20
_SLICE = 1 << 15


@dataclass(frozen=True)
class Match:
    """A search hit: line number, column (in characters) and length."""

    line: int
    column: int
    length: int


class LogText:
    """Lines of a log by number, and search over the whole text."""

    def __init__(self, text: str) -> None:
        self.text = text
        offsets = array("q", [0])
        offsets.extend(m.end() for m in _NEWLINE.finditer(text))
        if text.endswith("\n"):  # a final newline ends the last line, it starts none
            offsets.pop()
        #: start offset of every line
        self.offsets = offsets
        if not text:
            self.offsets = array("q")
        self.longest = self._longest_line()
        self._hits: tuple[str, array] | None = None  # (needle, start of every hit)

    def _longest_line(self) -> int:
        """Length of the longest line, in slices: this runs in a worker, and one C-level pass
        over a million offsets would hold the GIL long enough to stall the UI thread."""
        offsets, size = self.offsets, len(self.offsets)
        end_of_text = len(self.text) + (0 if self.text.endswith("\n") else 1)
        longest = 1
        for start in range(0, size, _SLICE):
            starts = offsets[start : start + _SLICE]
            ends = offsets[start + 1 : start + _SLICE + 1]
            if len(ends) < len(starts):
                ends.append(end_of_text)
            longest = max(longest, max(map(int.__sub__, ends, starts)))
        return longest - 1

    def __len__(self) -> int:
        return len(self.offsets)

    def line(self, number: int) -> str:
        """Line ``number`` (0-based) without its line ending."""
        start = self.offsets[number]
        if number + 1 < len(self.offsets):
            end = self.offsets[number + 1] - 1
        else:
            end = len(self.text) - (1 if self.text.endswith("\n") else 0)
        if end > start and self.text[end - 1] == "\r":
            end -= 1
        return self.text[start:end]

    def line_of(self, offset: int) -> int:
        return max(0, bisect_right(self.offsets, offset) - 1)

    def _pattern(self, needle: str) -> re.Pattern[str]:
        # smart case: all lower case searches ignore case
        flags = re.IGNORECASE if needle == needle.lower() else 0
        return re.compile(re.escape(needle), flags)

    def _match_at(self, start: int, length: int) -> Match:
        line = self.line_of(start)
        return Match(line, start - self.offsets[line], length)

    def offset_of(self, line: int, column: int = 0) -> int:
        if not len(self.offsets):
            return 0
        line = min(max(line, 0), len(self.offsets) - 1)
        return self.offsets[line] + column

    def search(self, needle: str, line: int = 0, column: int = -1) -> Match | None:
        """The first hit after (line, column), wrapping to the top; None when there is none."""
        if not needle or not self.text:
            return None
        pattern = self._pattern(needle)
        start = self.offset_of(line, column + 1)
        found = pattern.search(self.text, start) or pattern.search(self.text, 0)
        return self._match_at(found.start(), found.end() - found.start()) if found else None

    def rank(self, needle: str, match: Match) -> tuple[int, int]:
        """(which hit ``match`` is, from 1; how many hits there are): "hit 3 of 17". Every hit
        is found once per needle (a worker's job: a pass over the whole text)."""
        if self._hits is None or self._hits[0] != needle:
            starts = array("q", (m.start() for m in self._pattern(needle).finditer(self.text)))
            self._hits = (needle, starts)
        starts = self._hits[1]
        return bisect_left(starts, self.offset_of(match.line, match.column)) + 1, len(starts)

    def search_backward(self, needle: str, line: int, column: int = 0) -> Match | None:
        """The last hit before (line, column), wrapping to the bottom."""
        if not needle or not self.text:
            return None
        pattern = self._pattern(needle)
        before = self.offset_of(line, column)
        hit = self._last_before(pattern, before, len(needle))
        if hit is None:
            hit = self._last_before(pattern, len(self.text), len(needle))
        return self._match_at(*hit) if hit else None

    def _last_before(
        self, pattern: re.Pattern[str], end: int, width: int
    ) -> tuple[int, int] | None:
        """Scan backwards in 1 MiB windows so a search near the end of a big log stays fast."""
        while end > 0:
            begin = max(0, end - _BACKWARD_CHUNK)
            last = None
            for last in pattern.finditer(self.text, begin, end):  # noqa: B007
                pass
            if last is not None:
                return last.start(), last.end() - last.start()
            if begin == 0:
                return None
            end = begin + width - 1  # overlap so a hit across the window edge is found
        return None
