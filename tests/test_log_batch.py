"""``log_batch.LogBatch``: a run's log goes to the store in batches, on a clock it is given."""

from __future__ import annotations

from sessionlens.log_batch import LogBatch


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_due_after_the_interval_or_the_size_and_never_when_empty() -> None:
    clock = Clock()
    batch = LogBatch(interval=1.0, limit=10, clock=clock)
    assert not batch.due() and not batch.waiting
    batch.add("stdout", "abc")
    assert not batch.due()  # neither a second nor 10 characters yet
    clock.now += 1.0
    assert batch.due()
    batch.take()
    batch.add("stdout", "0123456789")  # the size alone
    assert batch.due()


def test_an_idle_stretch_does_not_make_the_next_output_due_at_once() -> None:
    """While nothing waits the interval starts again (the runner asks every loop), so output
    after a long quiet spell is batched for a second like any other."""
    clock = Clock()
    batch = LogBatch(interval=1.0, limit=10**6, clock=clock)
    clock.now += 30
    assert not batch.due()
    batch.add("stdout", "x\n")
    assert not batch.due()
    assert batch.deadline() == clock.now + 1.0


def test_take_joins_adjacent_pieces_of_one_stream_in_order() -> None:
    batch = LogBatch()
    for stream, text in [("stdout", "a"), ("stdout", "b"), ("stderr", "c"), ("stdout", "d")]:
        batch.add(stream, text)
    batch.add("stdout", "")  # nothing to write
    assert batch.take() == [("stdout", "ab"), ("stderr", "c"), ("stdout", "d")]
    assert batch.take() == [] and not batch.waiting
