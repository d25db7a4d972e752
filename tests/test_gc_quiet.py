"""The collector's freeze during runs: held while any run goes on, released by the last."""

from __future__ import annotations

import gc

from sessionlens.tui import gc_quiet


def test_the_freeze_lasts_while_any_run_holds_it() -> None:
    assert gc.get_freeze_count() == 0
    kept = [[] for _ in range(10)]  # tracked objects that exist when the run starts
    gc_quiet.hold()
    try:
        assert gc.get_freeze_count() >= len(kept)
        gc_quiet.hold()  # a second run
        gc_quiet.release()
        assert gc.get_freeze_count() > 0  # the first still runs
    finally:
        gc_quiet.release()
    assert gc.get_freeze_count() == 0
    gc_quiet.release()  # one release too many (a pane unmounted after its run ended): harmless
    assert gc.get_freeze_count() == 0
