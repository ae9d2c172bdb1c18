"""Where takes live. Callers use :func:`open_store` and the :class:`Store` interface, never SQL.

``DATABASE_URL`` uses SQLAlchemy's spelling:

* ``sqlite:///data/bot.db`` — a file relative to the current directory (three slashes);
* ``sqlite:////srv/bot/bot.db`` — an absolute path (four slashes);
* ``sqlite:///:memory:`` — a throwaway database, for tests;
* ``postgresql://user:password@host:5432/database`` — PostgreSQL (:mod:`bot.storage.postgres`),
  for several bot processes (shards) on one database.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import (
    TAKE_SOURCES,
    AuditEntry,
    CounterCheck,
    DatabaseFileGone,
    DatabaseUnreachable,
    ExportChunk,
    GuildSettings,
    Meeting,
    MeetingExists,
    MeetingState,
    NewMeeting,
    NewTake,
    PendingPoll,
    PinRecord,
    QuoteRedraw,
    SchemaTooNewError,
    StorageError,
    Store,
    Take,
    TakeChecks,
    TakeRefused,
    TakeSource,
    TakeStats,
)

if TYPE_CHECKING:
    from .sqlite import SqliteStore


def __getattr__(name: str) -> Any:
    """``SqliteStore`` is loaded on first use (aiosqlite and asyncio are not needed to read a URL)."""
    if name == "SqliteStore":
        from .sqlite import SqliteStore

        return SqliteStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "TAKE_SOURCES",
    "AuditEntry",
    "CounterCheck",
    "DatabaseFileGone",
    "DatabaseUnreachable",
    "ExportChunk",
    "GuildSettings",
    "Meeting",
    "MeetingExists",
    "MeetingState",
    "NewMeeting",
    "NewTake",
    "PendingPoll",
    "PinRecord",
    "QuoteRedraw",
    "SchemaTooNewError",
    "SqliteStore",
    "StorageError",
    "Store",
    "Take",
    "TakeChecks",
    "TakeRefused",
    "TakeSource",
    "TakeStats",
    "is_postgres_url",
    "open_store",
    "sqlite_path_from_url",
]

_EXAMPLE = "use sqlite:///relative/path.db, sqlite:////absolute/path.db or postgresql://user:password@host/database"


def is_postgres_url(url: str) -> bool:
    scheme = url.partition("://")[0].partition("+")[0].lower()
    return scheme in {"postgres", "postgresql"}


def sqlite_path_from_url(url: str) -> Path | str:
    """The file a ``sqlite:///…`` URL names (relative paths stay relative), or ``":memory:"``.

    Error messages never repeat the URL: a PostgreSQL one may carry a password.
    """
    scheme, separator, rest = url.partition("://")
    if not separator or not scheme:
        raise StorageError(f"DATABASE_URL is malformed (no scheme://); {_EXAMPLE}")
    dialect = scheme.partition("+")[0].lower()  # "sqlite+aiosqlite" is SQLAlchemy's async spelling
    if dialect in {"postgres", "postgresql"}:
        raise StorageError("DATABASE_URL names a PostgreSQL database, not a SQLite file")
    if dialect != "sqlite":
        raise StorageError(f"DATABASE_URL scheme {scheme!r} is not supported; {_EXAMPLE}")
    if not rest.startswith("/"):
        raise StorageError(
            f"DATABASE_URL is malformed: a sqlite URL has no host, so it starts sqlite:/// ; {_EXAMPLE}"
        )
    path = rest[1:]
    if not path:
        raise StorageError(f"DATABASE_URL names no database file; {_EXAMPLE}")
    if "?" in path:
        raise StorageError(f"DATABASE_URL options (?…) are not supported for sqlite; {_EXAMPLE}")
    if path == ":memory:":
        return path
    return Path(path)


async def open_store(database_url: str, *, pool_size: int = 10, sslmode: str | None = None) -> Store:
    """Open (creating and migrating as needed) the database ``database_url`` names.

    ``pool_size`` and ``sslmode`` apply to PostgreSQL (an ``sslmode`` in the URL works too).
    """
    if is_postgres_url(database_url):
        from .postgres import PostgresStore  # asyncpg is loaded only by those who use it

        return await PostgresStore.open(database_url, pool_size=pool_size, sslmode=sslmode)
    from .sqlite import SqliteStore

    return await SqliteStore.open(sqlite_path_from_url(database_url))
