"""A child's process group dies with the process that runs it, even when that one is SIGKILLed.

The runner starts each child in a session (and process group) of its own, so Ctrl-C in the
terminal reaches only the runner, which forwards it, and an interrupt reaches grandchildren too.
The price: when the runner dies without cleaning up (SIGKILL, the OOM killer, a crash), nobody
stops the group, and the store says ``interrupted`` while the child runs on.

:class:`Watchdog` closes that gap with a tiny ``/bin/sh`` per run, in a session of its own (so
the terminal's SIGINT/SIGHUP do not reach it). It blocks reading a pipe whose write end only the
runner holds (``O_CLOEXEC``: no child inherits it). The runner writes the child's process group
id once the child exists and ``done`` when the run ended normally. When the pipe reaches end of
file without ``done`` - the runner died, however it died, since the kernel closes its
descriptors - the watchdog sends SIGTERM to the group, waits up to :data:`KILL_AFTER_S` for it
to go, then SIGKILL. After ``done`` or the kill it exits: it outlives the runner only as long
as needed.

Why not the alternatives:

* ``prctl(PR_SET_PDEATHSIG)`` needs ``preexec_fn`` (unsafe in a threaded process, and the app
  and the runner are threaded), fires when the *thread* that forked exits rather than the
  process (the runner forks from a reader thread that ends with the run), and reaches only the
  child, not its grandchildren.
* A Python watchdog process costs ~20 ms of interpreter start per run; ``sh`` costs ~1 ms and
  the runner never waits for it to start (``sessionlens run -- true`` must stay cheap).

The window between fork and arming: the watchdog is started *before* the child, so its start-up
overlaps the child's, and armed with the child's pid as soon as ``Popen`` returns. What is left
is the child's ``exec`` itself (the time ``Popen`` blocks, about a millisecond): a runner killed
exactly then leaves that child unwatched. Closing it would need the pid before the fork, which
POSIX does not offer without a wrapper process per run. A grandchild that leaves the group
(``setsid``, a daemon) is out of reach, as it is for an interrupt. A process that ``fork()``s
without ``exec`` inherits the write end and keeps the watchdog waiting until it exits too.

Standard library only: this is on the ``sessionlens run`` path.
"""

from __future__ import annotations

import contextlib
import os
import subprocess

#: Seconds between SIGTERM and SIGKILL of an orphaned group.
KILL_AFTER_S = 5

#: ``$1``: nothing. Line 1 from the runner: the process group; line 2: ``done`` or end of file.
#: ``sleep 0.1`` is not POSIX; where it fails, one-second steps take its place.
_SCRIPT = f"""
read -r pgid || exit 0
case "$pgid" in ''|*[!0-9]*) exit 0 ;; esac
read -r word
[ "$word" = done ] && exit 0
kill -TERM -"$pgid" 2>/dev/null || exit 0
i=0
while [ "$i" -lt {KILL_AFTER_S * 10} ] && kill -0 -"$pgid" 2>/dev/null; do
    sleep 0.1 2>/dev/null || {{ sleep 1; i=$((i + 9)); }}
    i=$((i + 1))
done
kill -KILL -"$pgid" 2>/dev/null
exit 0
"""

SHELL = "/bin/sh"

#: Watchdogs told to go that had not exited yet when their run ended; reaped by the next start
#: (the CLI exits first anyway), so a long-lived app collects no zombies and never waits.
_exiting: list[subprocess.Popen[bytes]] = []


class Watchdog:
    """One run's watchdog: :meth:`start` before the child, :meth:`arm` with its pid, then
    :meth:`disarm` when the run ended normally (or was cleaned up by the runner itself)."""

    def __init__(self, proc: subprocess.Popen[bytes], fd: int) -> None:
        self._proc = proc
        self._fd: int | None = fd

    @classmethod
    def start(cls) -> Watchdog | None:
        """Start the shell (without waiting for it); None where there is none to start, e.g.
        no ``/bin/sh`` or no process groups: the run goes on unwatched, as before."""
        if os.name != "posix" or not hasattr(os, "killpg") or not os.path.exists(SHELL):
            return None
        _exiting[:] = [proc for proc in _exiting if proc.poll() is None]
        read_end, write_end = os.pipe()  # both close-on-exec
        try:
            proc = subprocess.Popen(
                [SHELL, "-c", _SCRIPT, "sessionlens-watchdog"],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                close_fds=True,
                start_new_session=True,  # no terminal signals, not in the runner's group
            )
        except OSError:
            os.close(write_end)
            return None
        finally:
            os.close(read_end)
        return cls(proc, write_end)

    @property
    def pid(self) -> int:
        return self._proc.pid

    def arm(self, pgid: int) -> None:
        """Watch process group ``pgid`` (the child's pid: it leads its own session)."""
        self._send(f"{int(pgid)}\n")

    def disarm(self) -> None:
        """The run is over and the runner cleaned up: let the watchdog go. Idempotent."""
        self._send("done\n")
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def reap(self) -> None:
        """Disarm and collect the shell, which exits at once once disarmed; one still exiting
        is collected later (never waited for: this is on the ``sessionlens run -- true`` path)."""
        self.disarm()
        if self._proc.poll() is None:
            _exiting.append(self._proc)

    def _send(self, line: str) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):  # the watchdog was killed: nothing left to tell
            os.write(self._fd, line.encode())
