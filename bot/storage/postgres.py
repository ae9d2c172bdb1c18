"""The PostgreSQL backend (asyncpg, a connection pool): the same store, for several processes.

Same contract as :class:`~bot.storage.sqlite.SqliteStore`, and the same promises:

* Takes are group-committed: takes that arrive while a transaction is committing wait and the
  next transaction inserts them all in one autocommitted statement (``cf_add_takes``, a function
  of migrations V8 and V10, :data:`_GROUP_INSERT`) that applies the rules (duplicate, cooldown)
  set-wise and returns each take's outcome: one round trip per group, and per lone take. Every
  ``add_take`` returns only after the COMMIT that holds its take; a failed COMMIT fails every
  take in it with :class:`StorageError`. One take's bad value costs only that
  take (the group is then inserted again a take at a time, each under a savepoint).
* The rules hold across processes. Before inserting, the statement's function takes a
  transaction-level advisory lock per (guild, member) with a rule to check, in ascending key
  order (so two processes never wait on each other in a circle); its INSERT then runs on a
  snapshot taken after the locks are held (READ COMMITTED: a VOLATILE function's every statement
  takes a fresh one) and sees every take another process committed under them. Settings
  changes lock the guild's settings the same way (:meth:`PostgresStore.update_guild_settings`), and pin
  refreshes hold a session advisory lock across their Discord calls (:meth:`PostgresStore.exclusive`).
* Counters and the per-day table are kept by triggers in the same transaction as the rows
  (migration V3 in ``migrations_postgres/``).
* A deadlock or serialization failure (PostgreSQL rolls the whole transaction back) is retried
  a few times before the caller hears "not saved".
* An outage (the server refused, lost, shutting down) raises :class:`DatabaseUnreachable`, and the
  log says so once: one WARNING when the database is lost, one INFO when it answers again. The
  pool reconnects by itself; a pooled connection found dead before anything was sent on it is
  replaced and the work tried again, so the first request after the outage does not fail.

Messages and logs never repeat the URL, which may carry a password: the store names its
database as ``db on host:port``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import hashlib
import logging
import operator
import re
import ssl
import urllib.parse
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, TypeVar, cast

import asyncpg

from .base import (
    MEETING_COLUMNS,
    MEETING_MUTABLE,
    NEW_TAKE_COLUMNS,
    TAKE_BLOCK_BITS,
    AuditEntry,
    CounterCheck,
    DatabaseUnreachable,
    ExportChunk,
    GuildSettings,
    Meeting,
    MeetingExists,
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
    assemble_stats,
    far_page_from,
    first_stats_day,
    message_id_of,
    positive_limit,
)
from .export_rows import POSTGRES, chunk_of, export_query, export_where
from .group_commit import GroupCommitQueue, Pending
from .schema import discover_scripts

log = logging.getLogger(__name__)

T = TypeVar("T")

GROUP_COMMIT_MAX = 1000
#: A transaction PostgreSQL rolled back for a deadlock or a serialization failure is run again.
RETRIES = 5
#: Every statement: a database that stops answering is an error, not a bot that hangs.
COMMAND_TIMEOUT = 60.0
CONNECT_TIMEOUT = 15.0
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
#: The advisory lock two starting processes take so only one of them migrates.
_MIGRATION_LOCK = 0x636F6D6D6F6E66  # "commonf"

#: What the driver raises for a failed statement, a lost connection, a value PostgreSQL cannot
#: hold (an id beyond 64 bits: OverflowError; a lone surrogate: UnicodeEncodeError), a timeout.
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, ValueError, OverflowError,
                  asyncio.TimeoutError)
#: Errors that belong to one statement's values: inside a group they cost only that take.
_VALUE_ERRORS = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError, ValueError, OverflowError)
_RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
#: What an outage looks like: the server refused or dropped the connection, or is shutting down.
_UNREACHABLE = (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
                asyncpg.AdminShutdownError, asyncpg.CrashShutdownError, asyncpg.TooManyConnectionsError)


def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` means the server cannot be reached (an outage), not a refused statement."""
    return isinstance(exc, _UNREACHABLE) or (isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc))

_TAKE_COLUMNS = (
    "id, guild_id, channel_id, article, author_id, author_name, content, source, "
    "created_at, edited_at, message_url"
)
_NEW_COLUMNS = ", ".join(name for name, _ in NEW_TAKE_COLUMNS)
_INSERT_TAKE = f"INSERT INTO takes ({_NEW_COLUMNS}) "
_VALUES = ", ".join(f"${n}::{kind}" for n, (_, kind) in enumerate(NEW_TAKE_COLUMNS, 1))
_GUILD, _ARTICLE, _AUTHOR, _CONTENT = (f"${[name for name, _ in NEW_TAKE_COLUMNS].index(column) + 1}"
                                       for column in ("guild_id", "article", "author_id", "content"))
_RULES = len(NEW_TAKE_COLUMNS)
#: The duplicate rule's condition on ``takes``, as migration V10 writes it: one probe of
#: takes_by_author_text (the member, a hash of the words); the other conditions are spelled so
#: that no other index can serve it.
_DUPLICATE_OF = ("author_id = {author} AND hashtextextended(content, 0) = hashtextextended({content}, 0) "
                 "AND guild_id + 0 = {guild} AND created_at + interval '0 s' >= {since} "
                 "AND article || '' = {article} AND content = {content}")
#: One take, the fallback path's statement: the insert happens only if neither rule objects; a
#: NULL bound for a rule makes its EXISTS false.
_INSERT_CHECKED = (
    _INSERT_TAKE + f"SELECT {_VALUES} WHERE NOT EXISTS (SELECT 1 FROM takes WHERE "
    + _DUPLICATE_OF.format(author=_AUTHOR, content=_CONTENT, guild=_GUILD, since=f"${_RULES + 1}::timestamptz",
                           article=_ARTICLE)
    + f") AND NOT EXISTS (SELECT 1 FROM takes WHERE guild_id = {_GUILD} AND author_id = {_AUTHOR} "
    f"AND created_at > ${_RULES + 2}::timestamptz) RETURNING id"
)
#: A whole group in one round trip, in autocommit: ``cf_add_takes`` (migration V8 in
#: ``migrations_postgres/``, where its statement is explained; V10 its duplicate rule) takes the
#: members' advisory locks, then inserts the takes that pass the rules (duplicate, cooldown)
#: set-wise and returns each take's outcome: its id, or the rule that refused it and the
#: member's latest take before it.
#: Its arguments: the sorted lock keys, one array per column of :data:`NEW_TAKE_COLUMNS`, then
#: each take's rule bounds, its place in the queue, its meeting, question and message id.
_GROUP_INSERT = (
    "SELECT take_position, take_id, refused, last_take_at FROM cf_add_takes($1::bigint[], "
    + ", ".join(f"${n}::{kind}[]" for n, (_, kind) in enumerate(NEW_TAKE_COLUMNS, 2))
    + f", ${_RULES + 2}::timestamptz[], ${_RULES + 3}::timestamptz[], ${_RULES + 4}::int[], "
    f"${_RULES + 5}::bigint[], ${_RULES + 6}::int[], ${_RULES + 7}::bigint[])"
)
#: A lone take, the same outcome by plain statements (``cf_add_take``, V8 and V10 too; a
#: third of the group statement's cost): the lock key or NULL, the take's columns, its rules'
#: bounds, meeting, question and message id.
_ONE_INSERT = (
    "SELECT 0, take_id, refused, last_take_at FROM cf_add_take($1::bigint, "
    + ", ".join(f"${n}::{kind}" for n, (_, kind) in enumerate(NEW_TAKE_COLUMNS, 2))
    + f", ${_RULES + 2}::timestamptz, ${_RULES + 3}::timestamptz, ${_RULES + 4}::bigint, ${_RULES + 5}::int, "
    f"${_RULES + 6}::bigint)"
)

_RECOUNT = {
    "take_counts": (
        "SELECT guild_id, article, COUNT(*)::bigint, COUNT(DISTINCT author_id)::bigint FROM takes "
        "GROUP BY guild_id, article"
    ),
    "take_member_counts": (
        "SELECT guild_id, article, author_id, COUNT(*)::bigint FROM takes GROUP BY guild_id, article, author_id"
    ),
    "take_day_counts": (
        "SELECT guild_id, article, (created_at AT TIME ZONE 'UTC')::date, COUNT(*)::bigint FROM takes "
        "GROUP BY guild_id, article, (created_at AT TIME ZONE 'UTC')::date"
    ),
    "take_blocks": (
        f"SELECT guild_id, article, id >> {TAKE_BLOCK_BITS}, COUNT(*)::bigint FROM takes "
        f"GROUP BY guild_id, article, id >> {TAKE_BLOCK_BITS}"
    ),
}


def bundled_postgres_migrations_dir() -> Traversable:
    return resources.files(__package__ or "bot.storage").joinpath("migrations_postgres")


@dataclass(frozen=True, slots=True)
class PostgresTarget:
    """Where a ``postgresql://`` URL points, and how to say so without its password."""

    dsn: str
    label: str


def parse_postgres_url(url: str) -> PostgresTarget:
    """Check a ``postgresql://user:pass@host:port/db`` URL; error messages never repeat it."""
    scheme, separator, rest = url.partition("://")
    dialect = scheme.partition("+")[0].lower()
    if not separator or dialect not in {"postgres", "postgresql"}:
        raise StorageError("DATABASE_URL is not a postgresql:// URL")
    if scheme.lower() not in {"postgres", "postgresql", "postgresql+asyncpg"}:
        raise StorageError(f"DATABASE_URL scheme {scheme.split('+')[-1]!r} is not supported; use postgresql://")
    try:
        parts = urllib.parse.urlsplit("postgresql://" + rest)
        port = parts.port
    except ValueError:
        raise StorageError("DATABASE_URL is malformed (check the host and port of the postgresql:// URL)") from None
    database = urllib.parse.unquote(parts.path.lstrip("/"))
    if not database:
        raise StorageError("DATABASE_URL names no database: use postgresql://user:password@host:port/database")
    host = parts.hostname or "localhost"
    label = f"PostgreSQL database {database!r} on {host}:{port or 5432}"
    return PostgresTarget(dsn="postgresql://" + rest, label=label)


def _plain_page(where: str, limit: str) -> str:
    return f"SELECT {_TAKE_COLUMNS} FROM takes WHERE {where} ORDER BY created_at, id LIMIT {limit}"


@functools.lru_cache(maxsize=4096, typed=True)  # asked for at every take a member writes
def lock_key(*parts: object) -> int:
    """A signed 64-bit advisory-lock key for a name and ids (the same in every process)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"storage needs timezone-aware UTC times, got naive {value!r}")
    return value.astimezone(dt.UTC)


def _from_db(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.UTC)


def _take_from_row(row: asyncpg.Record) -> Take:
    return Take(
        id=row[0],
        guild_id=row[1],
        channel_id=row[2],
        article=row[3],
        author_id=row[4],
        author_name=row[5],
        content=row[6],
        source=cast(TakeSource, row[7]),
        created_at=row[8].astimezone(dt.UTC),
        edited_at=_from_db(row[9]),
        message_url=row[10],
    )


_NEW_NAMES = tuple(name for name, _ in NEW_TAKE_COLUMNS)
_new_values = operator.attrgetter(*_NEW_NAMES)
_NEW_TIMES = tuple(n for n, (_, kind) in enumerate(NEW_TAKE_COLUMNS) if kind == "timestamptz")


def _row(take: NewTake, checks: TakeChecks | None) -> tuple[Any, ...]:
    """A new take's values in :data:`NEW_TAKE_COLUMNS` order, then its rules' bounds (NULL: the
    rule is off), times as UTC; a naive time is a ValueError."""
    values = list(_new_values(take))
    for n in _NEW_TIMES:
        values[n] = _utc(values[n])
    if checks is None:
        return (*values, None, None)
    duplicate, cooldown = checks.duplicate_since, checks.cooldown_since
    return (*values, None if duplicate is None else _utc(duplicate), None if cooldown is None else _utc(cooldown))


def _group_arrays(group: list[Pending]) -> list[list[Any]]:
    """The arguments of :data:`_GROUP_INSERT`: one array per column, the rules' bounds, positions."""
    columns: list[list[Any]] = [list(values) for values in zip(*(p.params for p in group), strict=True)]
    takes = [p.take for p in group]
    return [*columns, list(range(len(group))), [t.meeting_id for t in takes], [t.question or 0 for t in takes],
            [None if t.meeting_id is None else message_id_of(t.message_url) for t in takes]]


def _one_take(pending: Pending) -> list[Any]:
    """The arguments of :data:`_ONE_INSERT` after the lock key: the columns, the rules' bounds,
    the meeting, question and message id (the group's arrays for a group of one)."""
    take = pending.take
    return [*pending.params, take.meeting_id, take.question or 0,
            None if take.meeting_id is None else message_id_of(take.message_url)]


def _saved(take_id: int, values: Sequence[Any]) -> Take:
    """The take as saved: its id and its values as :func:`_row` gave them to the INSERT (the
    rules' bounds after them left out)."""
    return Take(id=take_id, edited_at=None, **dict(zip(_NEW_NAMES, values[:_RULES], strict=True)))


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """The main pool's reset on release: nothing to send. asyncpg's default sends a statement
    per release (``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``), a round
    trip per take, for session state this pool never makes: its work takes only transaction-level
    advisory locks, opens cursors only inside transactions, never LISTENs and never SETs a session
    variable. A transaction left open is still rolled back on release (asyncpg does that before
    calling this). The session advisory locks of :meth:`PostgresStore.exclusive` live on the lock
    pool, which keeps the default reset (``pg_advisory_unlock_all``)."""


def _ended(conn: asyncpg.Connection) -> bool:
    """The connection was closed, or the pool took it back when the server ended it."""
    try:
        return conn.is_closed()
    except asyncpg.InterfaceError:
        return True


def describe(exc: BaseException) -> str:
    """The error without PostgreSQL's DETAIL, which quotes the row (a member's words) verbatim."""
    message = exc.message if isinstance(exc, asyncpg.PostgresError) else str(exc)
    return f"{type(exc).__name__}: {message}"


def _storage_error(exc: BaseException, doing: str = "the database refused the write") -> StorageError:
    error = StorageError(f"{doing}: {describe(exc)}; nothing was saved")
    error.__cause__ = exc
    return error


class PostgresStore(Store):
    """A :class:`Store` in a PostgreSQL database, shared by any number of bot processes."""

    def __init__(self, pool: asyncpg.Pool, label: str, lock_pool: asyncpg.Pool | None = None) -> None:
        """Use :meth:`open`, which migrates the schema first."""
        self._pool: asyncpg.Pool | None = pool
        #: Connections that hold :meth:`exclusive` locks across Discord calls, apart from the main
        #: pool: a lock holder needs the main pool for its own reads and writes, so if holders
        #: took every main connection, none of them could go on.
        self._lock_pool = lock_pool or pool
        self.label = label
        self._queue = GroupCommitQueue(self._commit, max_group=GROUP_COMMIT_MAX)
        self._local_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        #: Settings reads in flight, shared by the callers that ask meanwhile.
        self._settings_reads: dict[int, asyncio.Future[GuildSettings]] = {}
        #: The database stopped answering (logged once); cleared, and logged, when it answers again.
        self._lost = False
        #: The group commit's connection, kept between groups (see :meth:`_kept`); None until
        #: the first take, after a failure, or when the pool is too small to spare one.
        self._writer: asyncpg.Connection | None = None
        self._keep_writer = pool.get_max_size() >= 3

    @classmethod
    async def open(cls, url: str, *, pool_size: int = 10, sslmode: str | None = None,
                   migrations_dir: Traversable | None = None) -> PostgresStore:
        target = parse_postgres_url(url)
        if pool_size < 2:
            raise StorageError("DATABASE_POOL_SIZE must be at least 2 (takes commit on one connection while "
                               "reads use the others)")
        if sslmode is not None and sslmode not in SSL_MODES:
            raise StorageError(f"DATABASE_SSLMODE must be one of {', '.join(SSL_MODES)}")
        scripts = discover_scripts(migrations_dir or bundled_postgres_migrations_dir())
        kwargs: dict[str, Any] = {}
        if sslmode is not None:
            kwargs["ssl"] = sslmode
        lock_size = max(1, pool_size // 4)  # of the pool_size connections, for exclusive()
        try:
            # No floor (min_size=0): asyncpg would keep reconnecting a floor during an outage, logging a
            # traceback each time; connections are made when needed and kept while in use.
            pool = await asyncpg.create_pool(target.dsn, min_size=0, max_size=pool_size - lock_size,
                                             timeout=CONNECT_TIMEOUT, command_timeout=COMMAND_TIMEOUT,
                                             reset=_nothing_to_reset, **kwargs)
            try:
                async with pool.acquire():  # the first connection: is the database there at all?
                    pass
            except BaseException:
                pool.terminate()
                raise
        except (*_DRIVER_ERRORS, ssl.SSLError) as exc:
            # asyncpg's messages name the host and user at most, never the password; the URL is not repeated.
            kind = DatabaseUnreachable if unreachable(exc) else StorageError
            raise kind(f"cannot connect to the {target.label}: {describe(exc)}") from None
        try:
            version = await _migrate(pool, scripts)
            lock_pool = await asyncpg.create_pool(target.dsn, min_size=0, max_size=lock_size,
                                                  timeout=CONNECT_TIMEOUT, command_timeout=COMMAND_TIMEOUT, **kwargs)
        except (*_DRIVER_ERRORS, ssl.SSLError) as exc:
            await pool.close()
            kind = DatabaseUnreachable if unreachable(exc) else StorageError
            raise kind(f"cannot connect to the {target.label}: {describe(exc)}") from None
        except BaseException:
            await pool.close()
            raise
        log.info("opened %s at schema version %d (pool of %d)", target.label, version, pool_size)
        return cls(pool, target.label, lock_pool)

    # -- plumbing -----------------------------------------------------------------------------
    def _the_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StorageError("the store is closed")
        return self._pool

    def _outage(self, exc: BaseException, doing: str) -> DatabaseUnreachable:
        """The error for an outage, logged once when it begins (one line, no traceback)."""
        if not self._lost:
            self._lost = True
            log.warning("lost the connection to the %s (%s): members are told nothing is saved or read until it "
                        "answers again; the bot reconnects by itself", self.label, describe(exc))
        error = DatabaseUnreachable(f"the database is unreachable ({describe(exc)}); {doing}")
        error.__cause__ = exc
        return error

    def _answered(self) -> None:
        if self._lost:
            self._lost = False
            log.info("the %s answers again: saving and reading resume", self.label)

    async def _write(self, fn: Callable[[asyncpg.Connection], Awaitable[T]], *, transaction: bool = True,
                     kept: bool = False) -> T:
        """``fn`` in one transaction, retried on a deadlock; StorageError if it did not commit.
        (``transaction=False``: ``fn`` runs its own, as the group commit does; ``kept``: on the
        group commit's own connection, :meth:`_kept`.)

        Errors that are not the database's (a moderator's invalid setting) pass through unchanged.
        """
        pool = self._the_pool()
        for attempt in range(RETRIES):
            started = False
            try:
                async with (self._kept(pool) if kept and self._keep_writer else pool.acquire()) as conn, (
                        conn.transaction() if transaction else contextlib.nullcontext()):
                    started = True
                    result = await fn(conn)
                self._answered()
                return result
            except _RETRYABLE as exc:
                if attempt == RETRIES - 1:
                    raise _storage_error(exc) from exc
                await asyncio.sleep(0.01 * (attempt + 1))
            except _DRIVER_ERRORS as exc:
                if not unreachable(exc):
                    raise _storage_error(exc) from exc
                # A pooled connection that died (the server restarted) before anything was sent on it:
                # another connection, unless the database is known to be down.
                if started or self._lost or attempt == RETRIES - 1:
                    raise self._outage(exc, "nothing was saved") from exc
        raise AssertionError("unreachable")

    @contextlib.asynccontextmanager
    async def _kept(self, pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
        """The group commit's connection, taken from the pool once and kept between groups: a
        pool's acquire and release (a task of its own on each release) measured as a sixth of a
        lone take's time. The group commit runs one commit at a time, so one connection serves
        it. A connection the server closed is given back and replaced before use; after any
        failure (its state unknown, a cancelled statement) it goes back to the pool, which
        resets or closes it, and the next group takes a fresh one."""
        conn = self._writer
        if conn is not None and _ended(conn):
            self._writer = None
            with contextlib.suppress(*_DRIVER_ERRORS):  # (the pool may have taken it back already)
                await pool.release(conn)
            conn = None
        if conn is None:
            conn = self._writer = await pool.acquire()
        try:
            yield conn
        except BaseException:
            self._writer = None
            with contextlib.suppress(*_DRIVER_ERRORS):  # (the pool may have taken it back already)
                await pool.release(conn)
            raise

    async def _read(self, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        pool = self._the_pool()
        for attempt in range(2):
            try:
                async with pool.acquire() as conn:
                    result = await fn(conn)
                self._answered()
                return result
            except _DRIVER_ERRORS as exc:
                if not unreachable(exc):
                    raise StorageError(f"the database could not be read: {describe(exc)}") from exc
                if self._lost or attempt == 1:  # reading again is harmless: once, on a fresh connection
                    raise self._outage(exc, "nothing could be read") from exc
        raise AssertionError("unreachable")

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self._read(lambda conn: conn.fetch(sql, *args))

    async def _fetch_takes(self, sql: str, *args: Any) -> list[Take]:
        return [_take_from_row(row) for row in await self._fetch(sql, *args)]

    # -- lifecycle ----------------------------------------------------------------------------
    async def close(self) -> None:
        await self._queue.drain()
        pool, self._pool = self._pool, None
        if pool is None:
            return
        writer, self._writer = self._writer, None
        if writer is not None:
            with contextlib.suppress(*_DRIVER_ERRORS):
                await pool.release(writer)
        failed: list[BaseException] = []
        for each in dict.fromkeys((pool, self._lock_pool)):
            try:
                await asyncio.wait_for(each.close(), timeout=COMMAND_TIMEOUT)
            except (TimeoutError, *_DRIVER_ERRORS) as exc:
                each.terminate()
                failed.append(exc)
        if failed:
            raise StorageError(f"closing the database failed: {describe(failed[0])}") from failed[0]

    async def schema_version(self) -> int:
        return await self._read(_recorded_version)

    @contextlib.asynccontextmanager
    async def exclusive(self, *key: object) -> AsyncIterator[None]:
        """Held by one task in one process at a time, across every process on this database: a
        session advisory lock on a connection of its own, released (or dropped with the
        connection) when the block ends."""
        number = lock_key(*key)
        local = self._local_locks.get(number)
        if local is None:  # kept while anyone holds or awaits it (a weak map), then dropped
            local = self._local_locks[number] = asyncio.Lock()
        async with local:  # tasks of this process queue here, not on pool connections
            self._the_pool()
            pool = self._lock_pool
            try:
                conn = await pool.acquire()
            except _DRIVER_ERRORS as exc:
                if unreachable(exc):
                    raise self._outage(exc, "nothing was changed") from exc
                raise StorageError(f"the database could not be reached: {describe(exc)}") from exc
            try:
                try:
                    await conn.execute("SELECT pg_advisory_lock($1)", number)
                except _DRIVER_ERRORS as exc:
                    if unreachable(exc):
                        raise self._outage(exc, "nothing was changed") from exc
                    raise StorageError(f"the database lock could not be taken: {describe(exc)}") from exc
                try:
                    yield
                finally:
                    with contextlib.suppress(*_DRIVER_ERRORS):
                        await conn.execute("SELECT pg_advisory_unlock($1)", number)
            finally:
                # The pool's reset also runs pg_advisory_unlock_all(): no lock outlives the block.
                with contextlib.suppress(*_DRIVER_ERRORS):
                    await pool.release(conn)

    # -- takes: group commit --------------------------------------------------------------------
    async def add_take(self, take: NewTake, *, checks: TakeChecks | None = None) -> Take:
        values = _row(take, checks)  # (a naive time is the caller's ValueError, before anything is queued)
        self._the_pool()
        return await self._queue.submit(take, checks, values)

    async def _commit(self, group: list[Pending]) -> None:
        """One group, one statement whatever its size, committed by itself (see
        :data:`_GROUP_INSERT`): the members' advisory locks, then the INSERT that returns every
        take's outcome; one round trip for a lone take as for a thousand. Retried as a whole on
        a deadlock, and outages reported, like any write."""
        await self._write(lambda conn: self._commit_group(conn, group), transaction=False, kept=True)

    async def _commit_group(self, conn: asyncpg.Connection, group: list[Pending]) -> None:
        for pending in group:
            pending.outcome = None
        keys = sorted({lock_key("take", p.take.guild_id, p.take.author_id) for p in group if p.checks is not None})
        try:  # one statement, committed by itself: the locks, the rules, the INSERT (see _GROUP_INSERT)
            if len(group) == 1:
                rows = await conn.fetch(_ONE_INSERT, keys[0] if keys else None, *_one_take(group[0]))
            else:
                rows = await conn.fetch(_GROUP_INSERT, keys, *_group_arrays(group))
        except _VALUE_ERRORS:
            # A take's value was refused (the whole statement with it): again, a take at a time.
            await self._commit_one_by_one(conn, group, keys)
            return
        for row in rows:
            pending = group[row[0]]
            if row[1] is None:
                pending.outcome = TakeRefused(row[2], _from_db(row[3]))
            else:
                pending.outcome = _saved(row[1], pending.params)

    async def _commit_one_by_one(self, conn: asyncpg.Connection, group: list[Pending], keys: list[int]) -> None:
        """The group again, each take under a savepoint of its own, so a bad value fails alone."""
        # Inserting in key order makes the counter rows' locks, too, come in one order in every process.
        ordered = sorted(group, key=lambda p: (p.take.guild_id, p.take.article, p.take.author_id))
        async with conn.transaction():
            if keys:
                await conn.execute("SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k", keys)
            for pending in ordered:
                try:
                    async with conn.transaction():
                        pending.outcome = await self._insert(conn, pending)
                except TakeRefused as refused:
                    pending.outcome = refused
                except _VALUE_ERRORS as exc:
                    pending.outcome = _storage_error(exc)

    @staticmethod
    async def _insert(conn: asyncpg.Connection, pending: Pending) -> Take:
        take, values = pending.take, pending.params  # (the columns, then the rules' bounds)
        if pending.checks is None:
            take_id = await conn.fetchval(_INSERT_TAKE + f"VALUES ({_VALUES}) RETURNING id", *values[:_RULES])
        else:
            take_id = await conn.fetchval(_INSERT_CHECKED, *values)
            if take_id is None:
                duplicate = values[_RULES]
                row = await conn.fetchrow(
                    "SELECT MAX(created_at), EXISTS (SELECT 1 FROM takes WHERE " + _DUPLICATE_OF.format(
                        author="$2", content="$5", guild="$1", since="$3::timestamptz", article="$4")
                    + ") FROM takes WHERE guild_id = $1 AND author_id = $2",
                    take.guild_id, take.author_id, duplicate, take.article, take.content)
                raise TakeRefused("duplicate" if duplicate is not None and row[1] else "cooldown", _from_db(row[0]))
        if take.meeting_id is not None:  # in the take's own (sub)transaction: kept or lost together
            await conn.execute("INSERT INTO meeting_takes (take_id, meeting_id, question, message_id) "
                               "SELECT $1, id, $2, $3 FROM meetings WHERE id = $4", take_id, take.question or 0,
                               message_id_of(take.message_url), take.meeting_id)
        return _saved(take_id, values)

    # -- takes: reading -------------------------------------------------------------------------
    async def get_take(self, guild_id: int, take_id: int) -> Take | None:
        rows = await self._fetch_takes(f"SELECT {_TAKE_COLUMNS} FROM takes WHERE guild_id = $1 AND id = $2",
                                       guild_id, take_id)
        return rows[0] if rows else None

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
        if offset < 0:
            raise ValueError(f"offset must not be negative, got {offset}")
        from_oldest = far_page_from(offset, author_id=author_id, before_id=before_id, after_id=after_id)
        if from_oldest is not None:
            # A far page from either end of the whole list ("go to page N"): counted in blocks (V9),
            # as on SQLite, in one statement: the running sum of the blocks' counts from that end
            # finds the block the page starts in, and the index skips fewer than a block's entries.
            order, edge = ("ASC", f"id >= (SELECT block FROM start) << {TAKE_BLOCK_BITS}") if from_oldest else (
                "DESC", f"id < ((SELECT block FROM start) + 1) << {TAKE_BLOCK_BITS}")
            return await self._fetch_takes(
                f"WITH counted AS (SELECT block, takes, SUM(takes) OVER (ORDER BY block {order}) AS upto "
                "FROM take_blocks WHERE guild_id = $1 AND article = $2), "
                "start AS (SELECT block, $3 - (upto - takes) AS skip FROM counted WHERE upto > $3 "
                f"ORDER BY block {order} LIMIT 1) SELECT {_TAKE_COLUMNS} FROM takes WHERE id IN (SELECT id FROM takes "
                f"WHERE guild_id = $1 AND article = $2 AND {edge} ORDER BY id {order} LIMIT $4 "
                "OFFSET (SELECT skip FROM start)) "
                "ORDER BY id DESC", guild_id, article, offset, positive_limit(limit))
        where = ["guild_id = $1", "article = $2"]
        args: list[Any] = [guild_id, article]
        if author_id is not None:
            args.append(author_id)
            where.append(f"author_id = ${len(args)}")
        if before_id is not None:
            args.append(before_id)
            where.append(f"id < ${len(args)}")
        if after_id is not None:
            args.append(after_id)
            where.append(f"id > ${len(args)}")
        args += [positive_limit(limit), offset]
        # As on SQLite: the inner query skips ``offset`` entries of the index (ids only, an
        # index-only scan where the visibility map allows), the outer one reads the page's rows.
        return await self._fetch_takes(
            f"SELECT {_TAKE_COLUMNS} FROM takes WHERE id IN (SELECT id FROM takes WHERE {' AND '.join(where)} "
            f"ORDER BY id {'DESC' if after_id is None else 'ASC'} LIMIT ${len(args) - 1} OFFSET ${len(args)}) "
            "ORDER BY id DESC", *args)

    async def count_takes(self, guild_id: int, article: str, *, author_id: int | None = None) -> int:
        if author_id is None:
            rows = await self._fetch("SELECT takes FROM take_counts WHERE guild_id = $1 AND article = $2",
                                     guild_id, article)
        else:
            rows = await self._fetch(
                "SELECT takes FROM take_member_counts WHERE guild_id = $1 AND article = $2 AND author_id = $3",
                guild_id, article, author_id)
        return int(rows[0][0]) if rows else 0

    async def last_take_at(self, guild_id: int, author_id: int) -> dt.datetime | None:
        rows = await self._fetch("SELECT MAX(created_at) FROM takes WHERE guild_id = $1 AND author_id = $2",
                                 guild_id, author_id)
        return _from_db(rows[0][0])

    async def has_recent_duplicate(
        self, guild_id: int, article: str, author_id: int, content: str, since: dt.datetime
    ) -> bool:
        rows = await self._fetch(
            "SELECT EXISTS (SELECT 1 FROM takes WHERE " + _DUPLICATE_OF.format(
                author="$2", content="$5", guild="$1", since="$3::timestamptz", article="$4") + ")",
            guild_id, author_id, _utc(since), article, content)
        return bool(rows[0][0])

    async def take_stats(self, guild_id: int, article: str, *, days: int, today: dt.date) -> TakeStats:
        first_day = first_stats_day(days, today)

        async def read(conn: asyncpg.Connection) -> tuple[Any, list[Any]]:
            async with conn.transaction(isolation="repeatable_read", readonly=True):  # one committed state
                totals = await conn.fetchrow("SELECT takes, members FROM take_counts WHERE guild_id = $1 "
                                             "AND article = $2", guild_id, article)
                counted = await conn.fetch("SELECT day, takes FROM take_day_counts WHERE guild_id = $1 "
                                           "AND article = $2 AND day >= $3 AND day <= $4",
                                           guild_id, article, first_day, today)
            return totals, counted

        totals, counted = await self._read(read)
        return assemble_stats(totals, {row[0]: int(row[1]) for row in counted}, days=days, today=today)

    async def iter_takes(
        self,
        guild_id: int,
        article: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        chunk_size: int = 1000,
    ) -> AsyncIterator[list[Take]]:
        where = ["guild_id = $1", "article = $2"]
        args: list[Any] = [guild_id, article]
        if since is not None:
            args.append(_utc(since))
            where.append(f"created_at >= ${len(args)}")
        if until is not None:
            args.append(_utc(until))
            where.append(f"created_at < ${len(args)}")
        async for chunk in self._chunks(where, args, chunk_size):
            yield chunk

    async def iter_member_takes(
        self, author_id: int, *, guild_id: int | None = None, chunk_size: int = 1000
    ) -> AsyncIterator[list[Take]]:
        where, args = (["author_id = $1"], [author_id]) if guild_id is None else (
            ["guild_id = $1", "author_id = $2"], [guild_id, author_id])
        async for chunk in self._chunks(where, list(args), chunk_size):
            yield chunk

    async def _chunks(self, where: list[str], args: list[Any], chunk_size: int) -> AsyncIterator[list[Take]]:
        async for rows in self._pages(_plain_page, where, args, chunk_size):
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
        where, args = export_where(lambda n: f"${n}", guild_id=guild_id, article=article, author_id=author_id,
                                   since=None if since is None else _utc(since),
                                   until=None if until is None else _utc(until))
        async for rows in self._pages(functools.partial(export_query, POSTGRES), where, args, chunk_size):
            yield chunk_of(rows, _take_from_row)

    async def _pages(self, query: Callable[[str, str], str], where: list[str], args: list[Any], chunk_size: int
                     ) -> AsyncIterator[list[asyncpg.Record]]:
        """Keyset pages on (created_at, id), oldest first; ``query(conditions, limit)`` writes
        the SELECT, whose rows hold the id first and ``created_at`` ninth."""
        size = positive_limit(chunk_size)
        n = len(args)
        first = query(" AND ".join(where), f"${n + 1}")
        following = query(" AND ".join([*where, f"(created_at, id) > (${n + 1}, ${n + 2})"]), f"${n + 3}")
        after: tuple[dt.datetime, int] | None = None
        while True:
            rows = await (self._fetch(first, *args, size) if after is None
                          else self._fetch(following, *args, *after, size))
            if not rows:
                return
            yield rows
            if len(rows) < size:
                return
            after = (rows[-1][8], rows[-1][0])

    # -- takes: changing ------------------------------------------------------------------------
    async def edit_take(self, guild_id: int, take_id: int, content: str, edited_at: dt.datetime) -> Take | None:
        edited = _utc(edited_at)

        async def edit(conn: asyncpg.Connection) -> Take | None:
            row = await conn.fetchrow(f"UPDATE takes SET content = $1, edited_at = $2 WHERE guild_id = $3 AND id = $4 "
                                      f"RETURNING {_TAKE_COLUMNS}", content, edited, guild_id, take_id)
            return None if row is None else _take_from_row(row)

        return await self._write(edit)

    async def delete_take(self, guild_id: int, take_id: int) -> bool:
        async def delete(conn: asyncpg.Connection) -> bool:
            return await conn.fetchval("DELETE FROM takes WHERE guild_id = $1 AND id = $2 RETURNING id",
                                       guild_id, take_id) is not None

        return await self._write(delete)

    async def delete_member_data(self, author_id: int) -> int:
        async def forget(conn: asyncpg.Connection) -> int:
            await conn.execute("DELETE FROM agreements WHERE member_id = $1", author_id)
            return await _deleted(conn, "DELETE FROM takes WHERE author_id = $1", author_id)

        return await self._write(forget)

    async def purge_takes_before(self, cutoff: dt.datetime) -> int:
        limit = _utc(cutoff)
        return await self._write(lambda conn: _deleted(conn, "DELETE FROM takes WHERE created_at < $1", limit))

    # -- counters -------------------------------------------------------------------------------
    async def check_counters(self) -> CounterCheck:
        return await self._read(_count_mismatches)

    async def rebuild_counters(self) -> CounterCheck:
        async def rebuild(conn: asyncpg.Connection) -> CounterCheck:
            # Nobody adds a take while the counters are recounted (the rows they count must hold still).
            await conn.execute("LOCK TABLE takes IN SHARE MODE")
            found = await _count_mismatches(conn)
            await recount(conn)
            return found

        found = await self._write(rebuild)
        if not found.ok:
            log.warning("take counters disagreed with the rows (%s) and were recounted", found)
        return found

    # -- bot metadata -------------------------------------------------------------------------
    async def get_meta(self, key: str) -> str | None:
        rows = await self._fetch("SELECT value FROM bot_meta WHERE key = $1", key)
        return rows[0][0] if rows else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._write(lambda conn: conn.execute(
            "INSERT INTO bot_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            key, value))

    # -- meetings -------------------------------------------------------------------------------
    async def add_meeting(self, meeting: NewMeeting) -> Meeting:
        starts = _utc(meeting.starts_at)
        due = None if meeting.next_due_at is None else _utc(meeting.next_due_at)

        async def add(conn: asyncpg.Connection) -> int:
            try:
                return int(await conn.fetchval(
                    "INSERT INTO meetings (guild_id, channel_id, article, starts_at, duration_minutes, state, "
                    "moderator_id, next_due_at) VALUES ($1, $2, $3, $4, $5, 'scheduled', $6, $7) RETURNING id",
                    meeting.guild_id, meeting.channel_id, meeting.article, starts, meeting.duration_minutes,
                    meeting.moderator_id, due))
            except asyncpg.UniqueViolationError as exc:
                raise MeetingExists(str(exc)) from None

        meeting_id = await self._write(add)
        return Meeting(id=meeting_id, guild_id=meeting.guild_id, channel_id=meeting.channel_id,
                       article=meeting.article, starts_at=starts, duration_minutes=meeting.duration_minutes,
                       state="scheduled", moderator_id=meeting.moderator_id, next_due_at=due)

    async def save_meeting(self, meeting: Meeting) -> None:
        values = [_utc(v) if isinstance(v, dt.datetime) else v for v in
                  (getattr(meeting, name) for name in MEETING_MUTABLE)]
        assignments = ", ".join(f"{name} = ${n}" for n, name in enumerate(MEETING_MUTABLE, start=1))
        count = len(MEETING_MUTABLE)

        async def save(conn: asyncpg.Connection) -> None:
            try:
                await conn.execute(f"UPDATE meetings SET {assignments} WHERE guild_id = ${count + 1} "
                                   f"AND id = ${count + 2}", *values, meeting.guild_id, meeting.id)
            except asyncpg.UniqueViolationError as exc:
                raise MeetingExists(str(exc)) from None

        await self._write(save)

    async def _meetings(self, where: str, *args: Any) -> list[Meeting]:
        rows = await self._fetch(f"SELECT {', '.join(MEETING_COLUMNS)} FROM meetings WHERE {where}", *args)
        return [_meeting_from_row(row) for row in rows]

    async def get_meeting(self, guild_id: int, meeting_id: int) -> Meeting | None:
        found = await self._meetings("guild_id = $1 AND id = $2", guild_id, meeting_id)
        return found[0] if found else None

    async def active_meeting(self, guild_id: int, channel_id: int, article: str) -> Meeting | None:
        found = await self._meetings("guild_id = $1 AND channel_id = $2 AND article = $3 "
                                     "AND state IN ('scheduled', 'running')", guild_id, channel_id, article)
        return found[0] if found else None

    async def upcoming_meetings(self, guild_id: int, article: str, *, limit: int = 5) -> list[Meeting]:
        return await self._meetings("guild_id = $1 AND article = $2 AND state IN ('scheduled', 'running') "
                                    "ORDER BY starts_at, id LIMIT $3", guild_id, article, positive_limit(limit))

    async def meeting_in_thread(self, guild_id: int, thread_id: int) -> Meeting | None:
        found = await self._meetings("thread_id = $1 AND guild_id = $2 ORDER BY id DESC LIMIT 1",
                                     thread_id, guild_id)
        return found[0] if found else None

    async def due_meetings(self, now: dt.datetime, *, limit: int = 100) -> list[Meeting]:
        return await self._meetings("state IN ('scheduled', 'running') AND next_due_at <= $1 "
                                    "ORDER BY next_due_at LIMIT $2", _utc(now), positive_limit(limit))

    async def next_meeting_due_at(self) -> dt.datetime | None:
        rows = await self._fetch("SELECT MIN(next_due_at) FROM meetings WHERE state IN ('scheduled', 'running')")
        return _from_db(rows[0][0])

    # -- polls (V7) -------------------------------------------------------------------------------
    async def add_poll(self, poll: PendingPoll) -> None:
        await self._write(lambda conn: conn.execute(
            "INSERT INTO polls (message_id, guild_id, channel_id, closes_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (message_id) DO UPDATE SET closes_at = EXCLUDED.closes_at",
            poll.message_id, poll.guild_id, poll.channel_id, _utc(poll.closes_at)))

    async def closed_polls(self, now: dt.datetime, *, limit: int = 100) -> list[PendingPoll]:
        rows = await self._fetch("SELECT message_id, guild_id, channel_id, closes_at FROM polls WHERE closes_at <= $1 "
                                 "ORDER BY closes_at, message_id LIMIT $2", _utc(now), positive_limit(limit))
        return [PendingPoll(int(r[0]), int(r[1]), int(r[2]), r[3].astimezone(dt.UTC)) for r in rows]

    async def next_poll_closes_at(self) -> dt.datetime | None:
        rows = await self._fetch("SELECT MIN(closes_at) FROM polls")
        return _from_db(rows[0][0])

    async def claim_poll(self, message_id: int) -> bool:
        async def claim(conn: asyncpg.Connection) -> bool:
            return await conn.fetchval("DELETE FROM polls WHERE message_id = $1 RETURNING message_id",
                                       message_id) is not None

        return await self._write(claim)

    async def meeting_takes(self, guild_id: int, meeting_id: int) -> list[tuple[Take, int]]:
        columns = ", ".join(f"t.{c.strip()}" for c in _TAKE_COLUMNS.split(","))
        rows = await self._fetch(
            f"SELECT {columns}, m.question FROM meeting_takes AS m JOIN takes AS t ON t.id = m.take_id "
            "WHERE m.meeting_id = $1 AND t.guild_id = $2 ORDER BY t.created_at, t.id", meeting_id, guild_id)
        return [(_take_from_row(row), int(row[11])) for row in rows]

    async def take_of_message(self, guild_id: int, message_id: int) -> int | None:
        rows = await self._fetch("SELECT m.take_id FROM meeting_takes AS m JOIN takes AS t ON t.id = m.take_id "
                                 "WHERE m.message_id = $1 AND t.guild_id = $2", message_id, guild_id)
        return int(rows[0][0]) if rows else None

    # -- agreements -----------------------------------------------------------------------------
    async def add_agreement(self, guild_id: int, take_id: int, member_id: int, at: dt.datetime) -> bool:
        when = _utc(at)

        async def add(conn: asyncpg.Connection) -> bool:
            return await conn.fetchval(
                "INSERT INTO agreements (take_id, member_id, created_at, guild_id, article) "
                "SELECT id, $1, $2, guild_id, article FROM takes WHERE guild_id = $3 AND id = $4 "
                "ON CONFLICT DO NOTHING RETURNING take_id",
                member_id, when, guild_id, take_id) is not None

        return await self._write(add)

    async def remove_agreement(self, guild_id: int, take_id: int, member_id: int) -> bool:
        async def remove(conn: asyncpg.Connection) -> bool:
            return await conn.fetchval(
                "DELETE FROM agreements WHERE take_id = $1 AND member_id = $2 "
                "AND take_id IN (SELECT id FROM takes WHERE guild_id = $3 AND id = $1) RETURNING take_id",
                take_id, member_id, guild_id) is not None

        return await self._write(remove)

    async def agreement_counts(self, guild_id: int, take_ids: Sequence[int]) -> dict[int, int]:
        ids = sorted(set(take_ids))
        if not ids:
            return {}
        rows = await self._fetch("SELECT take_id, COUNT(*) FROM agreements WHERE take_id = ANY($1::bigint[]) "
                                 "AND guild_id = $2 GROUP BY take_id", ids, guild_id)
        return {int(row[0]): int(row[1]) for row in rows}

    async def count_agreed_takes(self, guild_id: int, article: str) -> int:
        rows = await self._fetch("SELECT COUNT(DISTINCT take_id) FROM agreements WHERE guild_id = $1 "
                                 "AND article = $2", guild_id, article)
        return int(rows[0][0])

    async def most_agreed_takes(self, guild_id: int, article: str, *, offset: int = 0,
                                limit: int = 10) -> list[Take]:
        columns = ", ".join(f"t.{c.strip()}" for c in _TAKE_COLUMNS.split(","))
        return await self._fetch_takes(
            f"SELECT {columns} FROM (SELECT take_id, COUNT(*) AS agreed FROM agreements WHERE guild_id = $1 "
            "AND article = $2 GROUP BY take_id) AS c JOIN takes AS t ON t.id = c.take_id "
            "ORDER BY c.agreed DESC, t.id DESC LIMIT $3 OFFSET $4", guild_id, article, positive_limit(limit), offset)

    # -- guild settings -----------------------------------------------------------------------
    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        """From the database, not a cache (another process may have changed them a moment ago).

        Callers asking at once share one read, and resume in the order they asked: a burst of
        takes reaches the take rules in the order it arrived (the first take is the one kept),
        as it does on SQLite, where settings come from memory.
        """
        reading = self._settings_reads.get(guild_id)
        if reading is None:
            reading = asyncio.ensure_future(self._read(lambda conn: _read_settings(conn, guild_id)))
            self._settings_reads[guild_id] = reading
            reading.add_done_callback(lambda done: self._forget_read(guild_id, done))
        return await asyncio.shield(reading)

    def _forget_read(self, guild_id: int, done: asyncio.Future[GuildSettings]) -> None:
        if self._settings_reads.get(guild_id) is done:
            del self._settings_reads[guild_id]
        if not done.cancelled():
            done.exception()  # retrieved: every caller got it already, or none is left to

    async def save_guild_settings(self, settings: GuildSettings) -> None:
        self._settings_reads.pop(settings.guild_id, None)  # a read begun before this write is not shared on
        await self._write(lambda conn: _save_settings(conn, settings))
        self._settings_reads.pop(settings.guild_id, None)

    async def update_guild_settings(
        self, guild_id: int, change: Callable[[GuildSettings], GuildSettings]
    ) -> tuple[GuildSettings, GuildSettings]:
        async def update(conn: asyncpg.Connection) -> tuple[GuildSettings, GuildSettings]:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key("settings", guild_id))
            before = await _read_settings(conn, guild_id)
            after = change(before)
            if after != before:
                await _save_settings(conn, after)
            return before, after

        self._settings_reads.pop(guild_id, None)
        try:
            return await self._write(update)
        finally:
            self._settings_reads.pop(guild_id, None)  # reads begun before the change are not shared on

    async def guild_prefixes(self) -> dict[int, str]:
        rows = await self._fetch(
            "SELECT guild_id, prefix FROM guild_settings WHERE prefix IS NOT NULL AND prefix != ''")
        return {int(row[0]): str(row[1]) for row in rows}

    # -- pinned summaries ---------------------------------------------------------------------
    async def get_pin(self, guild_id: int, channel_id: int, article: str) -> PinRecord | None:
        rows = await self._fetch("SELECT message_id, content_hash, pinned_at FROM pins "
                                 "WHERE guild_id = $1 AND channel_id = $2 AND article = $3",
                                 guild_id, channel_id, article)
        if not rows:
            return None
        return PinRecord(guild_id=guild_id, channel_id=channel_id, article=article, message_id=rows[0][0],
                         content_hash=rows[0][1], pinned_at=rows[0][2].astimezone(dt.UTC))

    async def save_pin(self, pin: PinRecord) -> None:
        pinned_at = _utc(pin.pinned_at)
        await self._write(lambda conn: conn.execute(
            "INSERT INTO pins (guild_id, channel_id, article, message_id, content_hash, pinned_at) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (guild_id, channel_id, article) DO UPDATE SET "
            "message_id = EXCLUDED.message_id, content_hash = EXCLUDED.content_hash, pinned_at = EXCLUDED.pinned_at",
            pin.guild_id, pin.channel_id, pin.article, pin.message_id, pin.content_hash, pinned_at))

    async def delete_pin(self, guild_id: int, channel_id: int, article: str) -> bool:
        async def delete(conn: asyncpg.Connection) -> bool:
            return await conn.fetchval("DELETE FROM pins WHERE guild_id = $1 AND channel_id = $2 AND article = $3 "
                                       "RETURNING message_id", guild_id, channel_id, article) is not None

        return await self._write(delete)

    # -- moving a community ----------------------------------------------------------------------
    dialect = "postgresql"

    async def fetch_raw(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        return [tuple(row) for row in await self._fetch(sql, *params)]

    async def write_raw(self, steps: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> None:
        async def write(conn: asyncpg.Connection) -> None:
            for sql, rows in steps:
                if rows:
                    await conn.executemany(sql, rows)
                else:
                    await conn.execute(sql)

        await self._write(write)

    # -- audit --------------------------------------------------------------------------------
    async def add_audit(
        self, guild_id: int, actor_id: int, action: str, detail: str, created_at: dt.datetime
    ) -> AuditEntry:
        created = _utc(created_at)

        async def add(conn: asyncpg.Connection) -> int:
            return int(await conn.fetchval(
                "INSERT INTO audit_log (guild_id, actor_id, action, detail, created_at) VALUES ($1, $2, $3, $4, $5) "
                "RETURNING id", guild_id, actor_id, action, detail, created))

        entry_id = await self._write(add)
        return AuditEntry(entry_id, guild_id, actor_id, action, detail, created)

    async def list_audit(self, guild_id: int, *, limit: int = 20) -> Sequence[AuditEntry]:
        rows = await self._fetch("SELECT id, guild_id, actor_id, action, detail, created_at FROM audit_log "
                                 "WHERE guild_id = $1 ORDER BY id DESC LIMIT $2", guild_id, positive_limit(limit))
        return [AuditEntry(row[0], row[1], row[2], row[3], row[4], row[5].astimezone(dt.UTC)) for row in rows]


    # -- the bot's messages that quote takes (V5) ---------------------------------------------
    async def remember_quotes(self, guild_id: int | None, channel_id: int, message_id: int,
                              take_ids: Sequence[int], kind: str, created_at: dt.datetime) -> None:
        created = _utc(created_at)
        wanted = sorted(set(take_ids))

        async def remember(conn: asyncpg.Connection) -> None:
            await conn.execute("DELETE FROM take_quotes WHERE message_id = $1", message_id)
            kept = await _deleted(conn, "INSERT INTO take_quotes (guild_id, channel_id, message_id, take_id, kind, "
                                        "created_at) SELECT $1, $2, $3, id, $4, $5 FROM takes WHERE id = ANY($6)",
                                  guild_id, channel_id, message_id, kind, created, wanted)
            if kept < len(wanted):  # a take went between the drawing and now
                await conn.execute("INSERT INTO quote_redraws (message_id, guild_id, channel_id, kind) "
                                   "VALUES ($1, $2, $3, $4) ON CONFLICT (message_id) DO NOTHING",
                                   message_id, guild_id, channel_id, kind)

        await self._write(remember)

    async def quoted_take_ids(self, message_id: int) -> list[int]:
        rows = await self._fetch("SELECT take_id FROM take_quotes WHERE message_id = $1 ORDER BY take_id", message_id)
        return [int(row[0]) for row in rows]

    async def pending_redraws(self, *, limit: int) -> list[QuoteRedraw]:
        rows = await self._fetch("SELECT message_id, guild_id, channel_id, kind, attempts FROM quote_redraws "
                                 "ORDER BY attempts, message_id LIMIT $1", positive_limit(limit))
        return [QuoteRedraw(int(r[0]), None if r[1] is None else int(r[1]), int(r[2]), str(r[3]), int(r[4]))
                for r in rows]

    async def queue_guild_redraws(self, guild_id: int) -> int:
        return await self._write(lambda conn: _deleted(
            conn, "INSERT INTO quote_redraws (message_id, guild_id, channel_id, kind) "
                  "SELECT DISTINCT message_id, guild_id, channel_id, kind FROM take_quotes WHERE guild_id = $1 "
                  "ON CONFLICT (message_id) DO NOTHING", guild_id))

    async def finish_redraw(self, message_id: int) -> None:
        await self._write(lambda conn: conn.execute("DELETE FROM quote_redraws WHERE message_id = $1", message_id))

    async def retry_redraw(self, message_id: int) -> None:
        await self._write(lambda conn: conn.execute(
            "UPDATE quote_redraws SET attempts = attempts + 1 WHERE message_id = $1", message_id))

    async def forget_message(self, message_id: int) -> None:
        async def forget(conn: asyncpg.Connection) -> None:
            await conn.execute("DELETE FROM take_quotes WHERE message_id = $1", message_id)
            await conn.execute("DELETE FROM quote_redraws WHERE message_id = $1", message_id)

        await self._write(forget)


def _meeting_from_row(row: asyncpg.Record) -> Meeting:
    values = dict(zip(MEETING_COLUMNS, tuple(row), strict=True))
    for name, value in values.items():
        if isinstance(value, dt.datetime):
            values[name] = value.astimezone(dt.UTC)
    return Meeting(**values)


async def _deleted(conn: asyncpg.Connection, sql: str, *args: Any) -> int:
    status = await conn.execute(sql, *args)  # "DELETE <n>"
    return int(status.rsplit(" ", 1)[-1])


async def _read_settings(conn: asyncpg.Connection, guild_id: int) -> GuildSettings:
    row = await conn.fetchrow(
        "SELECT moderator_role_id, take_max_length, take_cooldown_seconds, take_channel_ids, anonymous_lists, "
        "prefix, timezone, meeting_reminders FROM guild_settings WHERE guild_id = $1", guild_id)
    if row is None:
        return GuildSettings(guild_id=guild_id)
    return GuildSettings(guild_id=guild_id, moderator_role_id=row[0], take_max_length=row[1],
                         take_cooldown_seconds=row[2], take_channel_ids=frozenset(int(c) for c in row[3]),
                         anonymous_lists=bool(row[4]), prefix=row[5], timezone=row[6],
                         meeting_reminders=bool(row[7]))


async def _save_settings(conn: asyncpg.Connection, settings: GuildSettings) -> None:
    await conn.execute(
        "INSERT INTO guild_settings (guild_id, moderator_role_id, take_max_length, take_cooldown_seconds, "
        "take_channel_ids, anonymous_lists, prefix, timezone, meeting_reminders) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "ON CONFLICT (guild_id) DO UPDATE SET moderator_role_id = EXCLUDED.moderator_role_id, "
        "take_max_length = EXCLUDED.take_max_length, take_cooldown_seconds = EXCLUDED.take_cooldown_seconds, "
        "take_channel_ids = EXCLUDED.take_channel_ids, anonymous_lists = EXCLUDED.anonymous_lists, "
        "prefix = EXCLUDED.prefix, timezone = EXCLUDED.timezone, meeting_reminders = EXCLUDED.meeting_reminders",
        settings.guild_id, settings.moderator_role_id, settings.take_max_length, settings.take_cooldown_seconds,
        sorted(settings.take_channel_ids), settings.anonymous_lists, settings.prefix, settings.timezone,
        settings.meeting_reminders)


async def _count_mismatches(conn: asyncpg.Connection) -> CounterCheck:
    found = []
    for table, query in _RECOUNT.items():
        kept = f"SELECT * FROM {table} WHERE takes != 0"
        found.append(int(await conn.fetchval(
            f"SELECT (SELECT COUNT(*) FROM ({query} EXCEPT {kept}) AS a) + "
            f"(SELECT COUNT(*) FROM ({kept} EXCEPT {query}) AS b)")))
    return CounterCheck(articles=found[0], members=found[1], days=found[2], blocks=found[3])


async def recount(conn: asyncpg.Connection) -> None:
    """Replace every counter with a recount of the rows (inside the caller's transaction)."""
    for table, query in _RECOUNT.items():
        await conn.execute(f"DELETE FROM {table}")
        await conn.execute(f"INSERT INTO {table} {query}")


async def probe(url: str, *, sslmode: str | None = None) -> tuple[str, int]:
    """Connect once, read the schema version, change nothing (``python -m bot check``): the
    database's label and its version. Refused if the schema is newer than this code knows."""
    target = parse_postgres_url(url)
    try:
        conn = await asyncpg.connect(target.dsn, timeout=CONNECT_TIMEOUT, command_timeout=COMMAND_TIMEOUT,
                                     **({"ssl": sslmode} if sslmode is not None else {}))
        try:
            version = await _recorded_version(conn)
        finally:
            await conn.close()
    except (*_DRIVER_ERRORS, ssl.SSLError) as exc:
        kind = DatabaseUnreachable if unreachable(exc) else StorageError
        raise kind(f"cannot connect to the {target.label}: {describe(exc)}") from None
    supported = discover_scripts(bundled_postgres_migrations_dir())[-1][0]
    if version > supported:
        raise SchemaTooNewError(version, supported)
    return target.label, version


async def _recorded_version(conn: asyncpg.Connection) -> int:
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))


_TRANSACTION_CONTROL = re.compile(
    r"^\s*(COMMIT|ROLLBACK|BEGIN\s*;|BEGIN\s+TRANSACTION|START\s+TRANSACTION|SAVEPOINT)\b",
    re.IGNORECASE | re.MULTILINE)


def _check_script(version: int, name: str, text: str) -> None:
    """A script must not end the runner's transaction. (``BEGIN`` and ``END;`` of a PL/pgSQL
    function body are blocks, not transaction control, and pass.)"""
    found = _TRANSACTION_CONTROL.search(text)
    if found:
        raise StorageError(f"migration V{version}__{name}.sql contains {found[1].split()[0].rstrip(';').upper()}: "
                           "the runner owns the transaction")


async def _migrate(pool: asyncpg.Pool, scripts: list[tuple[int, str, str]]) -> int:
    """Every missing migration in one transaction, under a lock so only one process migrates."""
    for version, name, text in scripts:
        _check_script(version, name, text)
    supported = scripts[-1][0] if scripts else 0
    step = "reading the schema version"
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            found = await _recorded_version(conn)
            if found > supported:
                raise SchemaTooNewError(found, supported)
            pending = [script for script in scripts if script[0] > found]
            if pending:
                await conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                                   "name TEXT NOT NULL, applied_at TEXT NOT NULL)")
                applied_at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
                for version, name, text in pending:
                    step = f"migration V{version}__{name}"
                    await conn.execute(text)
                    await conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                                       version, name, applied_at)
    except StorageError:
        raise
    except _DRIVER_ERRORS as exc:
        raise StorageError(f"{step} failed: {describe(exc)}; the database was not changed") from exc
    for version, name, _ in pending:
        log.info("applied database migration V%d__%s", version, name)
    return max(found, supported)
