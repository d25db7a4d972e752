"""A thread that tells the store "this run is alive" every few seconds.

A run whose writer dies leaves a ``running`` record behind. On the writer's own host a dead pid
tells, but not from another host, nor once the pid is reused: there the record's heartbeat going
stale is what shows it ``lost`` (``record.derive_status``). The runner refreshes the heartbeat
from its reader loop; runs without one - a Python callable run in-process, a Kedro pipeline run
with the sessionlens hooks - use this thread. Standard library only (on the ``run`` path).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from sessionlens.record import HEARTBEAT_EVERY_S


class HeartbeatThread:
    """Calls ``beat()`` at once, then every ``every`` seconds until :meth:`stop`.

    A failing beat (a full disk, a locked store) is skipped, never raised: the run goes on, and
    if the store stays unwritable long enough the run shows ``lost``, which is what a reader can
    honestly tell about it.
    """

    def __init__(
        self, beat: Callable[[], None], every: float = HEARTBEAT_EVERY_S, name: str = "heartbeat"
    ) -> None:
        self._beat = beat
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sessionlens-{name}", daemon=True)

    def start(self) -> HeartbeatThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop beating; waits for a beat in progress so none lands after the final record."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # see the class docstring
                self._beat()
            if self._stop.wait(self._every):
                return
