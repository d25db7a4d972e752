"""The PostgreSQL store's tables and their numbered migrations.

Layout (every text column ``COLLATE "C"``: code-point order and byte ranges, as Python
compares the lower-cased text the index holds):

- ``sessionlens_sessions``: one row per session, the record as JSON (the source of truth,
  PostgreSQL's ``json`` type: the text exactly as saved; ``jsonb`` would turn ``1e300`` into an
  integer and refuse ``\\u0000``) and the index columns the table sorts and filters on, derived
  in Python exactly as the SQLite store's (:func:`~.sqlite_index.index_session`).
- ``sessionlens_params(session_id, name, value, num)`` and
  ``sessionlens_metrics(session_id, name, value)``, indexed by value for ``param.X``/``metric.X``.
- ``sessionlens_logs(session_id, seq, stream, text)``; ``sessionlens_heartbeats(session_id, at)``.
- ``sessionlens_details(session_id, title, title_l, notes, bookmark)``: what people type, apart
  from the record, so annotating never races a run's writes.
- ``sessionlens_details.archived`` (schema 2): archived sessions, hidden from listings unless a
  query asks for them.
- ``sessionlens_meta(key, value)``: ``schema_version``.

Migrations are numbered; each runs in one transaction under ``pg_advisory_xact_lock``, so two
machines opening a new database at once apply it once. A database of a newer schema is refused.
"""

from __future__ import annotations

from typing import Any

from sessionlens.errors import StoreError
from sessionlens.stores.sqlite_index import FILTER_INDEXES, INDEX_COLUMNS, SORT_INDEXES

SESSIONS = "sessionlens_sessions"
PARAMS = "sessionlens_params"
METRICS = "sessionlens_metrics"
LOGS = "sessionlens_logs"
HEARTBEATS = "sessionlens_heartbeats"
DETAILS = "sessionlens_details"
META = "sessionlens_meta"
#: the advisory lock key of migrations ("sessionl" as a number)
LOCK_KEY = 0x73657373696F6E6C
#: the channel writers notify on every insert or update of a session
CHANNEL = "sessionlens"

_TYPES = {
    "runs_rowid": "bigint",
    "duration_s": "double precision",
    "exit_code": "numeric",
    "dirty": "integer",
    "pid": "bigint",
    "started_ts": "double precision",
}
#: the index columns sessionlens_sessions holds beside the record (SQLite's, without runs_rowid)
COLUMNS = tuple(c for c in INDEX_COLUMNS if c != "runs_rowid")


def _column(name: str) -> str:
    kind = _TYPES.get(name, 'text COLLATE "C"')
    not_null = " NOT NULL" if name in ("status", "id_l", "hay") else ""
    return f"{name} {kind}{not_null}"


def _v1() -> list[str]:
    columns = ",\n    ".join(_column(c) for c in COLUMNS if c != "session_id")
    ddl = [
        f"""CREATE TABLE {SESSIONS} (
    session_id text COLLATE "C" PRIMARY KEY,
    record json NOT NULL,
    {columns}
)""",
        f"""CREATE TABLE {PARAMS} (
    session_id text COLLATE "C" NOT NULL REFERENCES {SESSIONS} ON DELETE CASCADE,
    name text COLLATE "C" NOT NULL, value text COLLATE "C" NOT NULL, num double precision,
    PRIMARY KEY (session_id, name)
)""",
        f"CREATE INDEX ix_{PARAMS}_value ON {PARAMS} (name, value)",
        f"CREATE INDEX ix_{PARAMS}_num ON {PARAMS} (name, num)",
        f"""CREATE TABLE {METRICS} (
    session_id text COLLATE "C" NOT NULL REFERENCES {SESSIONS} ON DELETE CASCADE,
    name text COLLATE "C" NOT NULL, value double precision NOT NULL,
    PRIMARY KEY (session_id, name)
)""",
        f"CREATE INDEX ix_{METRICS}_value ON {METRICS} (name, value, session_id)",
        f"""CREATE TABLE {LOGS} (
    session_id text COLLATE "C" NOT NULL, seq bigint NOT NULL,
    stream text NOT NULL, text text NOT NULL, PRIMARY KEY (session_id, seq)
)""",
        f"""CREATE TABLE {HEARTBEATS} (
    session_id text COLLATE "C" PRIMARY KEY, at double precision NOT NULL
)""",
        f"""CREATE TABLE {DETAILS} (
    session_id text COLLATE "C" PRIMARY KEY, title text, title_l text COLLATE "C",
    notes text, bookmark boolean NOT NULL DEFAULT false
)""",
    ]
    for name, columns in SORT_INDEXES + FILTER_INDEXES:
        ddl.append(f"CREATE INDEX ix_{SESSIONS}_{name} ON {SESSIONS} ({columns})")
    ddl.append(
        f"CREATE INDEX ix_{SESSIONS}_running ON {SESSIONS} (session_id) WHERE status = 'running'"
    )
    return ddl


def _v3() -> list[str]:
    """Multi-term filters on the columns people combine (``-status:success dirty:yes``,
    ``status:failed branch:main``) counted from one narrow index (index-only) instead of rows
    that carry the record: 400 ms -> 10 ms at 1M sessions. The parameter indexes hold the
    session id too, so ``param.X`` terms read no table rows (``param.model:mlp
    metric.accuracy>0.9``: 490 -> 260 ms). About a minute at 1M sessions, once."""
    ddl = [
        f"CREATE INDEX IF NOT EXISTS ix_{SESSIONS}_terms ON {SESSIONS} "
        "(status, dirty, branch_l, user_l)"
    ]
    for name, column in (("value", "value"), ("num", "num")):
        ddl.append(f"DROP INDEX IF EXISTS ix_{PARAMS}_{name}")
        ddl.append(f"CREATE INDEX ix_{PARAMS}_{name} ON {PARAMS} (name, {column}, session_id)")
    return ddl


#: characters of a long text a btree index keeps (an index entry is at most ~2.7 kB, so a
#: session with a 20 kB command could not be saved); queries order by (prefix, text, id)
INDEXED_CHARS = 1000
#: index columns whose texts can be that long: the command line, the parameters
LONG_TEXT_SORTS = {"command": "command_l", "params": "params_l"}


def _v4() -> list[str]:
    """Long commands and parameters: their indexes hold a bounded prefix (see INDEXED_CHARS)."""
    ddl = []
    for name, column in LONG_TEXT_SORTS.items():
        ddl.append(f"DROP INDEX IF EXISTS ix_{SESSIONS}_{name}")
        ddl.append(
            f"CREATE INDEX ix_{SESSIONS}_{name} ON {SESSIONS} "
            f"(left({column}, {INDEXED_CHARS}), session_id)"
        )
    ddl.append(f"DROP INDEX IF EXISTS ix_{PARAMS}_value")
    ddl.append(
        f"CREATE INDEX ix_{PARAMS}_value ON {PARAMS} "
        f"(name, left(value, {INDEXED_CHARS}), session_id)"
    )
    return ddl


def _v5() -> list[str]:
    """Statistics on the parameter and metric names with their values, taken together: a
    parameter's name and value are far from independent (``model = mlp`` in a third of the
    sessions was estimated at one in a hundred), and the planner that believed it sorted all
    matches of ``param.model:mlp metric.accuracy>0.9`` for the first page instead of walking
    the newest sessions (1M sessions: 750 -> 12 ms). Expression statistics need PostgreSQL 14;
    older servers get them on the plain columns. And trigram indexes for free words (see
    ``postgres_query._word_sql``): a word no session holds is told in milliseconds, not in a
    scan of every row (1M sessions: 1.5 s); about half a minute at 1M sessions, once."""
    create = (
        "CREATE STATISTICS IF NOT EXISTS st_sessionlens_params_value (mcv, dependencies) ON {} "
        f"FROM {PARAMS}"
    )
    return [
        "DO $$ BEGIN IF current_setting('server_version_num')::int >= 140000 THEN "
        f"EXECUTE '{create.format(f'name, (left(value, {INDEXED_CHARS}))')}'; "
        f"ELSE EXECUTE '{create.format('name, value')}'; END IF; END $$",
        f"CREATE STATISTICS IF NOT EXISTS st_sessionlens_params_num (mcv, dependencies) "
        f"ON name, num FROM {PARAMS}",
        f"CREATE STATISTICS IF NOT EXISTS st_sessionlens_metrics_value (mcv, dependencies) "
        f"ON name, value FROM {METRICS}",
        f"ANALYZE {PARAMS}, {METRICS}",
        # free words: trigram indexes where the server has pg_trgm (a trusted extension since
        # PostgreSQL 13: the database's owner may add it); without, words are found by a scan
        "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; EXCEPTION WHEN OTHERS THEN "
        "RAISE NOTICE 'sessionlens: no pg_trgm (%); free words are found by a scan', SQLERRM; "
        "END $$",
        "DO $$ DECLARE ops text; BEGIN SELECT quote_ident(n.nspname) || '.gin_trgm_ops' INTO ops "
        "FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'; IF ops IS NOT NULL THEN "
        f"EXECUTE 'CREATE INDEX IF NOT EXISTS ix_{SESSIONS}_hay_trgm ON {SESSIONS} "
        "USING gin (hay ' || ops || ')'; "
        f"EXECUTE 'CREATE INDEX IF NOT EXISTS ix_{SESSIONS}_params_trgm ON {SESSIONS} "
        "USING gin (params_l ' || ops || ')'; END IF; END $$",
    ]


#: Migration n brings a database from schema n - 1 to n.
MIGRATIONS: dict[int, list[str]] = {
    1: _v1(),
    2: [f"ALTER TABLE {DETAILS} ADD COLUMN IF NOT EXISTS archived boolean NOT NULL DEFAULT false"],
    3: _v3(),
    4: _v4(),
    5: _v5(),
}
SCHEMA_VERSION = max(MIGRATIONS)
#: the oldest schema a read-only open can read (2 added the ``archived`` column listings read;
#: 3 only adds an index)
READABLE_FROM = 2


def version(conn: Any, where: str) -> int | None:
    """The database's schema version; None when sessionlens never set it up."""
    found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (META,)).fetchone()[0]
    if not found:
        return None
    return _stored_version(conn, where)


def _stored_version(conn: Any, where: str) -> int:
    row = conn.execute(f"SELECT value FROM {META} WHERE key = 'schema_version'").fetchone()
    try:
        return int(row[0]) if row else 0
    except ValueError:
        raise StoreError(f"{where}: {META} holds an unreadable schema_version {row[0]!r}") from None


def check_version(found: int | None, where: str) -> None:
    """Refuse, in one line, a database of a newer schema than this code."""
    if found is not None and found > SCHEMA_VERSION:
        raise StoreError(
            f"{where}: written by a newer sessionlens (store schema {found}, this version "
            f"reads up to {SCHEMA_VERSION}); upgrade sessionlens"
        )


def check_readable(found: int, where: str) -> None:
    """Refuse, in one line, a database too old to read without upgrading it (browsing never
    writes, so it is not upgraded here)."""
    if found < READABLE_FROM:
        raise StoreError(
            f"{where}: written by an older sessionlens (store schema {found}); open it once "
            "read-write (record a run into it, or `sessionlens annotate`) to upgrade it"
        )


def migrate(conn: Any, where: str) -> None:
    """Apply the migrations this database lacks, each in one transaction under the advisory
    lock (``conn`` in autocommit mode; the version is read again under the lock)."""
    while True:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            # IF NOT EXISTS, then a read of the table: a catalog lookup could still miss a
            # table the lock's previous holder just made
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {META} (key text PRIMARY KEY, value text NOT NULL)"
            )
            current = _stored_version(conn, where)
            check_version(current, where)
            if current >= SCHEMA_VERSION:
                return
            for statement in MIGRATIONS[current + 1]:
                conn.execute(statement)
            conn.execute(
                f"INSERT INTO {META} VALUES ('schema_version', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(current + 1),),
            )
