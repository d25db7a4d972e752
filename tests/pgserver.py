"""A real PostgreSQL server for the tests: started once per test session in a temp folder, on a
free loopback port with its socket in that folder, stopped at the end (also on failure).

CI runs as root and ``initdb`` refuses root: the cluster is then made and run as the
``postgres`` user (``runuser``) in a folder it owns. Tests that need the server take the
``pg_server`` fixture (or ``pg_database``, a fresh database); without PostgreSQL or psycopg
they are skipped with the reason.
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

USER = "sessionlens"
_names = itertools.count()


def find_bin(name: str) -> str | None:
    """``initdb``/``pg_ctl`` on PATH, else in Debian's ``/usr/lib/postgresql/*/bin``."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(os.path.join(folder, name), os.X_OK):
            return os.path.join(folder, name)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """One running cluster; ``uri(db)`` names a database on it, ``create_database`` makes one."""

    def __init__(self, root: Path, auth: str = "trust", password: str | None = None) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.auth = auth
        self.password = password
        self.as_root = os.geteuid() == 0
        self.initdb, self.pg_ctl = find_bin("initdb"), find_bin("pg_ctl")

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(argv)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> None:
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self.root.chmod(0o700)
        argv = [self.initdb, "-D", str(self.data), "-A", self.auth, "-U", USER, "-E", "UTF8"]
        argv += ["--locale=C.UTF-8" if _has_c_utf8() else "--no-locale"]
        pwfile = None
        if self.password is not None:
            pwfile = self.root / "pw"
            pwfile.write_text(self.password + "\n")
            if self.as_root:
                shutil.chown(pwfile, "postgres", "postgres")
            argv += ["--pwfile", str(pwfile)]
        self._run(*argv)
        options = f"-k {self.root} -p {self.port} -h 127.0.0.1 -F -c max_connections=200"
        log = self.root / "server.log"
        self._run(self.pg_ctl, "-D", str(self.data), "-o", options, "-l", str(log), "-w", "start")
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not start: {log.read_text()[-2000:]}")

    def stop(self) -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop", check=False)

    def uri(self, database: str = "postgres", password: str | None = None) -> str:
        auth = USER if password is None else f"{USER}:{password}"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A fresh database; its URI."""
        import psycopg

        name = name or f"t{os.getpid()}_{next(_names)}"
        with psycopg.connect(self.uri(), autocommit=True, password=self.password) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.uri(name)


def _has_c_utf8() -> bool:
    try:
        out = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout
    except OSError:
        return False
    return any(n.lower() in ("c.utf8", "c.utf-8") for n in out.split())


def skip_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'sessionlens[postgresql]')"
    if find_bin("initdb") is None or find_bin("pg_ctl") is None:
        return "PostgreSQL (initdb, pg_ctl) is not installed"
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _user_exists("postgres")):
        return "running as root without runuser and a postgres user to run initdb as"
    return None


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def started_server(auth: str = "trust", password: str | None = None) -> Iterator[PgServer]:
    """A started server, stopped and removed when the generator is closed."""
    root = Path(tempfile.mkdtemp(prefix="sessionlens-pg-"))
    server = PgServer(root, auth, password)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


_shared: list[tuple[PgServer, Iterator[PgServer]]] = []
_databases: dict[str, str] = {}


def shared_server() -> PgServer:
    """The test session's server, started on first use (skips the test, with the reason,
    where PostgreSQL cannot run); :func:`stop_shared` stops it."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    if not _shared:
        started = started_server()
        _shared.append((next(started), started))
        atexit.register(stop_shared)
    return _shared[0][0]


def stop_shared() -> None:
    while _shared:
        _shared.pop()[1].close()


def database_for(key: str) -> str:
    """The URI of a fresh database for ``key`` (a test's folder): the same one when asked again."""
    if key not in _databases:
        _databases[key] = shared_server().create_database()
    return _databases[key]


@pytest.fixture(scope="session")
def pg_server() -> PgServer:
    """The test session's PostgreSQL server (skipped, with the reason, where it cannot run)."""
    return shared_server()


@pytest.fixture
def pg_database(pg_server: PgServer) -> str:
    """The URI of a fresh, empty database on the test server."""
    return pg_server.create_database()
