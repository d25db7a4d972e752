"""One way to report a failed worker: a notice with a one-line message, never a crash.

Workers run with ``exit_on_error=False`` (harlequin's pattern), so a store that fails mid-browse
leaves the app usable. ``Worker.StateChanged`` does not bubble, hence a mixin for each node.
"""

from __future__ import annotations

from textual.worker import Worker, WorkerState

from sessionlens.errors import SessionLensError


def error_message(error: BaseException) -> str:
    """What a person reads: our errors as written, others with their type, on one line."""
    text = str(error) if isinstance(error, SessionLensError) else f"{type(error).__name__}: {error}"
    return " ".join(text.split())


class ReportsWorkerErrors:
    """Mixin for widgets and screens that start workers."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            node = event.worker.node
            app = getattr(node, "app", None)
            if app is not None:
                app.notify(error_message(event.worker.error), severity="error", markup=False)
