"""``python -m bot backup <path>`` and ``python -m bot restore <backup>``: the operator's copies.

Backup. SQLite's online backup API copies the file as one snapshot (in WAL mode the bot keeps
writing meanwhile and is never blocked); the copy is written to a new file (0600) beside its
destination, checked with ``PRAGMA integrity_check``, flushed to disk, and only then moved
into place, so an interrupted or failed backup never replaces a good one. It writes only to a
new path, a folder (a dated file inside), or over an earlier backup of ours (a SQLite file in
rollback-journal mode with our schema). Anything else is refused, decided by what the file
*is* (device and inode, type, content), never by how its path is spelled: the live database
and its ``-wal``, ``-shm`` and ``.lock``, other files, devices, folders, pipes.

Restore. For a stopped bot: it takes the database's process lock (so no bot can start, and a
running one is refused), checks the backup (integrity, our schema, not newer than this code),
moves the database it replaces (with its ``-wal`` and ``-shm``) to a dated name beside it, and
installs a verified copy of the backup in its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import os
import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.storage import StorageError, is_postgres_url, sqlite_path_from_url
from bot.storage.schema import discover_migrations
from bot.storage.sqlite import DatabaseInUse, ProcessLock

#: The first bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"
#: Files the live database keeps beside it, all refused as backup targets.
LIVE_SUFFIXES = {"": "the live database", "-wal": "the live database's -wal file",
                 "-shm": "the live database's -shm file", ".lock": "the live database's .lock file",
                 "-journal": "the live database's -journal file"}


@dataclass(frozen=True)
class Contents:
    """What a database file holds, as the operator would want to hear it."""

    takes: int
    servers: int
    newest: dt.datetime | None
    schema_version: int

    def describe(self) -> str:
        takes = "1 take" if self.takes == 1 else f"{self.takes} takes"
        servers = "1 server" if self.servers == 1 else f"{self.servers} servers"
        newest = f", newest take {self.newest:%Y-%m-%d %H:%M} UTC" if self.newest else ""
        return f"{takes} from {servers}{newest}, schema version {self.schema_version}"


@dataclass(frozen=True)
class BackupResult:
    source: Path
    destination: Path
    size_bytes: int
    contents: Contents

    @property
    def takes(self) -> int:
        return self.contents.takes

    @property
    def schema_version(self) -> int:
        return self.contents.schema_version

    def describe(self) -> str:
        return (f"backed up {self.source} to {self.destination} ({self.contents.describe()}, "
                f"{self.size_bytes / 1024:.0f} KiB); integrity check ok")


@dataclass(frozen=True)
class RestoreResult:
    backup: Path
    database: Path
    contents: Contents
    #: Where the database that was replaced now is (None: there was none).
    kept: Path | None

    def describe(self) -> str:
        kept = (f"the database it replaced is kept as {self.kept}" if self.kept
                else "there was no database there before")
        return f"restored {self.backup} into {self.database} ({self.contents.describe()}); {kept}"


def _stamp(now: dt.datetime | None) -> str:
    return (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d-%H%M%S")


def backup_target(destination: Path, now: dt.datetime | None = None) -> Path:
    """A folder gets a dated file in it; anything else is the file to write."""
    if destination.is_dir():
        return destination / f"commonfactors-{_stamp(now)}.db"
    return destination


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def live_files(database: Path) -> dict[tuple[int, int], str]:
    """The live database and the files SQLite and the bot keep beside it, by identity."""
    found: dict[tuple[int, int], str] = {}
    for base in (database, Path(os.path.realpath(database))):
        for suffix, what in LIVE_SUFFIXES.items():
            identity = _identity(base.with_name(base.name + suffix))
            if identity is not None:
                found.setdefault(identity, what)
    return found


def _read_contents(conn: sqlite3.Connection) -> Contents:
    takes, newest = conn.execute("SELECT COUNT(*), MAX(created_at) FROM takes").fetchone()
    servers = conn.execute("SELECT COUNT(*) FROM (SELECT guild_id FROM takes UNION SELECT guild_id "
                           "FROM guild_settings)").fetchone()[0]
    version = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]
    return Contents(int(takes), int(servers), dt.datetime.fromisoformat(newest) if newest else None, int(version))


def _ours(conn: sqlite3.Connection) -> bool:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {"takes", "schema_migrations", "guild_settings"} <= tables


def _open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{Path(os.path.realpath(path)).as_uri()}?mode=ro", uri=True, timeout=30)


def read_contents(path: Path) -> Contents:
    """What the database at ``path`` holds, read-only; refused if it is not ours or too new."""
    try:
        conn = _open_read_only(path)
        try:
            if not _ours(conn):
                raise StorageError(f"{path} is not this bot's database (no takes or schema_migrations table)")
            contents = _read_contents(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read the database {path}: {exc}") from None
    _refuse_newer(path, contents)
    return contents


def _refuse_newer(path: Path, contents: Contents) -> None:
    known = discover_migrations()[-1].version
    if contents.schema_version > known:
        raise StorageError(f"{path} is from a newer version of the bot (schema version {contents.schema_version}, "
                           f"this one knows {known}): upgrade the bot first; nothing was changed")


def is_earlier_backup(path: Path) -> bool:
    """A SQLite file in rollback-journal mode (as backups are written; a live database is in WAL
    mode) holding our tables."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError:
        return False
    if len(header) < 100 or not header.startswith(SQLITE_HEADER) or header[18:20] != b"\x01\x01":
        return False
    try:
        conn = _open_read_only(path)
        try:
            return _ours(conn)
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def refuse_target(target: Path, database: Path) -> None:
    """Raise a one-line StorageError unless ``target`` is a new path or an earlier backup of ours."""
    real = Path(os.path.realpath(target))
    if os.path.lexists(target) and not os.path.exists(target):
        raise StorageError(f"{target} is a link to nothing; give a new path or a folder for the backup")
    if not real.parent.is_dir():
        raise StorageError(f"the folder {target.parent} does not exist")
    try:
        status = os.stat(real)
    except FileNotFoundError:
        return  # a new path
    except OSError as exc:
        raise StorageError(f"cannot look at {target}: {exc.strerror or exc}") from exc
    what = live_files(database).get((status.st_dev, status.st_ino))
    if what is not None:
        raise StorageError(f"{target} is {what}: a backup never writes over the database or its files; "
                           "give a new path or a folder")
    if not stat.S_ISREG(status.st_mode):
        raise StorageError(f"{target} is not a regular file (a device, a pipe or a socket); "
                           "give a new path or a folder for the backup")
    if not is_earlier_backup(real):
        raise StorageError(f"{target} already exists and is not an earlier backup of this bot; backup writes only "
                           "to a new path, a folder, or over an earlier backup")


@contextlib.contextmanager
def _private_copy(source: Path, beside: Path) -> Iterator[tuple[Path, Contents]]:
    """A verified snapshot of ``source`` (opened read-only, never changed) in a new file only this
    user can read (0600), beside ``beside``; the file is gone afterwards unless moved into place."""
    partial = beside.with_name(f".{beside.name}.partial-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()  # our own leftover from an earlier run under the same process id
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        src = _open_read_only(source)
        try:
            contents = _copy_verified(src, partial)
        finally:
            src.close()
        yield partial, contents
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()


def _fsync(path: Path, *, folder: bool = False) -> None:
    handle = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if folder else 0))
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _copy_verified(source: sqlite3.Connection, partial: Path) -> Contents:
    """Copy ``source`` into the (empty, private) file ``partial`` as one snapshot and check it."""
    dst = sqlite3.connect(partial)
    try:
        dst.execute("PRAGMA secure_delete = ON")
        source.backup(dst)  # one step: a single consistent snapshot
        dst.execute("PRAGMA journal_mode = DELETE")  # a self-contained file, no -wal beside it
        problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise StorageError(f"the copy failed its integrity check ({'; '.join(problems[:3])}); "
                               "nothing was replaced")
        if not _ours(dst):
            raise StorageError("it does not hold this bot's tables (takes, schema_migrations); nothing was replaced")
        contents = _read_contents(dst)
    finally:
        dst.close()
    _fsync(partial)
    return contents


def _install(partial: Path, target: Path, *, replace: bool) -> None:
    """Move the finished copy into place: over an earlier backup, or onto a path that must still be new."""
    if replace:
        os.replace(partial, target)
    else:
        try:
            os.link(partial, target)  # fails if something appeared there meanwhile
        except FileExistsError:
            raise StorageError(f"{target} appeared while the backup was written; nothing was replaced") from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            os.replace(partial, target)  # a file system without hard links
        partial.unlink(missing_ok=True)
    _fsync(target.parent, folder=True)


def _copy(source: Path, target: Path) -> BackupResult:
    if not source.is_file():
        raise StorageError(f"there is no database at {source} (check DATABASE_URL / DATA_DIR, or --env-file)")
    refuse_target(target, source)
    real = Path(os.path.realpath(target))
    existed = real.exists()
    try:
        with _private_copy(source, real) as (partial, contents):  # a backup never changes the live database
            _install(partial, real, replace=existed)
    except sqlite3.Error as exc:
        raise StorageError(f"the backup of {source} failed: {exc}; nothing was replaced") from exc
    except OSError as exc:
        raise StorageError(f"cannot write the backup {target}: {exc.strerror or exc}") from exc
    return BackupResult(source, target, real.stat().st_size, contents)


def _sqlite_file(database_url: str, doing: str) -> Path:
    if is_postgres_url(database_url):
        raise StorageError(f"{doing} works on a SQLite file; DATABASE_URL names a PostgreSQL database: use pg_dump "
                           "and pg_restore (README: Running at scale, Backing up PostgreSQL)")
    path = sqlite_path_from_url(database_url)
    if not isinstance(path, Path):
        raise StorageError(f"DATABASE_URL is an in-memory database: there is nothing to {doing}")
    return path


async def backup_database(database_url: str, destination: Path) -> BackupResult:
    """Copy the database ``database_url`` names to ``destination`` (a file, or a folder)."""
    source = _sqlite_file(database_url, "back up")
    return await asyncio.to_thread(_copy, source, backup_target(destination))


# -- restore ---------------------------------------------------------------------------------------


def _restore(backup: Path, database: Path, now: dt.datetime | None) -> RestoreResult:
    try:
        status = os.stat(backup)
    except OSError as exc:
        raise StorageError(f"cannot read the backup {backup}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(status.st_mode):
        raise StorageError(f"{backup} is not a regular file; give the backup file to restore")
    if (status.st_dev, status.st_ino) in live_files(database):
        raise StorageError(f"{backup} is the live database itself; give a backup file to restore")
    real = Path(os.path.realpath(database))
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create the folder for the database {database}: {exc}") from exc
    try:
        lock = ProcessLock.take(database)
    except DatabaseInUse:
        raise StorageError(f"a bot is running on {database} (it holds the database's lock): stop it first "
                           "(systemctl stop commonfactors-bot), then restore; nothing was changed") from None
    try:
        with contextlib.ExitStack() as stack:
            try:
                partial, contents = stack.enter_context(_private_copy(backup, real))
            except (sqlite3.Error, StorageError) as exc:
                raise StorageError(f"{backup} is not a usable backup of this bot ({exc}); "
                                   "nothing was changed") from None
            _refuse_newer(backup, contents)
            kept = None
            if real.exists():
                kept = real.with_name(f"{real.name}.replaced-{_stamp(now)}")
                if os.path.lexists(kept):
                    raise StorageError(f"{kept} already exists; wait a second and restore again; nothing was changed")
                # The database, with its -wal and -shm: together they are the database as the bot left it.
                for suffix in ("-wal", "-shm", "-journal", ""):
                    moving = real.with_name(real.name + suffix)
                    if moving.exists():
                        os.rename(moving, kept.with_name(kept.name + suffix))
            os.rename(partial, real)
            _fsync(real.parent, folder=True)
    except OSError as exc:
        raise StorageError(f"the restore into {database} failed: {exc.strerror or exc}") from exc
    finally:
        lock.release()
    return RestoreResult(backup, database, contents, kept)


async def restore_database(database_url: str, backup: Path, now: dt.datetime | None = None) -> RestoreResult:
    """Put ``backup`` in the place of the (stopped) bot's database; see the module's description."""
    database = _sqlite_file(database_url, "restore")
    return await asyncio.to_thread(_restore, backup, database, now)
