"""Numbered SQL migrations (``migrations/V<n>__<name>.sql``) and the runner that applies them.

The runner lives here rather than in ``migrations.py`` because a module of that name would
shadow the ``migrations/`` folder of SQL files beside it.

Versions are recorded in a ``schema_migrations`` table (version, name, applied_at) rather than
``PRAGMA user_version``: the PostgreSQL backend can keep the very same table, and an operator
can see when each step ran. Every missing migration is applied in ONE ``BEGIN IMMEDIATE``
transaction, so a start-up either reaches the newest version or leaves the file as it was.

Migrations only ever add: a new version must keep every take the previous one held.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from .base import SchemaTooNewError, StorageError
from .connection import AsyncConnection

log = logging.getLogger(__name__)

MIGRATION_FILE = re.compile(r"V(?P<version>[1-9][0-9]*)__(?P<name>[A-Za-z0-9_]+)\.sql")

#: Statements that would end the runner's transaction early and break all-or-nothing.
_TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "VACUUM"}
_FIRST_KEYWORD = re.compile(r"\s*(?:(?:--[^\n]*(?:\n|$)|/\*.*?\*/)\s*)*(\w+)", re.DOTALL)

_CREATE_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"V{self.version}__{self.name}"


def split_statements(sql: str) -> list[str]:
    """Cut a script into single statements, because ``executescript`` would commit our transaction.

    ``sqlite3.complete_statement`` decides where a statement ends, so semicolons inside strings,
    comments and trigger bodies do not split it.
    """
    statements: list[str] = []
    start = 0
    for index, char in enumerate(sql):
        if char == ";" and sqlite3.complete_statement(sql[start : index + 1]):
            statements.append(sql[start : index + 1].strip())
            start = index + 1
    tail = sql[start:]
    if _FIRST_KEYWORD.match(tail):  # something other than whitespace and comments is left
        statements.append(tail.strip())
    return statements


def bundled_migrations_dir() -> Traversable:
    """The SQL files shipped with the package; ``importlib.resources`` finds them when installed."""
    return resources.files(__package__ or "bot.storage").joinpath("migrations")


def discover_scripts(folder: Traversable) -> list[tuple[int, str, str]]:
    """Every ``V<n>__<name>.sql`` in ``folder`` as (version, name, text), in version order.

    A misnamed ``.sql`` file, a duplicate version or a gap is an error: silently skipping a
    step would leave a schema no version of the bot expects. Both backends number their
    folders the same way.
    """
    found: dict[int, tuple[int, str, str]] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = MIGRATION_FILE.fullmatch(entry.name)
        if match is None:
            raise StorageError(f"migration file {entry.name!r} is not named V<number>__<name>.sql")
        version = int(match["version"])
        if version in found:
            raise StorageError(f"two migration files claim version {version}")
        found[version] = (version, match["name"], entry.read_text(encoding="utf-8"))
    versions = sorted(found)
    if versions != list(range(1, len(versions) + 1)):
        raise StorageError(f"migration versions must run 1, 2, 3… without gaps; found {versions}")
    return [found[version] for version in versions]


def discover_migrations(folder: Traversable | None = None) -> list[Migration]:
    """The SQLite migrations in ``folder`` (the bundled one by default), in version order."""
    folder = bundled_migrations_dir() if folder is None else folder
    migrations = []
    for version, name, text in discover_scripts(folder):
        statements = tuple(split_statements(text))
        for statement in statements:
            keyword = _FIRST_KEYWORD.match(statement)
            if keyword and keyword[1].upper() in _TRANSACTION_CONTROL:
                raise StorageError(
                    f"migration V{version}__{name}.sql contains {keyword[1].upper()}: the runner owns the transaction"
                )
        migrations.append(Migration(version, name, statements))
    return migrations


async def recorded_version(conn: AsyncConnection) -> int:
    """The newest version applied to this database; 0 for a new (or foreign) file."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        )
    )
    if not rows:
        return 0
    rows = list(await conn.execute_fetchall("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
    return int(rows[0][0])


async def apply_migrations(conn: AsyncConnection, migrations: Sequence[Migration] | None = None) -> int:
    """Bring the database up to the newest migration and return the version it is now at.

    ``conn`` must be in autocommit mode (``isolation_level=None``) so this function owns the
    transaction. A database newer than the newest migration raises :class:`SchemaTooNewError`
    and is left untouched; any failure rolls every step back and raises :class:`StorageError`.
    """
    migrations = discover_migrations() if migrations is None else list(migrations)
    supported = migrations[-1].version if migrations else 0
    current: Migration | None = None
    try:
        await conn.execute("BEGIN IMMEDIATE")
        # Read inside the write lock: two bots starting on one file must not both migrate.
        found = await recorded_version(conn)
        if found > supported:
            raise SchemaTooNewError(found, supported)
        pending = [migration for migration in migrations if migration.version > found]
        if pending:
            await conn.execute(_CREATE_VERSION_TABLE)
            applied_at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
            for current in pending:
                for statement in current.statements:
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (current.version, current.name, applied_at),
                )
        await conn.execute("COMMIT")
    except StorageError:
        await _rollback_quietly(conn)
        raise
    except (sqlite3.Error, ValueError) as exc:
        await _rollback_quietly(conn)
        step = f"migration {current.label}" if current else "reading the schema version"
        raise StorageError(f"{step} failed: {exc}; the database was not changed") from exc
    except BaseException:
        await _rollback_quietly(conn)
        raise
    for migration in pending:
        log.info("applied database migration %s", migration.label)
    return max(found, supported)


async def _rollback_quietly(conn: AsyncConnection) -> None:
    """Roll back if a transaction is open; a broken connection has nothing left to undo."""
    with contextlib.suppress(sqlite3.Error, ValueError):
        await conn.execute("ROLLBACK")
