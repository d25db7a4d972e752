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
overlaps the child's, and armed with the child's pid as soon as ``Popen`` returns. A runner
killed in between (while ``Popen`` blocks for the child's ``exec``: about a millisecond, much
more on a loaded machine) never sends the pid. For that case the child's environment carries
:data:`TOKEN_VARIABLE`, a random value the watchdog is given at its start: when the pipe ends
before any pid came, it looks for processes with that value in ``/proc/*/environ`` (twice, in
case the child had not reached its ``exec`` yet) and ends their groups the same way. Where there
is no ``/proc`` (macOS) that window stays open. A grandchild that leaves the group (``setsid``,
a daemon) is out of reach, as it is for an interrupt. A process that ``fork()``s without
``exec`` inherits the write end and keeps the watchdog waiting until it exits too.

Standard library only: this is on the ``sessionlens run`` path.
"""

from __future__ import annotations

import contextlib
import os
import subprocess

#: Seconds between SIGTERM and SIGKILL of an orphaned group.
KILL_AFTER_S = 5

#: In the child's environment: the value the watchdog looks for when its pid never came.
TOKEN_VARIABLE = "SESSIONLENS_RUN_TOKEN"

#: ``$1``: the token. Line 1 from the runner: the process group; line 2: ``done`` or end of
#: file. ``sleep 0.1`` is not POSIX; where it fails, one-second steps take its place.
_SCRIPT = f"""
nap() {{ sleep 0.1 2>/dev/null || sleep 1; }}
found() {{
    for d in /proc/[0-9]*; do
        tr '\\000' '\\n' < "$d/environ" 2>/dev/null | grep -qxF "{TOKEN_VARIABLE}=$1" \\
            && echo "${{d#/proc/}}"
    done
}}
if ! read -r pgid; then
    [ -n "$1" ] && [ -r /proc/self/environ ] || exit 0
    nap
    pids=$(found "$1")
    [ -n "$pids" ] || {{ nap; nap; pids=$(found "$1"); }}
    [ -n "$pids" ] || exit 0
    for p in $pids; do kill -TERM -"$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null; done
    i=0
    while [ "$i" -lt {KILL_AFTER_S * 10} ]; do
        alive=; for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ -n "$alive" ] || exit 0
        nap; i=$((i + 1))
    done
    for p in $pids; do kill -KILL -"$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null; done
    exit 0
fi
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

    def __init__(self, proc: subprocess.Popen[bytes], fd: int, token: str) -> None:
        self._proc = proc
        self._fd: int | None = fd
        #: put in the child's environment as :data:`TOKEN_VARIABLE` (see the module docstring)
        self.token = token

    @classmethod
    def start(cls) -> Watchdog | None:
        """Start the shell (without waiting for it); None where there is none to start, e.g.
        no ``/bin/sh`` or no process groups: the run goes on unwatched, as before."""
        if os.name != "posix" or not hasattr(os, "killpg") or not os.path.exists(SHELL):
            return None
        _exiting[:] = [proc for proc in _exiting if proc.poll() is None]
        read_end, write_end = os.pipe()  # both close-on-exec
        token = os.urandom(8).hex()
        try:
            proc = subprocess.Popen(
                [SHELL, "-c", _SCRIPT, "sessionlens-watchdog", token],
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
        return cls(proc, write_end, token)

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
