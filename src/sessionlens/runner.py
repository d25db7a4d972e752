"""Run a command as a session's child process: stream its output, log it, record how it ended.

:class:`RunningSession` is a plain class with no terminal assumptions; the CLI (``sessionlens
run``) and the app's run pane are two consumers of it. Typical use::

    session = Session.create(project_path, store, cli=cli_info, rerun_of=previous_id)
    running = session.start(argv, on_output=show)   # or RunningSession(session, argv, ...).start()
    ...                                              # show(chunks) is called as output arrives
    running.interrupt()                              # optional: ctrl+c (call again to escalate)
    record = running.wait()                          # the saved record, ``run.status`` final
    session.close()

:func:`launch` does all of ``sessionlens run`` in one call (project command, parameters, git,
new session, start; the runner closes the session when the run ends) and is what a UI should
use; :func:`rerun_request` turns a stored record back into the command and parameters to run it
again (in a new session, ``rerun_of`` set)::

    running = launch(params={"scale": 3}, store=writable_store, on_output=show,
                     on_finish=lambda r: notify(r.status))

What it guarantees:

* The record is saved with ``run.status = "running"`` **before** the child starts, so a browser
  sees the run at once and a crash of this process leaves a ``running`` record whose pid is dead
  (shown as interrupted).
* Output: one reader thread reads both pipes in chunks of up to 64 KiB with ``os.read`` (never
  line by line; a flood of a million lines costs a few hundred reads). Every read batch is handed
  to ``on_output(list[LogChunk])`` at once (decoded as UTF-8, split multibyte characters kept
  whole), or queued for :meth:`RunningSession.iter_output` with ``queue_output=True``; the same
  output as raw bytes goes to ``on_bytes`` (the terminal copy, unchanged). Callbacks run on the
  reader thread: a UI hands the batch to its own thread
  (``App.call_from_thread``); a slow callback slows the reader, never loses output.
* Log: the same text goes to ``store.append_log(session_id, text, stream)`` in batches, at least
  once per ``flush_interval`` (1 s) and whenever ``flush_bytes`` (64 KiB) are pending, so a crash
  loses at most about a second of log. Adjacent pieces of one stream are joined into one append.
* Heartbeat: ``store.heartbeat(session_id)`` once the child runs and then at least every
  ``heartbeat_every`` seconds (``record.HEARTBEAT_EVERY_S``) even when it prints nothing; each
  log append counts as one. A run whose runner vanished shows ``lost`` once it goes stale.
* Interrupt: ``interrupt()`` sends SIGINT to the child's process group (the child runs in its own
  session, so grandchildren are reached too), then SIGTERM after ``grace_period`` and SIGKILL
  after ``kill_after`` more seconds if it is still alive; each further ``interrupt()`` call
  escalates at once. The run is recorded ``interrupted`` and what is left of the group is killed.
* Nothing outlives its owner: a :class:`~sessionlens.watchdog.Watchdog` (a tiny ``sh``) kills
  the child's process group when this process dies without ending the run (SIGKILL included);
  a run that ended normally disarms it, so daemons a child leaves on purpose are left alone.
* The child's environment gets ``SESSIONLENS_SESSION_ID``, ``SESSIONLENS_PARAMS`` (the session's
  parameters as JSON), ``SESSIONLENS_STORE`` (the store's location) and
  ``PYTHONUNBUFFERED=1`` (unless set) so Python children stream live through the pipe.
* A command that cannot start is recorded ``failed`` with exit code 127 (not found) or 126
  (not executable) and the OS error as the session's ``exception``.
* The final record is what happened, even on a full disk: the pending log is written first and
  alone (it is the big write), a refused record is tried again for ``FINAL_SAVE_RETRY_S``, and if
  it never lands :attr:`RunningSession.error` says why while ``status``/``exit_code`` stay true.

All store writes of a run happen on the reader thread, in order: running record, log batches,
final record. Only the standard library is imported here (this is the ``sessionlens run`` path).
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sessionlens.errors import SessionError, SessionLensError
from sessionlens.log_batch import FLUSH_BYTES, FLUSH_INTERVAL_S, LogBatch
from sessionlens.record import HEARTBEAT_EVERY_S, Record, params_of
from sessionlens.stores.base import LogChunk
from sessionlens.watchdog import TOKEN_VARIABLE, Watchdog

if TYPE_CHECKING:
    import queue

    from sessionlens.session import Session

#: Called on the reader thread with each batch of output, in order.
OutputCallback = Callable[[list[LogChunk]], None]
#: Called on the reader thread with each batch of output as the child wrote it: raw bytes, in
#: order, as ``(stream, data)`` pairs (a terminal copy must not decode and re-encode).
BytesCallback = Callable[[list[tuple[str, bytes]]], None]
#: Called on the reader thread once the run has ended and its record is saved.
FinishCallback = Callable[["RunningSession"], None]

READ_SIZE = 64 * 1024
GRACE_PERIOD_S = 5.0
KILL_AFTER_S = 5.0
#: After the child exits, how long to keep reading pipes a grandchild may still hold open.
DRAIN_IDLE_S = 0.25
#: How often the reader looks at the child while its pipes stay open.
POLL_S = 0.1
#: A final record the store refused (a full disk) is tried again for this long.
FINAL_SAVE_RETRY_S = 2.0

#: How long an interrupted run waits for its SIGKILLed process group to be gone (zombies that
#: nobody reaps keep answering: bounded).
GROUP_GONE_S = 1.0
_ESCALATION = (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM))
#: Children that die of these were stopped from outside (a person, ``kill -9``, the app, the OOM
#: killer): the run is ``interrupted``. Other signals (SIGSEGV, SIGABRT...) are crashes: ``failed``.
_INTERRUPT_SIGNALS = {
    signal.SIGINT,
    signal.SIGTERM,
    *(getattr(signal, name) for name in ("SIGKILL", "SIGHUP") if hasattr(signal, name)),
}


# -- terminal consumer ----------------------------------------------------------------------
class ReaderGone(BrokenPipeError):
    """The reader of the terminal copy of ``streams`` left (``sessionlens run -- CMD | head``):
    the runner closes the child's end of those pipes, so the child ends as it would have
    without sessionlens between (SIGPIPE on its next write), instead of writing for ever."""

    def __init__(self, streams: Sequence[str]) -> None:
        super().__init__(errno.EPIPE, f"the reader of {' and '.join(streams)} left")
        self.streams = tuple(streams)


def echo_to_terminal(chunks: list[tuple[str, bytes]]) -> None:
    """Write a batch to this process's stdout/stderr byte for byte as the child wrote it (the
    CLI's ``on_bytes``): ``sessionlens run -- CMD > f`` gives the same ``f`` as ``CMD > f``,
    binary output included. Only the stored log is decoded text. A stream whose reader left
    raises :class:`ReaderGone` once the others are written."""
    gone: list[str] = []
    for stream_name, data in chunks:
        if stream_name in gone:
            continue
        stream = sys.stderr if stream_name == "stderr" else sys.stdout
        target: IO[Any] = getattr(stream, "buffer", None) or stream
        try:
            # a text-only stream (tests, notebooks) takes text: that is all it can show
            target.write(data if target is not stream else data.decode("utf-8", "replace"))
            target.flush()
        except BrokenPipeError:
            gone.append(stream_name)
    if gone:
        raise ReaderGone(gone)


# -- the running session --------------------------------------------------------------------
class RunningSession:
    """A child process run inside a :class:`~sessionlens.session.Session` (module docstring)."""

    def __init__(
        self,
        session: Session,
        argv: Sequence[str],
        *,
        on_output: OutputCallback | None = None,
        on_bytes: BytesCallback | None = None,
        on_finish: FinishCallback | None = None,
        queue_output: bool = False,
        close_session: bool = False,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        stdin: int | IO[Any] | None = subprocess.DEVNULL,
        flush_interval: float = FLUSH_INTERVAL_S,
        flush_bytes: int = FLUSH_BYTES,
        grace_period: float = GRACE_PERIOD_S,
        kill_after: float = KILL_AFTER_S,
        heartbeat_every: float = HEARTBEAT_EVERY_S,
    ) -> None:
        if isinstance(argv, str | bytes) or not argv:
            raise SessionError("a run needs a command: a non-empty list of arguments")
        self.session = session
        self.argv = [str(a) for a in argv]
        self.cwd = Path(cwd) if cwd is not None else session.project.root
        self.stdin = stdin
        self.grace_period = grace_period
        self.kill_after = kill_after
        self.heartbeat_every = heartbeat_every
        self._on_output = on_output
        self._on_bytes = on_bytes
        self._on_finish = on_finish
        self._close_session = close_session
        self._queue: queue.Queue[list[LogChunk] | None] | None = None
        if queue_output:  # imported here: ``sessionlens run`` does not queue
            import queue

            self._queue = queue.Queue(maxsize=64)
        self._extra_env = dict(env or {})
        self._proc: subprocess.Popen[bytes] | None = None
        self._watchdog: Watchdog | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._done = threading.Event()
        self._start_error: BaseException | None = None
        self._signal_lock = threading.Lock()
        self._stage = 0
        self._escalate_at: float | None = None
        self._interrupted = False
        self._log = LogBatch(flush_interval, flush_bytes)
        self._last_beat = 0.0
        self._began = 0.0
        self.exit_code: int | None = None
        self.status: str | None = None
        self.output_bytes = 0
        #: the first failed log append (the run goes on; the record notes it)
        self.log_error: BaseException | None = None
        #: an error of the runner itself, e.g. the store refused the final record
        self.error: BaseException | None = None
        #: streams whose terminal copy lost its reader (``on_bytes`` raised ``ReaderGone``):
        #: the child's end of their pipes was closed, as a shell pipeline would
        self.readers_gone: set[str] = set()
        self._final_save_failed = False

    # -- public API -----------------------------------------------------------------------
    @property
    def session_id(self) -> str:
        return self.session.session_id

    @property
    def pid(self) -> int | None:
        """The child's pid once started (also its process group id)."""
        return self._proc.pid if self._proc is not None else None

    @property
    def started(self) -> bool:
        """``start`` was called (the child may still be starting)."""
        return self._thread is not None

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def interrupted(self) -> bool:
        return self._interrupted

    def start(self) -> RunningSession:
        """Save the ``running`` record, start the child and return once it runs.

        Raises ``SessionError`` when the session already ran. A command that cannot start does
        not raise: the run is recorded ``failed`` (see :attr:`exit_code`).
        """
        if self._thread is not None:
            raise SessionLensError("this RunningSession was already started")
        self.session.attach_child(self)
        self._thread = threading.Thread(
            target=self._pump, name=f"sessionlens-run-{self.session_id}", daemon=True
        )
        self._thread.start()
        self._started.wait()
        if self._start_error is not None:
            self._thread.join()
            raise self._start_error
        return self

    def wait(self, timeout: float | None = None) -> Record:
        """Block until the run has ended and its record is saved; return that record.

        Raises ``TimeoutError`` when ``timeout`` passes first. Interruptible by Ctrl-C in the
        main thread (the caller decides to call :meth:`interrupt`).
        """
        if self._thread is None:
            raise SessionLensError("this RunningSession was never started")
        if not self._done.wait(timeout):
            raise TimeoutError(f"session {self.session_id} is still running")
        self._thread.join()
        return self.session.record

    def interrupt(self) -> None:
        """Stop the child: SIGINT first; each further call (or the grace timer) escalates."""
        with self._signal_lock:
            self._interrupted = True
            proc = self._proc
            if proc is None or proc.returncode is not None or self._stage >= len(_ESCALATION):
                return
            sig = _ESCALATION[self._stage]
            self._stage += 1
            self._killpg(sig)
            delay = self.grace_period if sig == signal.SIGINT else self.kill_after
            self._escalate_at = time.monotonic() + delay if self._stage < len(_ESCALATION) else None

    def iter_output(self, timeout: float | None = None) -> Iterator[list[LogChunk]]:
        """Output batches until the run ends (needs ``queue_output=True``)."""
        if self._queue is None:
            raise SessionLensError("iter_output needs RunningSession(..., queue_output=True)")
        while True:
            batch = self._queue.get(timeout=timeout)
            if batch is None:
                return
            yield batch

    # -- the reader thread --------------------------------------------------------------------
    def _pump(self) -> None:
        try:
            self.session.begin_run(command=self.argv, pid=os.getpid())
        except BaseException as exc:
            self._start_error = exc
            self._started.set()
            self._done.set()
            return
        self._began = time.monotonic()
        try:
            try:
                self._spawn()
            except OSError as exc:
                self._started.set()
                self._finish_unstartable(exc)
                return
            self._started.set()
            if self._interrupted:  # interrupt() came while the child was being started
                self._interrupted = False
                self.interrupt()
            self._last_beat = time.monotonic()  # inserting the running record was the first
            self._read_until_eof()
            self._reap()
            self._finish()
        except BaseException as exc:  # keep the record honest even when the store fails
            self._started.set()
            self._finish_after_error(exc)
        finally:
            if self._watchdog is not None:
                self._watchdog.reap()
            if self._queue is not None:
                self._queue.put(None)
            self._done.set()
            self._after_run()

    def _after_run(self) -> None:
        """Close the session when asked to (it is saved already, or closing saves it at last),
        then tell ``on_finish``."""
        if self._close_session:
            try:
                self.session.close()
            except Exception as exc:
                self.error = self.error or exc
            else:
                if self._final_save_failed and self.session.saved:
                    self.error = None  # the last try landed: the store has the truth
        if self._on_finish is not None:
            with contextlib.suppress(Exception):  # the run is saved; its callback cannot undo that
                self._on_finish(self)

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self._extra_env)
        env["SESSIONLENS_SESSION_ID"] = self.session_id
        env["SESSIONLENS_PARAMS"] = json.dumps(params_of(self.session.record), default=str)
        location = self.session.store.location
        if location:
            env["SESSIONLENS_STORE"] = location
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def _spawn(self) -> None:
        """Start the child in a session of its own (an interrupt reaches its whole group), with
        a :class:`~sessionlens.watchdog.Watchdog` started first and armed at once, so the group
        dies with this process even when it is SIGKILLed."""
        env = self._child_env()
        watchdog = Watchdog.start()
        if watchdog is not None:  # found by it even if this process dies before arming it
            env[TOKEN_VARIABLE] = watchdog.token
        with self._signal_lock:
            try:
                self._proc = subprocess.Popen(
                    self.argv,
                    cwd=str(self.cwd),
                    env=env,
                    stdin=self.stdin,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    bufsize=0,
                    start_new_session=True,  # own process group: signals reach grandchildren
                    close_fds=True,
                )
            except BaseException:
                if watchdog is not None:
                    watchdog.reap()
                raise
            if watchdog is not None:
                watchdog.arm(self._proc.pid)
                self._watchdog = watchdog

    def _read_until_eof(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None and proc.stderr is not None
        decoders = {
            "stdout": codecs.getincrementaldecoder("utf-8")(errors="replace"),
            "stderr": codecs.getincrementaldecoder("utf-8")(errors="replace"),
        }
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout.fileno(), selectors.EVENT_READ, "stdout")
        selector.register(proc.stderr.fileno(), selectors.EVENT_READ, "stderr")
        exited_at: float | None = None
        last_data = time.monotonic()
        try:
            while selector.get_map():
                now = time.monotonic()
                timeout = max(0.0, min(self._log.deadline() - now, POLL_S))
                if self._escalate_at is not None:
                    timeout = max(0.0, min(timeout, self._escalate_at - now))
                batch: list[LogChunk] = []
                raw: list[tuple[str, bytes]] = []
                for key, _ in selector.select(timeout):
                    stream = key.data
                    data = os.read(key.fd, READ_SIZE)
                    if not data:
                        selector.unregister(key.fd)
                        text = decoders[stream].decode(b"", final=True)
                    else:
                        self.output_bytes += len(data)
                        raw.append((stream, data))
                        text = decoders[stream].decode(data)
                    if text:
                        batch.append(LogChunk(text, stream))
                if raw and self._on_bytes is not None:
                    self._echo(raw)
                    for stream, pipe in (("stdout", proc.stdout), ("stderr", proc.stderr)):
                        if stream in self.readers_gone and not pipe.closed:
                            selector.unregister(pipe.fileno())
                            pipe.close()  # the child's next write gets SIGPIPE, as in a shell
                            text = decoders[stream].decode(b"", final=True)
                            if text:
                                batch.append(LogChunk(text, stream))
                now = time.monotonic()
                if batch:
                    last_data = now
                    self._deliver(batch)
                self._maybe_flush(now)
                self._maybe_beat(now)
                self._maybe_escalate(now)
                if proc.poll() is not None:
                    # The child is gone; a grandchild may hold the pipes open. Read what is
                    # there, then stop once they go quiet.
                    exited_at = exited_at or now
                    if now - max(last_data, exited_at) >= DRAIN_IDLE_S:
                        break
        finally:
            selector.close()
            proc.stdout.close()
            proc.stderr.close()

    def _echo(self, raw: list[tuple[str, bytes]]) -> None:
        callback = self._on_bytes
        if callback is not None:
            try:
                callback(raw)
            except ReaderGone as exc:  # a pipe's reader left: those streams end (see there)
                self.readers_gone.update(exc.streams)
            except Exception:  # e.g. a closed terminal: keep logging, stop echoing
                self._on_bytes = None

    def _deliver(self, batch: list[LogChunk]) -> None:
        for chunk in batch:
            self._log.add(chunk.stream, chunk.text)
        self._on_output = _offer(self._on_output, batch)
        if self._queue is not None:
            self._queue.put(batch)

    def _maybe_flush(self, now: float) -> None:
        if self._log.due(now):
            self._flush()

    def _flush(self) -> None:
        appends = self._log.take()
        if not appends or self.log_error is not None:
            return
        store, session_id = self.session.store, self.session_id
        try:
            for stream, text in appends:
                store.append_log(session_id, text, stream)
            self._last_beat = time.monotonic()  # an append is a heartbeat
        except Exception as exc:  # a full disk must not kill the run; the record says so
            self.log_error = exc

    def _maybe_beat(self, now: float) -> None:
        if now - self._last_beat >= self.heartbeat_every:
            self._beat(now)

    def _beat(self, now: float) -> None:
        """Tell the store the run is alive (``SessionStore.heartbeat``), at least every
        ``heartbeat_every`` seconds even while the child prints nothing; log appends count as
        beats. A failed beat is not retried before the next one is due."""
        self._last_beat = now
        with contextlib.suppress(Exception):
            self.session.store.heartbeat(self.session_id)

    def _maybe_escalate(self, now: float) -> None:
        if self._escalate_at is not None and now >= self._escalate_at:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                self.interrupt()
            else:
                self._escalate_at = None

    def _reap(self) -> None:
        proc = self._proc
        assert proc is not None
        while True:  # the pipes are closed; the child may still run for hours
            now = time.monotonic()
            timeout = max(0.0, self._last_beat + self.heartbeat_every - now)
            if self._escalate_at is not None:
                timeout = min(timeout, max(0.0, self._escalate_at - now))
            try:
                proc.wait(timeout)
                break
            except subprocess.TimeoutExpired:
                now = time.monotonic()
                self._maybe_escalate(now)
                self._maybe_beat(now)
        with self._signal_lock:
            self._escalate_at = None
            stopped = proc.returncode < 0 and -proc.returncode in _INTERRUPT_SIGNALS
            if self._interrupted or stopped:
                self._killpg(_ESCALATION[-1])  # leave no orphans of an interrupted run
                self._wait_group_gone(GROUP_GONE_S)
            if self._watchdog is not None:
                self._watchdog.disarm()  # ended here, not by our death: leave the group be

    def _wait_group_gone(self, timeout: float) -> None:
        """SIGKILL is delivered, not awaited: on a loaded machine a grandchild was still alive
        when the run was recorded ``interrupted``. Wait (bounded) until the group is gone."""
        proc = self._proc
        if proc is None or not hasattr(os, "killpg"):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.01)

    def _killpg(self, sig: int) -> None:
        proc = self._proc
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if hasattr(os, "killpg"):
                os.killpg(proc.pid, sig)
            else:  # pragma: no cover - no process groups (Windows)
                proc.send_signal(sig)

    # -- recording the end -----------------------------------------------------------------------
    def _finish(self) -> None:
        self._flush()
        proc = self._proc
        assert proc is not None
        code = proc.returncode
        extra: dict[str, Any] = {"child_pid": proc.pid}
        if code < 0:
            sig = signal.Signals(-code)
            extra["signal"] = sig.name
            self.exit_code = 128 - code
            interrupted = self._interrupted or sig in _INTERRUPT_SIGNALS
        else:
            self.exit_code = code
            interrupted = self._interrupted
        if self.log_error is not None:
            extra["log_error"] = f"{type(self.log_error).__name__}: {self.log_error}"
        if interrupted:
            self.status = "interrupted"
        else:
            self.status = "success" if code == 0 else "failed"
        self._record_end(time.monotonic() - self._began, **extra)

    def _finish_unstartable(self, exc: OSError) -> None:
        self.exit_code = 127 if isinstance(exc, FileNotFoundError) else 126
        self.status = "failed"
        self.session.record_exception(type(exc), exc, None)
        self._record_end(time.monotonic() - self._began)

    def _record_end(self, duration_s: float, **extra: Any) -> None:
        """Save the final record; what really happened is known by now, so a store that refuses
        it must not turn it into something else.

        The pending log went first and alone (``_flush``): when the disk is full that big write
        fails and this small one may still land. A refused save is tried again for
        :data:`FINAL_SAVE_RETRY_S` (space freed, a lock released; one attempt that already
        waited out a busy lock is not repeated). If it never lands, :attr:`error` says why, the
        run's ``save_error`` says so too, and the session's close tries once more; callers
        still get the real :attr:`status` and :attr:`exit_code` (``sessionlens run`` reports
        them and exits with the child's code)."""
        assert self.status is not None
        deadline = time.monotonic() + FINAL_SAVE_RETRY_S
        try:
            self.session.end_run(self.status, self.exit_code, duration_s, **extra)
            return
        except Exception as exc:
            error: Exception = exc
        delay = 0.05
        while time.monotonic() + delay <= deadline:
            time.sleep(delay)
            delay = min(2 * delay, 0.5)
            try:
                self.session.save_record()
                return
            except Exception as exc:
                error = exc
        self.error = error
        self._final_save_failed = True
        self.session.set_run(save_error=f"{type(error).__name__}: {error}")

    def _finish_after_error(self, exc: BaseException) -> None:
        """Something broke in here (most likely the store): stop the child, keep what we know."""
        self.error = exc
        proc = self._proc
        if proc is not None and proc.poll() is None:
            self._killpg(_ESCALATION[-1])
            proc.wait()
        if self._watchdog is not None:
            self._watchdog.disarm()
        if self.status is None:
            code = proc.returncode if proc is not None else None
            self.exit_code = 128 - code if code is not None and code < 0 else code
            self.status = "failed"
        with contextlib.suppress(Exception):
            self.session.record_exception(type(exc), exc, exc.__traceback__)
            self.session.end_run(self.status, self.exit_code, time.monotonic() - self._began)


def _offer(callback: Callable[[Any], None] | None, batch: Any) -> Callable[[Any], None] | None:
    """Hand ``batch`` to an output callback; one that fails (a closed terminal) is dropped, and
    the run and its log go on. Returns the callback to keep."""
    if callback is not None:
        try:
            callback(batch)
        except Exception:
            return None
    return callback
