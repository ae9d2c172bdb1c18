"""``python -m bot backup <path>``: a consistent copy of the database, safe while the bot runs.

SQLite's online backup API copies the file as one snapshot (in WAL mode the bot keeps writing
meanwhile and is never blocked); the copy is written beside its destination, checked with
``PRAGMA integrity_check``, and only then renamed into place, so an interrupted or failed backup
never replaces a good one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.storage import StorageError, sqlite_path_from_url


@dataclass(frozen=True)
class BackupResult:
    source: Path
    destination: Path
    size_bytes: int
    takes: int
    schema_version: int

    def describe(self) -> str:
        takes = "1 take" if self.takes == 1 else f"{self.takes} takes"
        return (f"backed up {self.source} to {self.destination} ({takes}, schema version "
                f"{self.schema_version}, {self.size_bytes / 1024:.0f} KiB); integrity check ok")


def backup_target(destination: Path, now: dt.datetime | None = None) -> Path:
    """A folder gets a dated file in it; anything else is the file to write."""
    if destination.is_dir():
        stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d-%H%M%S")
        return destination / f"commonfactors-{stamp}.db"
    return destination


def _copy(source: Path, target: Path) -> BackupResult:
    if not source.is_file():
        raise StorageError(f"there is no database at {source} (check DATABASE_URL / DATA_DIR)")
    if target.exists() and target.resolve() == source.resolve():
        raise StorageError("the backup must not overwrite the database itself; give another path")
    if not target.parent.is_dir():
        raise StorageError(f"the folder {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        # Read-only: a backup never creates, migrates or changes the live database.
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)  # one step: a single consistent snapshot
                dst.execute("PRAGMA journal_mode = DELETE")  # a self-contained file, no -wal beside it
                problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
                if problems != ["ok"]:
                    raise StorageError(f"the copy failed its integrity check ({'; '.join(problems[:3])}); "
                                       "nothing was replaced")
                takes = dst.execute("SELECT COUNT(*) FROM takes").fetchone()[0]
                version = dst.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]
            finally:
                dst.close()
        finally:
            src.close()
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise StorageError(f"the backup of {source} failed: {exc}; nothing was replaced") from exc
    except OSError as exc:
        raise StorageError(f"cannot write the backup {target}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
    return BackupResult(source, target, target.stat().st_size, int(takes), int(version))


async def backup_database(database_url: str, destination: Path) -> BackupResult:
    """Copy the database ``database_url`` names to ``destination`` (a file, or a folder)."""
    source = sqlite_path_from_url(database_url)
    if not isinstance(source, Path):
        raise StorageError("DATABASE_URL is an in-memory database: there is nothing to back up")
    return await asyncio.to_thread(_copy, source, backup_target(destination))
