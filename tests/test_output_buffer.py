"""``tui.output_buffer``: output handed from a run's reader thread to the UI, bounded."""

from __future__ import annotations

import threading

from sessionlens.stores.base import LogChunk
from sessionlens.tui.output_buffer import OutputBuffer


def test_output_buffer_is_bounded_and_keeps_the_newest() -> None:
    buffer = OutputBuffer(limit=1000)
    for i in range(500):
        buffer.feed([LogChunk(f"line {i:04d}\n")])
    chunks, skipped = buffer.take()
    text = "".join(c.text for c in chunks)
    assert len(text) <= 1000 and text.endswith("line 0499\n")
    assert skipped + text.count("\n") == 500
    assert buffer.take() == ([], 0)


def test_feeding_from_another_thread_while_taking_loses_and_repeats_nothing() -> None:
    """The reader thread feeds while the UI takes: every line arrives once, in order."""
    buffer = OutputBuffer(limit=10**9)
    lines = [f"line {i}\n" for i in range(20_000)]

    def feed() -> None:
        for start in range(0, len(lines), 100):
            buffer.feed([LogChunk("".join(lines[start : start + 100]))])

    feeder = threading.Thread(target=feed)
    feeder.start()
    taken: list[str] = []
    while feeder.is_alive():
        taken.extend(c.text for c in buffer.take()[0])
    feeder.join()
    taken.extend(c.text for c in buffer.take()[0])
    assert "".join(taken) == "".join(lines)
