"""The SQLite backend: a write connection with group commit, a read connection beside it.

Writes. One connection, on aiosqlite's thread (:class:`~bot.storage.connection.SqliteThread`),
runs every write as one function call: ``BEGIN IMMEDIATE``, the statements, ``COMMIT``. Takes
go further: those that arrive while a transaction is committing wait in a queue and the next
transaction inserts them all, each with its rules (duplicate, cooldown) checked in the INSERT
itself (*group commit*). Every ``add_take`` returns only after the COMMIT that holds its take;
a failed COMMIT fails every take in it with :class:`StorageError` ("not saved"). One fsync then
covers many takes, which is where the throughput comes from; the durability promise is the
same.

Reads. A second connection (WAL mode) reads the last committed state without waiting for the
write lock, so a listing never queues behind a write, and never sees a write that has not
committed. An in-memory database (tests) cannot be shared by two connections, so there reads
use the write connection and wait for writes to finish.

Counts. ``count_takes`` and ``take_stats`` read counter tables that triggers keep in the
same transaction as every insert and delete (migration V3); :meth:`SqliteStore.check_counters`
and :meth:`SqliteStore.rebuild_counters` recount from the rows.

Why ``secure_delete=ON``: a member who deletes a take or asks to be forgotten expects the words
gone from the file, not left in free pages until SQLite happens to reuse them (builds from
python.org and macOS do not turn it on by default).

Why ``synchronous=FULL`` (not NORMAL) under WAL: with NORMAL a commit can be lost to a power
cut, and a take the bot has acknowledged must survive one. Group commit pays for the fsync.

The file under us. Before each write transaction the store checks that the path still names
the file it opened (device and inode): a database deleted or replaced under a running bot
would otherwise take writes into an unlinked file that vanishes at the next start. Until the
file is back, writes raise :class:`DatabaseFileGone` and the log says so once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import functools
import json
import logging
import operator
import os
import sqlite3
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar, cast

from .base import (
    MEETING_COLUMNS,
    MEETING_MUTABLE,
    MEETING_TIMES,
    NEW_TAKE_COLUMNS,
    TAKE_BLOCK_BITS,
    AuditEntry,
    CounterCheck,
    DatabaseFileGone,
    ExportChunk,
    GuildSettings,
    Meeting,
    MeetingExists,
    NewMeeting,
    NewTake,
    PendingPoll,
    PinRecord,
    QuoteRedraw,
    StorageError,
    Store,
    Take,
    TakeChecks,
    TakeRefused,
    TakeSource,
    TakeStats,
    assemble_stats,
    far_page_from,
    first_stats_day,
    message_id_of,
    positive_limit,
)
from .connection import SqliteThread
from .export_rows import SQLITE, chunk_of, export_query, export_where
from .group_commit import fail as _fail
from .group_commit import storage_error as _storage_error
from .schema import apply_migrations, discover_migrations, recorded_version

log = logging.getLogger(__name__)

T = TypeVar("T")

MEMORY = ":memory:"
BUSY_TIMEOUT_MS = 5000
#: At most this many takes share one transaction; more wait for the next one.
GROUP_COMMIT_MAX = 1000

#: What the driver raises for a failed statement, a closed connection (ValueError), text that
#: cannot be encoded (a lone surrogate: UnicodeEncodeError, a ValueError), or an id beyond
#: SQLite's 64-bit integers.
_DRIVER_ERRORS = (sqlite3.Error, ValueError, OverflowError)

_TAKE_COLUMNS = (
    "id, guild_id, channel_id, article, author_id, author_name, content, source, "
    "created_at, edited_at, message_url"
)

#: Where each of :data:`NEW_TAKE_COLUMNS` sits in a new take's parameters.
_AT = {name: n for n, (name, _) in enumerate(NEW_TAKE_COLUMNS)}
_INSERT_TAKE = f"INSERT INTO takes ({', '.join(_AT)}) "
_ROW = ", ".join("?" * len(_AT))
_INSERT_PLAIN = _INSERT_TAKE + f"VALUES ({_ROW})"
#: A new take's values in NEW_TAKE_COLUMNS order, and where its times are among them.
_NEW_TAKE_VALUES = operator.attrgetter(*_AT)
_TIME_AT = tuple(n for n, (_, kind) in enumerate(NEW_TAKE_COLUMNS) if kind == "timestamptz")
#: One statement: the insert happens only if neither rule objects. A NULL bound for a rule
#: (no check asked) makes its EXISTS false. Both read the member's own (guild_id, author_id,
#: created_at) index; the unary ``+article`` keeps SQLite from scanning the whole article's recent
#: takes instead (measured: 20× slower with a busy article).
_INSERT_CHECKED = (
    _INSERT_TAKE + f"SELECT {_ROW} WHERE NOT EXISTS ("
    "SELECT 1 FROM takes WHERE guild_id = ? AND author_id = ? AND created_at >= ? AND +article = ? AND content = ?"
    ") AND NOT EXISTS (SELECT 1 FROM takes WHERE guild_id = ? AND author_id = ? AND created_at > ?)"
)

#: The counters as the rows say they should be (same shapes as the counter tables).
_RECOUNT = {
    "take_counts": (
        "SELECT guild_id, article, COUNT(*), COUNT(DISTINCT author_id) FROM takes GROUP BY guild_id, article"
    ),
    "take_member_counts": (
        "SELECT guild_id, article, author_id, COUNT(*) FROM takes GROUP BY guild_id, article, author_id"
    ),
    "take_day_counts": (
        "SELECT guild_id, article, substr(created_at, 1, 10), COUNT(*) FROM takes "
        "GROUP BY guild_id, article, substr(created_at, 1, 10)"
    ),
    "take_blocks": (
        f"SELECT guild_id, article, id >> {TAKE_BLOCK_BITS}, COUNT(*) FROM takes "
        f"GROUP BY guild_id, article, id >> {TAKE_BLOCK_BITS}"
    ),
}


def _plain_page(where: str, limit: str) -> str:
    return f"SELECT {_TAKE_COLUMNS} FROM takes WHERE {where} ORDER BY created_at, id LIMIT {limit}"


def _far_page(conn: sqlite3.Connection, guild_id: int, article: str, *, from_oldest: bool, offset: int,
              limit: int) -> list[Take]:
    """The ``limit`` takes after the first ``offset`` of an article's list, counted from the
    newest (or ``from_oldest``), newest first: the blocks' counts (V9) summed from that end find
    the block the page starts in, and the index skips fewer than a block's entries in it, not
    ``offset`` of them."""
    skip, start = offset, None
    blocks = conn.execute(f"SELECT block, takes FROM take_blocks WHERE guild_id = ? AND article = ? "
                          f"ORDER BY block {'ASC' if from_oldest else 'DESC'}", (guild_id, article))
    try:
        for block, takes in blocks:
            if skip < takes:
                start = block
                break
            skip -= takes
    finally:
        blocks.close()
    if start is None:
        return []  # past the end of the list
    edge, bound, order = ("id >= ?", start << TAKE_BLOCK_BITS, "ASC") if from_oldest else (
        "id < ?", (start + 1) << TAKE_BLOCK_BITS, "DESC")
    return [_take_from_row(row) for row in conn.execute(
        f"SELECT {_TAKE_COLUMNS} FROM takes WHERE id IN (SELECT id FROM takes WHERE guild_id = ? AND article = ? "
        f"AND {edge} ORDER BY id {order} LIMIT ? OFFSET ?) ORDER BY id DESC", (guild_id, article, bound, limit, skip))]


def time_to_db(value: dt.datetime) -> str:
    """UTC ISO-8601 text with microseconds: fixed width, so text order is time order."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"storage needs timezone-aware UTC times, got naive {value!r}")
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def time_from_db(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _take_from_row(row: sqlite3.Row | tuple[Any, ...]) -> Take:
    return Take(
        id=row[0],
        guild_id=row[1],
        channel_id=row[2],
        article=row[3],
        author_id=row[4],
        author_name=row[5],
        content=row[6],
        source=cast(TakeSource, row[7]),
        created_at=time_from_db(row[8]),
        edited_at=None if row[9] is None else time_from_db(row[9]),
        message_url=row[10],
    )


def count_mismatches(conn: sqlite3.Connection) -> CounterCheck:
    """Rows of each counter table that a recount does not reproduce, either way."""
    found = []
    for table, recount in _RECOUNT.items():
        # Counters that fell to zero stay as rows of 0 (the triggers never delete): not a disagreement.
        kept = f"SELECT * FROM {table} WHERE takes != 0"
        sql = (f"SELECT (SELECT COUNT(*) FROM ({recount} EXCEPT {kept})) + "
               f"(SELECT COUNT(*) FROM ({kept} EXCEPT {recount}))")
        found.append(int(conn.execute(sql).fetchone()[0]))
    return CounterCheck(articles=found[0], members=found[1], days=found[2], blocks=found[3])


def recount(conn: sqlite3.Connection) -> None:
    """Replace every counter with a recount of the rows (inside the caller's transaction).

    Also what a bulk load does after inserting rows with the counting triggers set aside.
    """
    for table, query in _RECOUNT.items():
        conn.execute(f"DELETE FROM {table}")
        conn.execute(f"INSERT INTO {table} {query}")


@dataclass(slots=True)
class _Pending:
    """A take waiting for the next group commit, and the future its caller awaits."""

    take: NewTake
    #: The row's values in NEW_TAKE_COLUMNS order, times as the text SQLite keeps.
    params: tuple[Any, ...]
    #: The rules' bounds as stored text (None: that rule is not checked), or no checks at all.
    bounds: tuple[str | None, str | None] | None
    future: asyncio.Future[Take]
    #: What its caller sleeps on: resolved when the take is answered, or to hand the caller the
    #: lead of the next group (see ``add_take``). One future, not a wait on two: a wait costs a
    #: waiter future and two callbacks per take, measured in the group commit's loop time.
    wake: asyncio.Future[None]
    #: Filled on the writer thread: the saved take, a refusal, or this take's own failure.
    outcome: Take | BaseException | None = None
    #: Its caller stopped waiting (cancelled): never handed the lead.
    abandoned: bool = False
    #: (meeting id, question) for a take written in a meeting's thread.
    link: tuple[int, int] | None = None


class SqliteStore(Store):
    """A :class:`Store` in one SQLite file (or in memory, for tests)."""

    def __init__(self, conn: SqliteThread, reader: SqliteThread | None, path: Path | str,
                 owner: ProcessLock | None = None) -> None:
        """Use :meth:`open`, which migrates the schema first."""
        #: Held while the store is open: one process per database file.
        self._owner = owner
        self._locks: weakref.WeakValueDictionary[tuple[object, ...], asyncio.Lock] = weakref.WeakValueDictionary()
        #: The write connection (tests reach for it to make the disk refuse writes).
        self._conn: SqliteThread | None = conn
        self._reader = reader
        self._write_lock = asyncio.Lock()
        self._pending: list[_Pending] = []
        #: Set while some caller is committing a group of queued takes (see :meth:`add_take`).
        self._flushing = False
        #: Resolved when that group is done: the next waiting caller leads the next group.
        self._turn: asyncio.Future[None] | None = None
        self._settings: dict[int, GuildSettings] = {}
        self.path = path
        self._identity = _file_identity(path) if str(path) != MEMORY else None
        self._file_gone = False

    @classmethod
    async def open(cls, path: Path | str, *, migrations_dir: Traversable | None = None) -> SqliteStore:
        """Connect, migrate to the newest schema and return a ready store.

        ``migrations_dir`` replaces the bundled SQL files; tests use it to stage a bad migration.
        """
        in_memory = str(path) == MEMORY
        if not in_memory:
            path = Path(path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the folder for the database {path}: {exc}") from exc
        migrations = discover_migrations(migrations_dir)
        owner = None if in_memory else ProcessLock.take(Path(path))
        try:
            conn = await SqliteThread.connect(MEMORY if in_memory else path, name="db-write")
        except _DRIVER_ERRORS as exc:
            if owner is not None:
                owner.release()
            raise StorageError(f"cannot open the database {path}: {exc}") from exc
        reader: SqliteThread | None = None
        try:
            # Connection settings only: nothing here writes to the file, so a refused (too new)
            # database is left byte for byte as it was.
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA synchronous = FULL")
            # Deleted words are overwritten with zeros, not left in free pages (and every later backup).
            await conn.execute("PRAGMA secure_delete = ON")
            version = await apply_migrations(conn, migrations)
            if not in_memory:
                rows = await conn.execute_fetchall("PRAGMA journal_mode = WAL")
                if str(rows[0][0]).lower() != "wal":
                    log.warning("SQLite refused WAL mode for %s (kept %s); reads will wait for writes",
                                path, rows[0][0])
                else:
                    reader = await SqliteThread.connect(path, name="db-read")
                    await reader.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                    await reader.execute("PRAGMA query_only = ON")
                    await reader.execute("PRAGMA secure_delete = ON")
        except _DRIVER_ERRORS as exc:
            await _close_quietly(conn, reader)
            if owner is not None:
                owner.release()
            raise StorageError(f"cannot prepare the database {path}: {exc}") from exc
        except BaseException:  # SchemaTooNewError, a failed migration, cancellation
            await _close_quietly(conn, reader)
            if owner is not None:
                owner.release()
            raise
        log.info("opened database %s at schema version %d", path, version)
        return cls(conn, reader, path, owner)

    # -- plumbing -----------------------------------------------------------------------------
    def _connection(self) -> SqliteThread:
        if self._conn is None:
            raise StorageError("the store is closed")
        return self._conn

    def _check_file(self) -> None:
        """On the writer thread, before a transaction: is the path still the file we opened?"""
        if self._identity is None:
            return
        if _file_identity(self.path) != self._identity:
            if not self._file_gone:
                self._file_gone = True
                log.error("the database file %s was deleted or replaced while the bot was running: writes are "
                          "refused (members hear 'not saved') until the file is back where it was; restore it, "
                          "or restart the bot to open the file now at that path", self.path)
            raise DatabaseFileGone(f"the database file {self.path} is gone or was replaced; nothing was saved")
        if self._file_gone:
            self._file_gone = False
            log.warning("the database file %s is back: writes resume", self.path)

    def _transaction(self, conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
        """On the writer thread: ``fn`` inside BEGIN IMMEDIATE … COMMIT, rolled back if anything fails."""
        self._check_file()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
        return result

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """One write transaction in one trip to the writer thread; StorageError if it did not commit."""
        async with self._write_lock:
            conn = self._connection()
            try:
                return await conn.run(self._transaction, fn)
            except _DRIVER_ERRORS as exc:
                raise StorageError(f"the database refused the write: {exc}; nothing was saved") from exc

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[SqliteThread]:
        """A write transaction spread over several awaits (for statements decided as it goes)."""
        async with self._write_lock:
            conn = self._connection()
            try:
                await conn.run(lambda _: self._check_file())
                await conn.execute("BEGIN IMMEDIATE")
                yield conn
                await conn.execute("COMMIT")
            except _DRIVER_ERRORS as exc:
                await self._rollback_on(conn)
                raise StorageError(f"the database refused the write: {exc}; nothing was saved") from exc
            except BaseException:
                # Cancellation too: a half-done transaction must not wait for the next caller's COMMIT.
                await self._rollback_on(conn)
                raise

    @staticmethod
    async def _rollback_on(conn: SqliteThread) -> None:
        with contextlib.suppress(*_DRIVER_ERRORS):
            await conn.run(_rollback)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn`` on the read connection: the last committed state, without waiting for writers."""
        try:
            if self._reader is not None and self._conn is not None:
                return await self._reader.run(fn)
            # One connection (in memory): wait for the write in progress, or we would see it half done.
            async with self._write_lock:
                return await self._connection().run(fn)
        except _DRIVER_ERRORS as exc:
            raise StorageError(f"the database could not be read: {exc}") from exc

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return await self._read(lambda conn: conn.execute(sql, params).fetchall())

    async def _fetch_takes(self, sql: str, params: Sequence[Any] = ()) -> list[Take]:
        return await self._read(lambda conn: [_take_from_row(row) for row in conn.execute(sql, params)])

    @staticmethod
    def _take_in(conn: sqlite3.Connection, guild_id: int, take_id: int) -> Take | None:
        row = conn.execute(f"SELECT {_TAKE_COLUMNS} FROM takes WHERE guild_id = ? AND id = ?",
                           (guild_id, take_id)).fetchone()
        return None if row is None else _take_from_row(row)

    # -- lifecycle ----------------------------------------------------------------------------
    async def close(self) -> None:
        """Finish the takes already queued, wait for the write in progress, then close."""
        while self._pending or self._flushing:
            if self._flushing and self._turn is not None:
                await asyncio.wait((self._turn,))  # another caller is committing; close after it
            else:
                await self._commit_next_group()
        async with self._write_lock:
            conn, self._conn = self._conn, None
            reader, self._reader = self._reader, None
            if conn is None:
                return
            with contextlib.suppress(*_DRIVER_ERRORS):
                await conn.execute("PRAGMA optimize")  # SQLite's advice before closing
            try:
                if reader is not None:
                    await reader.close()
                await conn.close()
            except _DRIVER_ERRORS as exc:
                raise StorageError(f"closing the database failed: {exc}") from exc
            finally:
                if self._owner is not None:
                    self._owner.release()

    @contextlib.asynccontextmanager
    async def exclusive(self, *key: object) -> AsyncIterator[None]:
        """In this process only: no second process can open this file (:class:`ProcessLock`)."""
        lock = self._locks.get(key)
        if lock is None:  # kept while anyone holds or awaits it (a weak map), then dropped
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            yield

    async def schema_version(self) -> int:
        async with self._write_lock:
            try:
                return await recorded_version(self._connection())
            except _DRIVER_ERRORS as exc:
                raise StorageError(f"the database could not be read: {exc}") from exc

    # -- takes: group commit --------------------------------------------------------------------
    async def add_take(self, take: NewTake, *, checks: TakeChecks | None = None) -> Take:
        # In NEW_TAKE_COLUMNS order, times as the text SQLite keeps (a naive time is the caller's
        # bug: it raises here, not on the writer thread).
        values = list(_NEW_TAKE_VALUES(take))
        for n in _TIME_AT:
            values[n] = time_to_db(values[n])
        bounds = None if checks is None else (
            None if checks.duplicate_since is None else time_to_db(checks.duplicate_since),
            None if checks.cooldown_since is None else time_to_db(checks.cooldown_since))
        self._connection()
        loop = asyncio.get_running_loop()
        pending = _Pending(take, tuple(values), bounds, loop.create_future(), loop.create_future(),
                           link=None if take.meeting_id is None else (take.meeting_id, take.question or 0))
        self._pending.append(pending)
        try:
            while not pending.future.done():
                if not self._flushing:  # no commit under way: commit the next group (this take among them)
                    await self._commit_next_group()
                    continue
                # A group is committing. Sleep until this take is answered, or until this caller is
                # handed the lead of the next group (only one waiting caller is woken for that).
                await pending.wake
                if not pending.future.done():  # woken to lead: the next wake is a new future
                    pending.wake = loop.create_future()
        except BaseException:
            # Cancelled while waiting: the take may still commit; its answer has no one to hear it.
            pending.future.add_done_callback(_ignore_outcome)
            pending.abandoned = True
            if pending in self._pending:  # not yet in a group: someone else must lead it
                self._hand_on_lead()
            raise
        return pending.future.result()

    def _hand_on_lead(self) -> None:
        """No group is committing: wake the caller of the oldest queued take to lead the next one."""
        if not self._flushing:
            for waiting in self._pending:
                if not waiting.abandoned and not waiting.wake.done():
                    waiting.wake.set_result(None)
                    return

    async def _commit_next_group(self) -> None:
        """Commit the next group of queued takes. A caller leads one group, then the callers
        still waiting take their turn, so no caller waits for more than its own group and the
        one before it; no task is created, so an idle bot has nothing running."""
        self._flushing = True
        self._turn = asyncio.get_running_loop().create_future()
        try:
            await asyncio.sleep(0)  # let takes sent at the same moment join this group
            group, self._pending = self._pending[:GROUP_COMMIT_MAX], self._pending[GROUP_COMMIT_MAX:]
            if not group:
                return
            try:
                async with self._write_lock:
                    committing = self._connection().submit(self._commit_group, group)
                    # The group's fate is settled when the writer thread is done, even if the
                    # leading caller is cancelled meanwhile.
                    committing.add_done_callback(functools.partial(_settle_group, group))
                    await asyncio.shield(committing)
            except Exception as exc:  # no connection, the file gone, or the COMMIT failed
                for pending in group:
                    _fail(pending.future, exc)  # (those _settle_group already failed are left as they are)
                    _wake(pending)
        finally:
            self._flushing = False
            self._turn.set_result(None)
            self._hand_on_lead()

    def _commit_group(self, conn: sqlite3.Connection, group: list[_Pending]) -> None:
        """On the writer thread: one transaction for the whole group, each take's outcome recorded.

        One take's failed statement (a bad value) rolls back that statement only, so the others
        still commit; an error that ends the transaction fails them all.
        """
        def insert_all(conn: sqlite3.Connection) -> None:
            for pending in group:
                try:
                    pending.outcome = self._insert(conn, pending)
                except TakeRefused as refused:
                    pending.outcome = refused
                except _DRIVER_ERRORS as exc:
                    if not conn.in_transaction:  # SQLite ended the transaction: nothing is kept
                        raise
                    pending.outcome = _storage_error(exc)

        try:
            self._transaction(conn, insert_all)
        except StorageError:
            raise
        except _DRIVER_ERRORS as exc:
            raise _storage_error(exc) from exc

    @staticmethod
    def _insert(conn: sqlite3.Connection, pending: _Pending) -> Take:
        params, bounds, take = pending.params, pending.bounds, pending.take
        guild_id, author_id, article, content = take.guild_id, take.author_id, take.article, take.content
        if bounds is None:
            cursor = conn.execute(_INSERT_PLAIN, params)
        else:
            duplicate, cooldown = bounds
            cursor = conn.execute(_INSERT_CHECKED, (
                *params, guild_id, author_id, duplicate, article, content, guild_id, author_id, cooldown))
            if cursor.rowcount == 0:
                last = conn.execute("SELECT MAX(created_at) FROM takes WHERE guild_id = ? AND author_id = ?",
                                    (guild_id, author_id)).fetchone()[0]
                last_at = None if last is None else time_from_db(last)
                is_duplicate = duplicate is not None and conn.execute(
                    "SELECT EXISTS (SELECT 1 FROM takes WHERE guild_id = ? AND author_id = ? AND created_at >= ? "
                    "AND +article = ? AND content = ?)", (guild_id, author_id, duplicate, article, content),
                ).fetchone()[0]
                raise TakeRefused("duplicate" if is_duplicate else "cooldown", last_at)
        take_id = cursor.lastrowid
        assert take_id is not None  # an INSERT always sets it
        if pending.link is not None:  # in the take's own transaction: the two are kept or lost together
            conn.execute("INSERT INTO meeting_takes (take_id, meeting_id, question, message_id) SELECT ?, id, ?, ? "
                         "FROM meetings WHERE id = ?",
                         (take_id, pending.link[1], message_id_of(params[_AT["message_url"]]), pending.link[0]))
        return Take(id=take_id, guild_id=guild_id, channel_id=take.channel_id, article=article, author_id=author_id,
                    author_name=take.author_name, content=content, source=take.source,
                    created_at=take.created_at.astimezone(dt.UTC), edited_at=None, message_url=take.message_url)

    # -- takes: reading -------------------------------------------------------------------------
    async def get_take(self, guild_id: int, take_id: int) -> Take | None:
        return await self._read(lambda conn: self._take_in(conn, guild_id, take_id))

    async def list_takes(
        self,
        guild_id: int,
        article: str,
        *,
        author_id: int | None = None,
        before_id: int | None = None,
        after_id: int | None = None,
        offset: int = 0,
        limit: int = 10,
    ) -> list[Take]:
        # The optional filters are fixed fragments; every value travels as a parameter. A
        # catch-all "(? IS NULL OR id < ?)" would stop SQLite using the index for the range.
        if offset < 0:
            raise ValueError(f"offset must not be negative, got {offset}")
        from_oldest = far_page_from(offset, author_id=author_id, before_id=before_id, after_id=after_id)
        if from_oldest is not None:  # "go to page N" far from both ends of the whole list
            return await self._read(lambda conn: _far_page(conn, guild_id, article, from_oldest=from_oldest,
                                                           offset=offset, limit=positive_limit(limit)))
        where = ["guild_id = ?", "article = ?"]
        params: list[Any] = [guild_id, article]
        if author_id is not None:
            where.append("author_id = ?")
            params.append(author_id)
        if before_id is not None:
            where.append("id < ?")
            params.append(before_id)
        if after_id is not None:
            where.append("id > ?")
            params.append(after_id)
        params += [positive_limit(limit), offset]
        # The inner query walks only the index (ids) from the page's edge (a keyset: the cost of a
        # page, wherever it is), skipping ``offset`` entries without reading a row; the outer one
        # reads the page's rows. With ``after_id`` it walks up from there.
        return await self._fetch_takes(
            f"SELECT {_TAKE_COLUMNS} FROM takes WHERE id IN (SELECT id FROM takes WHERE {' AND '.join(where)} "
            f"ORDER BY id {'DESC' if after_id is None else 'ASC'} LIMIT ? OFFSET ?) ORDER BY id DESC",
            params,
        )

    async def count_takes(self, guild_id: int, article: str, *, author_id: int | None = None) -> int:
        if author_id is None:
            rows = await self._fetch(
                "SELECT takes FROM take_counts WHERE guild_id = ? AND article = ?", (guild_id, article)
            )
        else:
            rows = await self._fetch(
                "SELECT takes FROM take_member_counts WHERE guild_id = ? AND article = ? AND author_id = ?",
                (guild_id, article, author_id),
            )
        return int(rows[0][0]) if rows else 0

    async def last_take_at(self, guild_id: int, author_id: int) -> dt.datetime | None:
        rows = await self._fetch(
            "SELECT MAX(created_at) FROM takes WHERE guild_id = ? AND author_id = ?", (guild_id, author_id)
        )
        return None if rows[0][0] is None else time_from_db(rows[0][0])

    async def has_recent_duplicate(
        self, guild_id: int, article: str, author_id: int, content: str, since: dt.datetime
    ) -> bool:
        rows = await self._fetch(
            "SELECT EXISTS (SELECT 1 FROM takes WHERE guild_id = ? AND author_id = ? AND created_at >= ? "
            "AND +article = ? AND content = ?)",
            (guild_id, author_id, time_to_db(since), article, content),
        )
        return bool(rows[0][0])

    async def take_stats(self, guild_id: int, article: str, *, days: int, today: dt.date) -> TakeStats:
        """``takes`` and ``members`` count the article's whole history; ``per_day`` the last ``days``.

        Days are UTC days; ``per_day`` ends with ``today`` and has exactly ``days`` entries.
        """
        first_day = first_stats_day(days, today)

        def read(conn: sqlite3.Connection) -> tuple[Any, list[Any]]:
            with _snapshot(conn):
                totals = conn.execute("SELECT takes, members FROM take_counts WHERE guild_id = ? AND article = ?",
                                      (guild_id, article)).fetchone()
                counted = conn.execute(
                    "SELECT day, takes FROM take_day_counts WHERE guild_id = ? AND article = ? AND day >= ? "
                    "AND day <= ?", (guild_id, article, first_day.isoformat(), today.isoformat())).fetchall()
            return totals, counted

        totals, counted = await self._read(read)
        return assemble_stats(totals, {dt.date.fromisoformat(row[0]): int(row[1]) for row in counted},
                              days=days, today=today)

    async def iter_takes(
        self,
        guild_id: int,
        article: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        chunk_size: int = 1000,
    ) -> AsyncIterator[list[Take]]:
        where = ["guild_id = ?", "article = ?"]
        params: list[Any] = [guild_id, article]
        if since is not None:
            where.append("created_at >= ?")
            params.append(time_to_db(since))
        if until is not None:
            where.append("created_at < ?")
            params.append(time_to_db(until))
        async for chunk in self._chunks(where, params, chunk_size):
            yield chunk

    async def iter_member_takes(
        self, author_id: int, *, guild_id: int | None = None, chunk_size: int = 1000
    ) -> AsyncIterator[list[Take]]:
        where, params = (["author_id = ?"], [author_id]) if guild_id is None else (
            ["guild_id = ?", "author_id = ?"], [guild_id, author_id])
        async for chunk in self._chunks(where, params, chunk_size):
            yield chunk

    async def _chunks(self, where: list[str], params: list[Any], chunk_size: int) -> AsyncIterator[list[Take]]:
        async for rows in self._pages(_plain_page, where, params, chunk_size):
            yield [_take_from_row(row) for row in rows]

    async def iter_export(
        self,
        guild_id: int | None,
        *,
        article: str | None = None,
        author_id: int | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        chunk_size: int = 1000,
    ) -> AsyncIterator[ExportChunk]:
        """Keyset pages like :meth:`_chunks`, each row the export's text (:mod:`.export_rows`)."""
        where, params = export_where(lambda _: "?", guild_id=guild_id, article=article, author_id=author_id,
                                     since=None if since is None else time_to_db(since),
                                     until=None if until is None else time_to_db(until))
        async for rows in self._pages(functools.partial(export_query, SQLITE), where, params, chunk_size):
            yield chunk_of(rows, _take_from_row)

    async def _pages(self, query: Callable[[str, str], str], where: list[str], params: list[Any], chunk_size: int
                     ) -> AsyncIterator[list[sqlite3.Row]]:
        """Keyset pages on (created_at, id), oldest first; each page one short read.
        ``query(conditions, limit)`` writes the SELECT, whose rows hold the id first and
        ``created_at`` ninth (the take's columns in order)."""
        size = positive_limit(chunk_size)
        first = query(" AND ".join(where), "?")
        following = query(" AND ".join([*where, "(created_at, id) > (?, ?)"]), "?")
        after: tuple[str, int] | None = None
        while True:
            sql, args = (first, [*params, size]) if after is None else (following, [*params, *after, size])
            rows = await self._fetch(sql, args)
            if not rows:
                return
            yield rows
            if len(rows) < size:
                return
            after = (rows[-1][8], rows[-1][0])

    # -- takes: changing ------------------------------------------------------------------------
    async def edit_take(
        self, guild_id: int, take_id: int, content: str, edited_at: dt.datetime
    ) -> Take | None:
        edited = time_to_db(edited_at)

        def edit(conn: sqlite3.Connection) -> Take | None:
            cursor = conn.execute("UPDATE takes SET content = ?, edited_at = ? WHERE guild_id = ? AND id = ?",
                                  (content, edited, guild_id, take_id))
            return None if cursor.rowcount == 0 else self._take_in(conn, guild_id, take_id)

        return await self._write(edit)

    async def delete_take(self, guild_id: int, take_id: int) -> bool:
        return await self._write(lambda conn: conn.execute(
            "DELETE FROM takes WHERE guild_id = ? AND id = ?", (guild_id, take_id)).rowcount > 0)

    async def delete_member_data(self, author_id: int) -> int:
        def forget(conn: sqlite3.Connection) -> int:
            conn.execute("DELETE FROM agreements WHERE member_id = ?", (author_id,))
            return conn.execute("DELETE FROM takes WHERE author_id = ?", (author_id,)).rowcount

        return await self._write(forget)

    async def purge_takes_before(self, cutoff: dt.datetime) -> int:
        limit = time_to_db(cutoff)
        return await self._write(lambda conn: conn.execute(
            "DELETE FROM takes WHERE created_at < ?", (limit,)).rowcount)

    # -- counters -------------------------------------------------------------------------------
    async def check_counters(self) -> CounterCheck:
        return await self._read(count_mismatches)

    async def rebuild_counters(self) -> CounterCheck:
        def rebuild(conn: sqlite3.Connection) -> CounterCheck:
            found = count_mismatches(conn)
            recount(conn)
            return found

        found = await self._write(rebuild)
        if not found.ok:
            log.warning("take counters disagreed with the rows (%s) and were recounted", found)
        return found

    # -- meetings -------------------------------------------------------------------------------
    async def add_meeting(self, meeting: NewMeeting) -> Meeting:
        starts = time_to_db(meeting.starts_at)
        due = None if meeting.next_due_at is None else time_to_db(meeting.next_due_at)

        def add(conn: sqlite3.Connection) -> int:
            try:
                cursor = conn.execute(
                    "INSERT INTO meetings (guild_id, channel_id, article, starts_at, duration_minutes, state, "
                    "moderator_id, next_due_at) VALUES (?, ?, ?, ?, ?, 'scheduled', ?, ?)",
                    (meeting.guild_id, meeting.channel_id, meeting.article, starts, meeting.duration_minutes,
                     meeting.moderator_id, due))
            except sqlite3.IntegrityError as exc:
                if "meetings.guild_id" in str(exc) or "UNIQUE" in str(exc):
                    raise MeetingExists(str(exc)) from None
                raise
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        meeting_id = await self._write(add)
        return Meeting(id=meeting_id, guild_id=meeting.guild_id, channel_id=meeting.channel_id,
                       article=meeting.article, starts_at=time_from_db(starts),
                       duration_minutes=meeting.duration_minutes, state="scheduled",
                       moderator_id=meeting.moderator_id,
                       next_due_at=None if due is None else time_from_db(due))

    async def save_meeting(self, meeting: Meeting) -> None:
        values = [_meeting_value_to_db(getattr(meeting, name)) for name in MEETING_MUTABLE]

        def save(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(f"UPDATE meetings SET {', '.join(f'{n} = ?' for n in MEETING_MUTABLE)} "
                             "WHERE guild_id = ? AND id = ?", (*values, meeting.guild_id, meeting.id))
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" in str(exc):
                    raise MeetingExists(str(exc)) from None
                raise

        await self._write(save)

    async def _meetings(self, where: str, params: Sequence[Any]) -> list[Meeting]:
        rows = await self._fetch(f"SELECT {', '.join(MEETING_COLUMNS)} FROM meetings WHERE {where}", params)
        return [_meeting_from_row(row) for row in rows]

    async def get_meeting(self, guild_id: int, meeting_id: int) -> Meeting | None:
        found = await self._meetings("guild_id = ? AND id = ?", (guild_id, meeting_id))
        return found[0] if found else None

    async def active_meeting(self, guild_id: int, channel_id: int, article: str) -> Meeting | None:
        found = await self._meetings("guild_id = ? AND channel_id = ? AND article = ? "
                                     "AND state IN ('scheduled', 'running')", (guild_id, channel_id, article))
        return found[0] if found else None

    async def upcoming_meetings(self, guild_id: int, article: str, *, limit: int = 5) -> list[Meeting]:
        return await self._meetings("guild_id = ? AND article = ? AND state IN ('scheduled', 'running') "
                                    "ORDER BY starts_at, id LIMIT ?", (guild_id, article, positive_limit(limit)))

    async def meeting_in_thread(self, guild_id: int, thread_id: int) -> Meeting | None:
        found = await self._meetings("thread_id = ? AND guild_id = ? ORDER BY id DESC LIMIT 1",
                                     (thread_id, guild_id))
        return found[0] if found else None

    async def due_meetings(self, now: dt.datetime, *, limit: int = 100) -> list[Meeting]:
        return await self._meetings("state IN ('scheduled', 'running') AND next_due_at <= ? "
                                    "ORDER BY next_due_at LIMIT ?", (time_to_db(now), positive_limit(limit)))

    async def next_meeting_due_at(self) -> dt.datetime | None:
        rows = await self._fetch("SELECT MIN(next_due_at) FROM meetings WHERE state IN ('scheduled', 'running')")
        return None if rows[0][0] is None else time_from_db(rows[0][0])

    # -- polls (V7) -------------------------------------------------------------------------------
    async def add_poll(self, poll: PendingPoll) -> None:
        await self._write(lambda conn: conn.execute(
            "INSERT OR REPLACE INTO polls (message_id, guild_id, channel_id, closes_at) VALUES (?, ?, ?, ?)",
            (poll.message_id, poll.guild_id, poll.channel_id, time_to_db(poll.closes_at))))

    async def closed_polls(self, now: dt.datetime, *, limit: int = 100) -> list[PendingPoll]:
        rows = await self._fetch("SELECT message_id, guild_id, channel_id, closes_at FROM polls WHERE closes_at <= ? "
                                 "ORDER BY closes_at, message_id LIMIT ?", (time_to_db(now), positive_limit(limit)))
        return [PendingPoll(int(r[0]), int(r[1]), int(r[2]), time_from_db(r[3])) for r in rows]

    async def next_poll_closes_at(self) -> dt.datetime | None:
        rows = await self._fetch("SELECT MIN(closes_at) FROM polls")
        return None if rows[0][0] is None else time_from_db(rows[0][0])

    async def claim_poll(self, message_id: int) -> bool:
        return await self._write(lambda conn: conn.execute(
            "DELETE FROM polls WHERE message_id = ?", (message_id,)).rowcount > 0)

    async def meeting_takes(self, guild_id: int, meeting_id: int) -> list[tuple[Take, int]]:
        columns = ", ".join(f"t.{c.strip()}" for c in _TAKE_COLUMNS.split(","))
        rows = await self._fetch(
            f"SELECT {columns}, m.question FROM meeting_takes AS m JOIN takes AS t ON t.id = m.take_id "
            "WHERE m.meeting_id = ? AND t.guild_id = ? ORDER BY t.created_at, t.id", (meeting_id, guild_id))
        return [(_take_from_row(row), int(row[11])) for row in rows]

    async def take_of_message(self, guild_id: int, message_id: int) -> int | None:
        rows = await self._fetch("SELECT m.take_id FROM meeting_takes AS m JOIN takes AS t ON t.id = m.take_id "
                                 "WHERE m.message_id = ? AND t.guild_id = ?", (message_id, guild_id))
        return int(rows[0][0]) if rows else None

    # -- agreements -----------------------------------------------------------------------------
    async def add_agreement(self, guild_id: int, take_id: int, member_id: int, at: dt.datetime) -> bool:
        when = time_to_db(at)
        return await self._write(lambda conn: conn.execute(
            "INSERT INTO agreements (take_id, member_id, created_at, guild_id, article) "
            "SELECT id, ?, ?, guild_id, article FROM takes WHERE guild_id = ? AND id = ? ON CONFLICT DO NOTHING",
            (member_id, when, guild_id, take_id)).rowcount > 0)

    async def remove_agreement(self, guild_id: int, take_id: int, member_id: int) -> bool:
        return await self._write(lambda conn: conn.execute(
            "DELETE FROM agreements WHERE take_id = ? AND member_id = ? "
            "AND take_id IN (SELECT id FROM takes WHERE guild_id = ? AND id = ?)",
            (take_id, member_id, guild_id, take_id)).rowcount > 0)

    async def agreement_counts(self, guild_id: int, take_ids: Sequence[int]) -> dict[int, int]:
        ids = sorted(set(take_ids))
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = await self._fetch(f"SELECT take_id, COUNT(*) FROM agreements WHERE take_id IN ({marks}) "
                                 "AND guild_id = ? GROUP BY take_id", (*ids, guild_id))
        return {int(row[0]): int(row[1]) for row in rows}

    async def count_agreed_takes(self, guild_id: int, article: str) -> int:
        rows = await self._fetch("SELECT COUNT(DISTINCT take_id) FROM agreements WHERE guild_id = ? AND article = ?",
                                 (guild_id, article))
        return int(rows[0][0])

    async def most_agreed_takes(self, guild_id: int, article: str, *, offset: int = 0,
                                limit: int = 10) -> list[Take]:
        columns = ", ".join(f"t.{c.strip()}" for c in _TAKE_COLUMNS.split(","))
        return await self._fetch_takes(
            f"SELECT {columns} FROM (SELECT take_id, COUNT(*) AS agreed FROM agreements WHERE guild_id = ? "
            "AND article = ? GROUP BY take_id) AS c JOIN takes AS t ON t.id = c.take_id "
            "ORDER BY c.agreed DESC, t.id DESC LIMIT ? OFFSET ?", (guild_id, article, positive_limit(limit), offset))

    # -- bot metadata -------------------------------------------------------------------------
    async def get_meta(self, key: str) -> str | None:
        rows = await self._fetch("SELECT value FROM bot_meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._write(lambda conn: conn.execute(
            "INSERT INTO bot_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value)))

    # -- guild settings -----------------------------------------------------------------------
    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        """Read once per guild, then from memory: every take and command asks, and only
        :meth:`save_guild_settings` (which refreshes the copy after its COMMIT) changes them."""
        cached = self._settings.get(guild_id)
        if cached is not None:
            return cached

        settings = await self._read(lambda conn: self._read_settings(conn, guild_id))
        self._settings.setdefault(guild_id, settings)
        return self._settings[guild_id]

    async def save_guild_settings(self, settings: GuildSettings) -> None:
        self._settings.pop(settings.guild_id, None)
        await self._write(lambda conn: self._save_settings(conn, settings))
        self._settings[settings.guild_id] = settings

    @staticmethod
    def _read_settings(conn: sqlite3.Connection, guild_id: int) -> GuildSettings:
        row = conn.execute(
            "SELECT moderator_role_id, take_max_length, take_cooldown_seconds, take_channel_ids, "
            "anonymous_lists, prefix, timezone, meeting_reminders FROM guild_settings WHERE guild_id = ?",
            (guild_id,)).fetchone()
        if row is None:
            return GuildSettings(guild_id=guild_id)
        # Decoding here turns a corrupt JSON value into a StorageError.
        channels = frozenset(int(channel) for channel in json.loads(row["take_channel_ids"]))
        return GuildSettings(
            guild_id=guild_id,
            moderator_role_id=row["moderator_role_id"],
            take_max_length=row["take_max_length"],
            take_cooldown_seconds=row["take_cooldown_seconds"],
            take_channel_ids=channels,
            anonymous_lists=bool(row["anonymous_lists"]),
            prefix=row["prefix"],
            timezone=row["timezone"],
            meeting_reminders=bool(row["meeting_reminders"]),
        )

    @staticmethod
    def _save_settings(conn: sqlite3.Connection, settings: GuildSettings) -> None:
        conn.execute(
            "INSERT INTO guild_settings (guild_id, moderator_role_id, take_max_length, "
            "take_cooldown_seconds, take_channel_ids, anonymous_lists, prefix, timezone, meeting_reminders) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
            "moderator_role_id = excluded.moderator_role_id, take_max_length = excluded.take_max_length, "
            "take_cooldown_seconds = excluded.take_cooldown_seconds, "
            "take_channel_ids = excluded.take_channel_ids, anonymous_lists = excluded.anonymous_lists, "
            "prefix = excluded.prefix, timezone = excluded.timezone, meeting_reminders = excluded.meeting_reminders",
            (settings.guild_id, settings.moderator_role_id, settings.take_max_length,
             settings.take_cooldown_seconds, json.dumps(sorted(settings.take_channel_ids)),
             int(settings.anonymous_lists), settings.prefix, settings.timezone, int(settings.meeting_reminders)))

    async def update_guild_settings(
        self, guild_id: int, change: Callable[[GuildSettings], GuildSettings]
    ) -> tuple[GuildSettings, GuildSettings]:
        """Under the write transaction (BEGIN IMMEDIATE holds the file's write lock)."""
        async with self._writing() as conn:
            self._settings.pop(guild_id, None)
            before = await conn.run(self._read_settings, guild_id)
            after = change(before)
            if after != before:
                await conn.run(self._save_settings, after)
        self._settings[guild_id] = after
        return before, after

    async def guild_prefixes(self) -> dict[int, str]:
        rows = await self._fetch(
            "SELECT guild_id, prefix FROM guild_settings WHERE prefix IS NOT NULL AND prefix != ''"
        )
        return {int(row[0]): str(row[1]) for row in rows}

    # -- pinned summaries ---------------------------------------------------------------------
    async def get_pin(self, guild_id: int, channel_id: int, article: str) -> PinRecord | None:
        rows = await self._fetch(
            "SELECT message_id, content_hash, pinned_at FROM pins "
            "WHERE guild_id = ? AND channel_id = ? AND article = ?",
            (guild_id, channel_id, article),
        )
        if not rows:
            return None
        return PinRecord(
            guild_id=guild_id,
            channel_id=channel_id,
            article=article,
            message_id=rows[0]["message_id"],
            content_hash=rows[0]["content_hash"],
            pinned_at=time_from_db(rows[0]["pinned_at"]),
        )

    async def save_pin(self, pin: PinRecord) -> None:
        pinned_at = time_to_db(pin.pinned_at)
        await self._write(lambda conn: conn.execute(
            "INSERT INTO pins (guild_id, channel_id, article, message_id, content_hash, pinned_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, channel_id, article) DO UPDATE SET "
            "message_id = excluded.message_id, content_hash = excluded.content_hash, "
            "pinned_at = excluded.pinned_at",
            (pin.guild_id, pin.channel_id, pin.article, pin.message_id, pin.content_hash, pinned_at)))

    async def delete_pin(self, guild_id: int, channel_id: int, article: str) -> bool:
        return await self._write(lambda conn: conn.execute(
            "DELETE FROM pins WHERE guild_id = ? AND channel_id = ? AND article = ?",
            (guild_id, channel_id, article)).rowcount > 0)

    # -- moving a community ----------------------------------------------------------------------
    dialect = "sqlite"

    async def fetch_raw(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        return await self._read(lambda conn: [tuple(row) for row in conn.execute(sql, params)])

    async def write_raw(self, steps: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> None:
        def write(conn: sqlite3.Connection) -> None:
            for sql, rows in steps:
                if rows:
                    conn.executemany(sql, rows)
                else:
                    conn.execute(sql)

        await self._write(write)
        self._settings.clear()  # settings may have been written underneath the cache

    # -- audit --------------------------------------------------------------------------------
    async def add_audit(
        self, guild_id: int, actor_id: int, action: str, detail: str, created_at: dt.datetime
    ) -> AuditEntry:
        created = time_to_db(created_at)
        entry_id = await self._write(lambda conn: conn.execute(
            "INSERT INTO audit_log (guild_id, actor_id, action, detail, created_at) VALUES (?, ?, ?, ?, ?)",
            (guild_id, actor_id, action, detail, created)).lastrowid)
        assert entry_id is not None
        return AuditEntry(entry_id, guild_id, actor_id, action, detail, time_from_db(created))

    async def list_audit(self, guild_id: int, *, limit: int = 20) -> Sequence[AuditEntry]:
        rows = await self._fetch(
            "SELECT id, guild_id, actor_id, action, detail, created_at FROM audit_log "
            "WHERE guild_id = ? ORDER BY id DESC LIMIT ?",
            (guild_id, positive_limit(limit)),
        )
        return [
            AuditEntry(row["id"], row["guild_id"], row["actor_id"], row["action"], row["detail"],
                       time_from_db(row["created_at"]))
            for row in rows
        ]


    # -- the bot's messages that quote takes (V5) ---------------------------------------------
    async def remember_quotes(self, guild_id: int | None, channel_id: int, message_id: int,
                              take_ids: Sequence[int], kind: str, created_at: dt.datetime) -> None:
        created = time_to_db(created_at)
        wanted = sorted(set(take_ids))

        def remember(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM take_quotes WHERE message_id = ?", (message_id,))
            kept = 0
            for take_id in wanted:
                kept += conn.execute(
                    "INSERT INTO take_quotes (guild_id, channel_id, message_id, take_id, kind, created_at) "
                    "SELECT ?, ?, ?, id, ?, ? FROM takes WHERE id = ?",
                    (guild_id, channel_id, message_id, kind, created, take_id)).rowcount
            if kept < len(wanted):  # a take went between the drawing and now
                conn.execute("INSERT OR IGNORE INTO quote_redraws (message_id, guild_id, channel_id, kind) "
                             "VALUES (?, ?, ?, ?)", (message_id, guild_id, channel_id, kind))

        await self._write(remember)

    async def quoted_take_ids(self, message_id: int) -> list[int]:
        rows = await self._fetch("SELECT take_id FROM take_quotes WHERE message_id = ? ORDER BY take_id",
                                 (message_id,))
        return [int(row[0]) for row in rows]

    async def pending_redraws(self, *, limit: int) -> list[QuoteRedraw]:
        rows = await self._fetch("SELECT message_id, guild_id, channel_id, kind, attempts FROM quote_redraws "
                                 "ORDER BY attempts, message_id LIMIT ?", (positive_limit(limit),))
        return [QuoteRedraw(int(r[0]), None if r[1] is None else int(r[1]), int(r[2]), str(r[3]), int(r[4]))
                for r in rows]

    async def queue_guild_redraws(self, guild_id: int) -> int:
        return await self._write(lambda conn: conn.execute(
            "INSERT OR IGNORE INTO quote_redraws (message_id, guild_id, channel_id, kind) "
            "SELECT DISTINCT message_id, guild_id, channel_id, kind FROM take_quotes WHERE guild_id = ?",
            (guild_id,)).rowcount)

    async def finish_redraw(self, message_id: int) -> None:
        await self._write(lambda conn: conn.execute("DELETE FROM quote_redraws WHERE message_id = ?", (message_id,)))

    async def retry_redraw(self, message_id: int) -> None:
        await self._write(lambda conn: conn.execute(
            "UPDATE quote_redraws SET attempts = attempts + 1 WHERE message_id = ?", (message_id,)))

    async def forget_message(self, message_id: int) -> None:
        def forget(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM take_quotes WHERE message_id = ?", (message_id,))
            conn.execute("DELETE FROM quote_redraws WHERE message_id = ?", (message_id,))

        await self._write(forget)


def _meeting_value_to_db(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return time_to_db(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _meeting_from_row(row: sqlite3.Row) -> Meeting:
    values = dict(zip(MEETING_COLUMNS, tuple(row), strict=True))
    for name in MEETING_TIMES:
        if values[name] is not None:
            values[name] = time_from_db(values[name])
    values["reminded_day"] = bool(values["reminded_day"])
    values["reminded_hour"] = bool(values["reminded_hour"])
    return Meeting(**values)


class DatabaseInUse(StorageError):
    """Another process holds the database's lock (a bot is running on it)."""


class ProcessLock:
    """An exclusive ``flock`` on ``<database>.lock`` beside the file, held while a store has the
    database open. SQLite serves one process: a second bot (another shard, a second copy started
    by mistake, ``migrate-data`` while the bot runs) is refused with a clear message instead of
    sharing the file. The kernel drops the lock when the process dies, so a crash leaves none."""

    def __init__(self, handle: int, path: Path) -> None:
        self._handle: int | None = handle
        self.path = path

    @classmethod
    def take(cls, database: Path) -> ProcessLock:
        """Keyed by the file itself (links resolved): no spelling or link opens it twice."""
        real = Path(os.path.realpath(database))
        path = real.with_name(real.name + ".lock")
        try:
            handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StorageError(f"cannot create the lock file {path} beside the database: {exc}") from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(handle)
            raise DatabaseInUse(
                f"the database {database} is already open in another bot process (it holds {path.name}); "
                "SQLite serves one process: stop the other one, or run several processes (shards) on "
                "PostgreSQL (README: Running at scale)") from None
        return cls(handle, path)

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            os.close(handle)  # closing the descriptor releases the flock


def _file_identity(path: Path | str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


@contextlib.contextmanager
def _snapshot(conn: sqlite3.Connection) -> Any:
    """Several reads that see one committed state (a read transaction)."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        _rollback(conn)


def _ignore_outcome(future: asyncio.Future[Take]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved, so asyncio does not log it as forgotten


def _settle_group(group: list[_Pending], committing: asyncio.Future[None]) -> None:
    """Answer every take of a group: its own outcome after a COMMIT, or the COMMIT's failure."""
    failure = committing.exception() if not committing.cancelled() else StorageError("the commit was abandoned")
    for pending in group:
        if failure is not None:
            _fail(pending.future, failure)
        elif not pending.future.done():  # its caller gave up waiting; the take is saved all the same
            if isinstance(pending.outcome, Take):
                pending.future.set_result(pending.outcome)
            else:
                assert pending.outcome is not None
                pending.future.set_exception(pending.outcome)
        _wake(pending)


def _wake(pending: _Pending) -> None:
    """Wake the take's caller (if it still waits): its answer is in."""
    if not pending.wake.done():
        pending.wake.set_result(None)


async def _close_quietly(*connections: SqliteThread | None) -> None:
    """Close connections we are giving up on without hiding the error that made us give up."""
    for conn in connections:
        if conn is not None:
            with contextlib.suppress(*_DRIVER_ERRORS):
                await conn.close()
