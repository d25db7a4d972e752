"""Errors meant for people: one-line messages that say what was wrong and what to do."""

from __future__ import annotations


def one_line(text: object) -> str:
    """Collapse any whitespace run (newlines included) so a message stays on one line."""
    return " ".join(str(text).split())


class SessionLensError(Exception):
    """Base of every error the CLI and app turn into a one-line message (exit code 2)."""


class SessionError(SessionLensError):
    """A session was used against its lifecycle, e.g. a second run in one session."""


class StoreError(SessionLensError):
    """A store could not be opened, read or written: corrupt, foreign, missing or locked."""


class UnknownSessionError(StoreError, KeyError):
    """No session with this id in the store."""

    def __init__(self, session_id: str, location: str = "") -> None:
        where = f" in {location}" if location else ""
        super().__init__(f"no session with id {session_id!r}{where}")
        self.session_id = session_id

    def __str__(self) -> str:  # KeyError would repr() the message otherwise
        return str(self.args[0])


class SessionExistsError(StoreError):
    """A new session's id is taken in the store (another process claimed it first)."""

    def __init__(self, session_id: str, location: str = "") -> None:
        where = f" in {location}" if location else ""
        super().__init__(f"a session with id {session_id!r} exists already{where}")
        self.session_id = session_id


class UnreadableSessionError(StoreError):
    """The session is in the store but its record cannot be read (not JSON, a pickle refused,
    a key of the wrong type...); ``problem`` is the one-line reason its summary shows."""

    def __init__(self, session_id: str, problem: str, location: str = "") -> None:
        where = f" in {location}" if location else ""
        self.session_id = session_id
        self.problem = " ".join(str(problem).split())
        super().__init__(f"session {session_id}{where} is unreadable: {self.problem}")


class ReadOnlyStoreError(StoreError):
    """A write was attempted on a store opened for browsing."""
