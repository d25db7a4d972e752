"""Counts in words, the same everywhere: ``1 key``, ``2 keys``, ``1,204 sessions``."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """``count`` and ``word`` in the singular for one, else ``many`` (default: ``word + s``),
    with thousands separators."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"
