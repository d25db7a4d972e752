"""While a run floods its pane, the garbage collector must not walk the whole app.

A full (generation 2) collection walks every object the collector tracks: with the app's
widgets, styles and caches that took 50-130 ms of the UI thread during a 1M-line flood (seen
with ``gc.callbacks`` in ``benchmarks/bench_run_pane.py``), more than a key press may wait, and
the flood's allocations make such collections come. :func:`hold` moves what exists when a run
starts into the permanent generation (``gc.freeze``), which collections skip; what the run
allocates is collected as usual. When the last holder lets go everything is unfrozen, so
cyclic garbage among the frozen objects is still collected, later, when no flood is on.
"""

from __future__ import annotations

import gc

_holders = 0


def hold() -> None:
    """A run starts: freeze what exists (the first holder only)."""
    global _holders
    if _holders == 0:
        gc.freeze()
    _holders += 1


def release() -> None:
    """A run ended (or its pane went away): unfreeze once no run holds."""
    global _holders
    if _holders == 0:
        return
    _holders -= 1
    if _holders == 0:
        gc.unfreeze()
