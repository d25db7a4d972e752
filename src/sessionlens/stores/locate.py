"""Where a store is: ``--store`` URIs, plain paths detected by content, and project folders.

Spec forms (DESIGN.md section 2):

- ``sqlite:///abs/path.db``; ``sqlite:////abs/path.db`` (SQLAlchemy's absolute form) too.
  ``sqlite:///name.db`` is read "sensibly": the absolute path when it exists or its first folder
  exists at the root (``/tmp/...``, ``/home/...``), else relative to the working directory, as
  SQLAlchemy reads it. ``sqlite:rel/path.db`` is always relative. Same rules for ``shelve:``.
- ``memory:``; ``postgresql://...`` (a libpq URI; its password is never shown). Which schemes exist
  and what each names is the registry's (:mod:`~.registry`).
- A plain path, detected by content: an SQLite file (its 16-byte header); a folder holding
  ``session_store.db`` (what kedro-viz's ``SESSION_STORE_ARGS`` path names); a folder of
  ``<session_id>/store*`` (Kedro shelve); otherwise a project folder.
- In a project folder, in this order: ``[tool.sessionlens] store = "..."`` in pyproject.toml
  (relative to the project; a URI or a path); the ``path`` of ``SESSION_STORE_ARGS`` in
  ``src/<package>/settings.py``, read statically (:mod:`~.kedro_settings`: the project's code is
  never imported or run); ``.viz/session_store.db``; ``sessions/session_store.db``;
  ``data/session_store.db``; sessionlens's own ``.sessionlens/session_store.db``; a
  ``sessions/`` folder of shelve stores.

A new store (``create=True`` and nothing found) goes to :func:`default_store_path`:
``<project>/.viz/session_store.db`` in a Kedro project (``[tool.kedro]`` in pyproject.toml), where
kedro-viz >= 9.2 looks too, else ``<project>/.sessionlens/session_store.db`` - sessionlens does
not claim kedro-viz's folder in projects that are not Kedro's.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit, urlunsplit

from sessionlens.errors import StoreError, one_line
from sessionlens.stores import registry
from sessionlens.stores.sqlite_files import is_sqlite_file

#: Kedro's places, in the order they are tried (after pyproject and settings.py), then the
#: place sessionlens creates a store in a project that is not Kedro's.
SQLITE_PLACES = (
    ".viz/session_store.db",
    "sessions/session_store.db",
    "data/session_store.db",
    ".sessionlens/session_store.db",
)
KEDRO_SHELVE_PLACE = "sessions"
_SHELVE_FILES = ("store", "store.dat", "store.dir", "store.db")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):(.*)$", re.DOTALL)


class StoreSpec(NamedTuple):
    """A store found but not opened: what the app shows before opening it (a NamedTuple: no
    ``dataclasses`` on the ``run`` path)."""

    kind: str
    #: absolute path for sqlite/shelve; the URI for memory/postgresql (password removed)
    location: str
    #: how it was found: "uri", "path", "pyproject.toml", "settings.py", a Kedro place, "default"
    found_by: str = "path"
    #: False when the store does not exist yet and opening it with ``create=True`` makes it
    exists: bool = True
    #: a server's URI as given, password and all: for the backend to connect with, never
    #: shown (``location`` is the same URI without its password; ``repr`` leaves it out)
    address: str | None = None

    def describe(self) -> str:
        return f"{self.kind}: {self.location}"

    def __repr__(self) -> str:
        return (
            f"StoreSpec(kind={self.kind!r}, location={self.location!r}, "
            f"found_by={self.found_by!r}, exists={self.exists!r})"
        )


def detect_store(spec: str | os.PathLike[str] | StoreSpec, *, create: bool = False) -> StoreSpec:
    """Say what ``spec`` names without opening it; ``StoreError`` when nothing is there (unless
    ``create``, which names the store that would be created)."""
    if isinstance(spec, StoreSpec):
        return spec
    text = os.fspath(spec)
    if isinstance(text, bytes):  # pragma: no cover - bytes paths are not supported
        text = os.fsdecode(text)
    uri = _parse_uri(text)
    if uri is not None:
        return _detect_uri(text, *uri, base=Path.cwd(), create=create)
    if not text.strip():
        raise StoreError("empty store path; pass a file, a folder or a URI such as sqlite:///x.db")
    return _detect_path(Path(text).expanduser().absolute(), create=create, found_by="path")


def default_store_path(project: str | os.PathLike[str]) -> Path:
    """Where sessionlens puts a new store in ``project`` (see the module docstring)."""
    root = Path(project).absolute()
    if is_kedro_project(root):
        return root / ".viz" / "session_store.db"
    return root / ".sessionlens" / "session_store.db"


def is_kedro_project(project: str | os.PathLike[str]) -> bool:
    """Kedro's own test: ``[tool.kedro]`` in pyproject.toml (``.kedro.yml`` before 0.17)."""
    root = Path(project)
    if (root / ".kedro.yml").is_file():
        return True
    return "kedro" in _read_pyproject(root).get("tool", {})


# -- URIs -----------------------------------------------------------------------------------
def _parse_uri(text: str) -> tuple[str, str] | None:
    """(scheme, rest) for a URI; None for a plain path (including ``C:\\...``)."""
    match = _SCHEME.match(text)
    if not match:
        return None
    scheme = match.group(1).lower()
    if scheme == "file" or registry.for_scheme(scheme) is not None:
        return scheme, match.group(2)
    if os.path.exists(text):  # a relative path that happens to contain a colon
        return None
    raise StoreError(
        f"{text}: unknown store URI scheme {scheme!r}; use {registry.uri_examples()} or a path"
    )


def _detect_uri(text: str, scheme: str, rest: str, *, base: Path, create: bool) -> StoreSpec:
    """What a URI names: ``file:`` a path detected by content, any other scheme the backend the
    registry gives it (a file or folder it checks, a server's address, or nothing)."""
    backend = None if scheme == "file" else registry.for_scheme(scheme)
    if backend is not None and backend.names == "nothing":
        return StoreSpec(backend.kind, f"{backend.kind}:", "uri")
    if backend is not None and backend.names == "address":
        return StoreSpec(backend.kind, redact(text), "uri", address=text)
    path = _uri_path(rest, base)
    if backend is None:
        return _detect_path(path, create=create, found_by="uri")
    if not path.exists():
        if not create:
            raise StoreError(f"{path}: no such {backend.names} (from {text})")
        return StoreSpec(backend.kind, str(path), "uri", exists=False)
    if backend.names == "file" and path.is_dir():
        raise StoreError(f"{path}: is a folder; {scheme}: needs a database file (from {text})")
    if backend.names == "folder" and not path.is_dir():
        raise StoreError(f"{path}: is a file; {scheme}: needs a folder of sessions (from {text})")
    return StoreSpec(backend.kind, str(path), "uri")


def _uri_path(rest: str, base: Path) -> Path:
    rest = unquote(rest)
    if rest.startswith("//"):
        rest = rest[2:]  # empty authority: sqlite:///x -> "/x"
        if rest.startswith("//"):  # sqlite:////abs (SQLAlchemy's absolute form)
            return Path("/" + rest.lstrip("/"))
    rest = os.path.expanduser(rest)
    if not rest.startswith("/"):
        return (base / rest).absolute()
    absolute, relative = Path(rest), (base / rest.lstrip("/")).absolute()
    if absolute.exists():
        return absolute
    if relative.exists():
        return relative
    first = Path(rest).parts[1:2]
    return absolute if first and (Path("/") / first[0]).exists() else relative


def redact(uri: str) -> str:
    """The URI without a password, fit for messages, headers and logs."""
    try:
        parts = urlsplit(uri)
        if parts.password is None:
            return uri
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        netloc = f"{parts.username}:***@{host}" if parts.username else host
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    except ValueError:
        return uri.split("://", 1)[0] + "://..."


# -- paths ----------------------------------------------------------------------------------
def looks_like_shelve_folder(folder: Path) -> bool:
    """A folder with at least one ``<session_id>/store*`` inside (Kedro's ShelveStore)."""
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if entry.name.startswith(".") or not entry.is_dir():
                    continue
                if any(os.path.exists(os.path.join(entry.path, n)) for n in _SHELVE_FILES):
                    return True
    except OSError:
        return False
    return False


def _detect_path(path: Path, *, create: bool, found_by: str) -> StoreSpec:
    if path.is_file():
        if is_sqlite_file(path, or_empty=True):
            return StoreSpec("sqlite", str(path), found_by)
        if not os.access(path, os.R_OK):
            raise StoreError(f"{path}: cannot read (permission denied)")
        raise StoreError(f"{path}: not a session store (neither an SQLite file nor a folder)")
    if path.is_dir():
        if (path / "session_store.db").is_file():
            return StoreSpec("sqlite", str(path / "session_store.db"), found_by)
        if looks_like_shelve_folder(path):
            return StoreSpec("shelve", str(path), found_by)
        return _detect_project(path, create=create)
    if path.exists():
        if path.is_file() or path.is_dir():  # made by another process since the checks above
            return _detect_path(path, create=create, found_by=found_by)
        raise StoreError(f"{path}: neither a file nor a folder")
    if create:
        return StoreSpec("sqlite", str(path), found_by, exists=False)
    raise StoreError(f"{path}: no such file or folder")


SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def _detect_project(project: Path, *, create: bool) -> StoreSpec:
    pyproject = _read_pyproject(project)
    configured = pyproject.get("tool", {}).get("sessionlens", {}).get("store")
    if configured is not None:
        return _configured_store(project, configured, create=create)
    settings = _settings_store(project, pyproject)
    if settings is not None:
        kind, folder, source = settings
        # sessionlens.kedro.SQLiteStore also takes the database file itself as its path
        db = folder if folder.suffix in SQLITE_SUFFIXES else folder / "session_store.db"
        if db.is_file() or (kind == "sqlite" and create):
            return StoreSpec("sqlite", str(db), source, exists=db.is_file())
        if looks_like_shelve_folder(folder) or (kind == "shelve" and create):
            return StoreSpec("shelve", str(folder), source, exists=folder.is_dir())
    for place in SQLITE_PLACES:
        candidate = project / place
        if candidate.is_file():
            return StoreSpec("sqlite", str(candidate), place)
    sessions = project / KEDRO_SHELVE_PLACE
    if sessions.is_dir() and looks_like_shelve_folder(sessions):
        return StoreSpec("shelve", str(sessions), KEDRO_SHELVE_PLACE + "/")
    if create:
        return StoreSpec("sqlite", str(default_store_path(project)), "default", exists=False)
    raise StoreError(
        f"{project}: no session store found (looked at [tool.sessionlens] store, "
        "SESSION_STORE_ARGS, .viz/session_store.db, sessions/session_store.db, "
        "data/session_store.db, .sessionlens/session_store.db, sessions/); "
        "pass --store or record a run first"
    )


def _configured_store(project: Path, value: Any, *, create: bool) -> StoreSpec:
    where = project / "pyproject.toml"
    if not isinstance(value, str) or not value.strip():
        raise StoreError(f"{where}: [tool.sessionlens] store must be a non-empty string")
    uri = _parse_uri(value)
    if uri is not None:
        spec = _detect_uri(value, *uri, base=project, create=create)
        return spec._replace(found_by="pyproject.toml")
    path = (project / os.path.expanduser(value)).absolute()
    if path.is_dir():
        if (path / "session_store.db").is_file():
            return StoreSpec("sqlite", str(path / "session_store.db"), "pyproject.toml")
        return StoreSpec("shelve", str(path), "pyproject.toml")
    if path.is_file():
        return StoreSpec(
            _detect_path(path, create=False, found_by="").kind, str(path), "pyproject.toml"
        )
    if create:
        return StoreSpec("sqlite", str(path), "pyproject.toml", exists=False)
    raise StoreError(f"{where}: [tool.sessionlens] store = {value!r}: {path} does not exist")


def _settings_store(project: Path, pyproject: dict[str, Any]) -> tuple[str, Path, str] | None:
    """(kind, folder, source) from the ``SESSION_STORE_CLASS``/``SESSION_STORE_ARGS`` of the
    project's settings.py (the package ``[tool.kedro]`` names, then ``src/*/settings.py``), or None.
    ``kind`` is ``sqlite`` or ``shelve`` when the class name says so, else ``""``."""
    kedro = pyproject.get("tool", {}).get("kedro", {})
    candidates: list[Path] = []
    source_dir = kedro.get("source_dir", "src")
    package = kedro.get("package_name")
    if isinstance(package, str) and isinstance(source_dir, str):
        candidates.append(project / source_dir / package / "settings.py")
    candidates.extend(sorted(project.glob("src/*/settings.py")))
    seen: set[Path] = set()
    for settings in candidates:
        if settings in seen or not settings.is_file():
            continue
        seen.add(settings)
        from sessionlens.stores.kedro_settings import read_session_store_settings

        found = read_session_store_settings(settings)
        if found is None:
            continue
        class_name, raw_path = found
        folder = Path(raw_path)
        if not folder.is_absolute():
            folder = project / folder  # Kedro runs from the project root
        name = (class_name or "").lower()
        kind = "sqlite" if "sqlite" in name else "shelve" if "shelve" in name else ""
        rel = settings.relative_to(project)
        return kind, folder.absolute(), f"{rel} SESSION_STORE_ARGS"
    return None


def _read_pyproject(project: Path) -> dict[str, Any]:
    path = project / "pyproject.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StoreError(one_line(f"{path}: invalid TOML ({exc})")) from None
    except (RecursionError, MemoryError):  # tomllib recurses per nested array or table
        raise StoreError(f"{path}: invalid TOML (nested too deep to read)") from None
