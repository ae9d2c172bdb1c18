"""The SQLite backend: one aiosqlite connection, one lock, one short transaction per write.

Why one connection and a lock: aiosqlite runs every call on a single worker thread, so a
second connection would buy no parallelism, and on one connection two coroutines could
otherwise interleave statements inside each other's ``BEGIN … COMMIT``. Reads take the same
lock so they never see another caller's uncommitted (and possibly rolled back) rows.

Why ``synchronous=FULL`` (not NORMAL) under WAL: with NORMAL a commit can be lost to a power
cut, and a take the bot has acknowledged must survive one. Takes arrive at human speed, so
the extra fsync per commit costs nothing anyone notices.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, cast

import aiosqlite

from .base import (
    AuditEntry,
    GuildSettings,
    NewTake,
    PinRecord,
    StorageError,
    Store,
    Take,
    TakeSource,
    TakeStats,
)
from .schema import apply_migrations, discover_migrations, recorded_version

log = logging.getLogger(__name__)

MEMORY = ":memory:"
BUSY_TIMEOUT_MS = 5000

#: What the driver raises for a failed statement, a closed connection (aiosqlite's
#: ValueError), text that cannot be encoded, or an id beyond SQLite's 64-bit integers.
_DRIVER_ERRORS = (sqlite3.Error, ValueError, OverflowError)

_TAKE_COLUMNS = (
    "id, guild_id, channel_id, article, author_id, author_name, content, source, "
    "created_at, edited_at, message_url"
)


def time_to_db(value: dt.datetime) -> str:
    """UTC ISO-8601 text with microseconds: fixed width, so text order is time order."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"storage needs timezone-aware UTC times, got naive {value!r}")
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def time_from_db(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _take_from_row(row: sqlite3.Row) -> Take:
    return Take(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        article=row["article"],
        author_id=row["author_id"],
        author_name=row["author_name"],
        content=row["content"],
        source=cast(TakeSource, row["source"]),
        created_at=time_from_db(row["created_at"]),
        edited_at=None if row["edited_at"] is None else time_from_db(row["edited_at"]),
        message_url=row["message_url"],
    )


def _positive(limit: int) -> int:
    """SQLite reads ``LIMIT -1`` as "no limit"; a caller's bad arithmetic must not list everything."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    return limit


async def _close_quietly(conn: aiosqlite.Connection) -> None:
    """Close a connection we are giving up on without hiding the error that made us give up."""
    with contextlib.suppress(*_DRIVER_ERRORS):
        await conn.close()


class SqliteStore(Store):
    """A :class:`Store` in one SQLite file (or in memory, for tests)."""

    def __init__(self, conn: aiosqlite.Connection, path: Path | str) -> None:
        """Use :meth:`open`, which migrates the schema first."""
        self._conn: aiosqlite.Connection | None = conn
        self._lock = asyncio.Lock()
        self.path = path

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
        try:
            conn = await aiosqlite.connect(MEMORY if in_memory else path, isolation_level=None)
        except _DRIVER_ERRORS as exc:
            raise StorageError(f"cannot open the database {path}: {exc}") from exc
        try:
            conn.row_factory = sqlite3.Row
            # Connection settings only: nothing here writes to the file, so a refused (too new)
            # database is left byte for byte as it was.
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA synchronous = FULL")
            version = await apply_migrations(conn, migrations)
            if not in_memory:
                rows = list(await conn.execute_fetchall("PRAGMA journal_mode = WAL"))
                if str(rows[0][0]).lower() != "wal":
                    log.warning("SQLite refused WAL mode for %s (kept %s)", path, rows[0][0])
        except _DRIVER_ERRORS as exc:
            await _close_quietly(conn)
            raise StorageError(f"cannot prepare the database {path}: {exc}") from exc
        except BaseException:  # SchemaTooNewError, a failed migration, cancellation
            await _close_quietly(conn)
            raise
        log.info("opened database %s at schema version %d", path, version)
        return cls(conn, path)

    # -- plumbing -----------------------------------------------------------------------------
    def _connection(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StorageError("the store is closed")
        return self._conn

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction: returns after COMMIT, or rolls back and raises StorageError."""
        async with self._lock:
            conn = self._connection()
            try:
                await conn.execute("BEGIN IMMEDIATE")
                yield conn
                await conn.execute("COMMIT")
            except _DRIVER_ERRORS as exc:
                await self._rollback(conn)
                raise StorageError(f"the database refused the write: {exc}; nothing was saved") from exc
            except BaseException:
                # Cancellation too: a half-done transaction must not wait for the next caller's COMMIT.
                await self._rollback(conn)
                raise

    @staticmethod
    async def _rollback(conn: aiosqlite.Connection) -> None:
        with contextlib.suppress(*_DRIVER_ERRORS):
            await conn.execute("ROLLBACK")

    @contextlib.asynccontextmanager
    async def _reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """Reads wait for the lock too, so they never see a write that has not committed yet."""
        async with self._lock:
            conn = self._connection()
            try:
                yield conn
            except _DRIVER_ERRORS as exc:
                raise StorageError(f"the database could not be read: {exc}") from exc

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self._reading() as conn:
            return list(await conn.execute_fetchall(sql, params))

    async def _fetch_takes(self, sql: str, params: Sequence[Any] = ()) -> list[Take]:
        async with self._reading() as conn:
            return [_take_from_row(row) for row in await conn.execute_fetchall(sql, params)]

    @staticmethod
    async def _take_in(conn: aiosqlite.Connection, guild_id: int, take_id: int) -> Take | None:
        rows = list(
            await conn.execute_fetchall(
                f"SELECT {_TAKE_COLUMNS} FROM takes WHERE guild_id = ? AND id = ?", (guild_id, take_id)
            )
        )
        return _take_from_row(rows[0]) if rows else None

    # -- lifecycle ----------------------------------------------------------------------------
    async def close(self) -> None:
        """Wait for the write in progress, then close; closing twice is harmless."""
        async with self._lock:
            conn, self._conn = self._conn, None
            if conn is None:
                return
            with contextlib.suppress(*_DRIVER_ERRORS):
                await conn.execute("PRAGMA optimize")  # SQLite's advice before closing
            try:
                await conn.close()
            except _DRIVER_ERRORS as exc:
                raise StorageError(f"closing the database failed: {exc}") from exc

    async def schema_version(self) -> int:
        async with self._reading() as conn:
            return await recorded_version(conn)

    # -- takes --------------------------------------------------------------------------------
    async def add_take(self, take: NewTake) -> Take:
        created_at = time_to_db(take.created_at)
        async with self._writing() as conn:
            cursor = await conn.execute(
                "INSERT INTO takes (guild_id, channel_id, article, author_id, author_name, content, "
                "source, message_url, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (take.guild_id, take.channel_id, take.article, take.author_id, take.author_name,
                 take.content, take.source, take.message_url, created_at),
            )
            take_id = cursor.lastrowid
        assert take_id is not None  # an INSERT always sets it
        return Take(
            id=take_id,
            guild_id=take.guild_id,
            channel_id=take.channel_id,
            article=take.article,
            author_id=take.author_id,
            author_name=take.author_name,
            content=take.content,
            source=take.source,
            created_at=time_from_db(created_at),
            edited_at=None,
            message_url=take.message_url,
        )

    async def get_take(self, guild_id: int, take_id: int) -> Take | None:
        async with self._reading() as conn:
            return await self._take_in(conn, guild_id, take_id)

    async def list_takes(
        self,
        guild_id: int,
        article: str,
        *,
        author_id: int | None = None,
        before_id: int | None = None,
        limit: int = 10,
    ) -> list[Take]:
        # The optional filters are fixed fragments; every value travels as a parameter. A
        # catch-all "(? IS NULL OR id < ?)" would stop SQLite using the index for the range.
        where = ["guild_id = ?", "article = ?"]
        params: list[Any] = [guild_id, article]
        if author_id is not None:
            where.append("author_id = ?")
            params.append(author_id)
        if before_id is not None:
            where.append("id < ?")
            params.append(before_id)
        params.append(_positive(limit))
        return await self._fetch_takes(
            f"SELECT {_TAKE_COLUMNS} FROM takes WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
            params,
        )

    async def count_takes(self, guild_id: int, article: str, *, author_id: int | None = None) -> int:
        if author_id is None:
            rows = await self._fetch(
                "SELECT COUNT(*) FROM takes WHERE guild_id = ? AND article = ?", (guild_id, article)
            )
        else:
            rows = await self._fetch(
                "SELECT COUNT(*) FROM takes WHERE guild_id = ? AND article = ? AND author_id = ?",
                (guild_id, article, author_id),
            )
        return int(rows[0][0])

    async def edit_take(
        self, guild_id: int, take_id: int, content: str, edited_at: dt.datetime
    ) -> Take | None:
        edited = time_to_db(edited_at)
        async with self._writing() as conn:
            cursor = await conn.execute(
                "UPDATE takes SET content = ?, edited_at = ? WHERE guild_id = ? AND id = ?",
                (content, edited, guild_id, take_id),
            )
            if cursor.rowcount == 0:
                return None
            return await self._take_in(conn, guild_id, take_id)

    async def delete_take(self, guild_id: int, take_id: int) -> bool:
        async with self._writing() as conn:
            cursor = await conn.execute(
                "DELETE FROM takes WHERE guild_id = ? AND id = ?", (guild_id, take_id)
            )
            return cursor.rowcount > 0

    async def last_take_at(self, guild_id: int, author_id: int) -> dt.datetime | None:
        rows = await self._fetch(
            "SELECT MAX(created_at) FROM takes WHERE guild_id = ? AND author_id = ?", (guild_id, author_id)
        )
        return None if rows[0][0] is None else time_from_db(rows[0][0])

    async def has_recent_duplicate(
        self, guild_id: int, article: str, author_id: int, content: str, since: dt.datetime
    ) -> bool:
        rows = await self._fetch(
            "SELECT EXISTS (SELECT 1 FROM takes WHERE guild_id = ? AND author_id = ? AND article = ? "
            "AND content = ? AND created_at >= ?)",
            (guild_id, author_id, article, content, time_to_db(since)),
        )
        return bool(rows[0][0])

    async def member_takes(self, author_id: int, *, guild_id: int | None = None) -> list[Take]:
        if guild_id is None:
            return await self._fetch_takes(
                f"SELECT {_TAKE_COLUMNS} FROM takes WHERE author_id = ? ORDER BY created_at, id", (author_id,)
            )
        return await self._fetch_takes(
            f"SELECT {_TAKE_COLUMNS} FROM takes WHERE guild_id = ? AND author_id = ? ORDER BY created_at, id",
            (guild_id, author_id),
        )

    async def delete_member_data(self, author_id: int) -> int:
        async with self._writing() as conn:
            cursor = await conn.execute("DELETE FROM takes WHERE author_id = ?", (author_id,))
            return cursor.rowcount

    async def take_stats(self, guild_id: int, article: str, *, days: int, today: dt.date) -> TakeStats:
        """``takes`` and ``members`` count the article's whole history; ``per_day`` the last ``days``.

        Days are UTC days; ``per_day`` ends with ``today`` and has exactly ``days`` entries.
        """
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        first_day = today - dt.timedelta(days=days - 1)
        start = dt.datetime.combine(first_day, dt.time.min, tzinfo=dt.UTC)
        end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        async with self._reading() as conn:
            totals = await conn.execute_fetchall(
                "SELECT COUNT(*), COUNT(DISTINCT author_id) FROM takes "
                "WHERE guild_id = ? AND article = ?",
                (guild_id, article),
            )
            takes, members = next(iter(totals))
            counted: Iterable[sqlite3.Row] = await conn.execute_fetchall(
                "SELECT substr(created_at, 1, 10) AS day, COUNT(*) FROM takes "
                "WHERE guild_id = ? AND article = ? AND created_at >= ? AND created_at < ? GROUP BY day",
                (guild_id, article, time_to_db(start), time_to_db(end)),
            )
        by_day = {dt.date.fromisoformat(row[0]): int(row[1]) for row in counted}
        per_day = tuple(
            (day, by_day.get(day, 0)) for day in (first_day + dt.timedelta(days=n) for n in range(days))
        )
        return TakeStats(takes=int(takes), members=int(members), per_day=per_day)

    async def export_takes(
        self,
        guild_id: int,
        article: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[Take]:
        where = ["guild_id = ?", "article = ?"]
        params: list[Any] = [guild_id, article]
        if since is not None:
            where.append("created_at >= ?")
            params.append(time_to_db(since))
        if until is not None:
            where.append("created_at < ?")
            params.append(time_to_db(until))
        return await self._fetch_takes(
            f"SELECT {_TAKE_COLUMNS} FROM takes WHERE {' AND '.join(where)} ORDER BY created_at, id", params
        )

    async def purge_takes_before(self, cutoff: dt.datetime) -> int:
        limit = time_to_db(cutoff)
        async with self._writing() as conn:
            cursor = await conn.execute("DELETE FROM takes WHERE created_at < ?", (limit,))
            return cursor.rowcount

    # -- bot metadata -------------------------------------------------------------------------
    async def get_meta(self, key: str) -> str | None:
        rows = await self._fetch("SELECT value FROM bot_meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    async def set_meta(self, key: str, value: str) -> None:
        async with self._writing() as conn:
            await conn.execute(
                "INSERT INTO bot_meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- guild settings -----------------------------------------------------------------------
    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        async with self._reading() as conn:
            rows = list(
                await conn.execute_fetchall(
                    "SELECT moderator_role_id, take_max_length, take_cooldown_seconds, take_channel_ids, "
                    "anonymous_lists, prefix FROM guild_settings WHERE guild_id = ?",
                    (guild_id,),
                )
            )
            if not rows:
                return GuildSettings(guild_id=guild_id)
            row = rows[0]
            # Decoding inside the reading block turns a corrupt JSON value into a StorageError.
            channels = frozenset(int(channel) for channel in json.loads(row["take_channel_ids"]))
        return GuildSettings(
            guild_id=guild_id,
            moderator_role_id=row["moderator_role_id"],
            take_max_length=row["take_max_length"],
            take_cooldown_seconds=row["take_cooldown_seconds"],
            take_channel_ids=channels,
            anonymous_lists=bool(row["anonymous_lists"]),
            prefix=row["prefix"],
        )

    async def save_guild_settings(self, settings: GuildSettings) -> None:
        channels = json.dumps(sorted(settings.take_channel_ids))
        async with self._writing() as conn:
            await conn.execute(
                "INSERT INTO guild_settings (guild_id, moderator_role_id, take_max_length, "
                "take_cooldown_seconds, take_channel_ids, anonymous_lists, prefix) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
                "moderator_role_id = excluded.moderator_role_id, take_max_length = excluded.take_max_length, "
                "take_cooldown_seconds = excluded.take_cooldown_seconds, "
                "take_channel_ids = excluded.take_channel_ids, anonymous_lists = excluded.anonymous_lists, "
                "prefix = excluded.prefix",
                (settings.guild_id, settings.moderator_role_id, settings.take_max_length,
                 settings.take_cooldown_seconds, channels, int(settings.anonymous_lists), settings.prefix),
            )

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
        async with self._writing() as conn:
            await conn.execute(
                "INSERT INTO pins (guild_id, channel_id, article, message_id, content_hash, pinned_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, channel_id, article) DO UPDATE SET "
                "message_id = excluded.message_id, content_hash = excluded.content_hash, "
                "pinned_at = excluded.pinned_at",
                (pin.guild_id, pin.channel_id, pin.article, pin.message_id, pin.content_hash, pinned_at),
            )

    async def delete_pin(self, guild_id: int, channel_id: int, article: str) -> bool:
        async with self._writing() as conn:
            cursor = await conn.execute(
                "DELETE FROM pins WHERE guild_id = ? AND channel_id = ? AND article = ?",
                (guild_id, channel_id, article),
            )
            return cursor.rowcount > 0

    # -- audit --------------------------------------------------------------------------------
    async def add_audit(
        self, guild_id: int, actor_id: int, action: str, detail: str, created_at: dt.datetime
    ) -> AuditEntry:
        created = time_to_db(created_at)
        async with self._writing() as conn:
            cursor = await conn.execute(
                "INSERT INTO audit_log (guild_id, actor_id, action, detail, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (guild_id, actor_id, action, detail, created),
            )
            entry_id = cursor.lastrowid
        assert entry_id is not None
        return AuditEntry(entry_id, guild_id, actor_id, action, detail, time_from_db(created))

    async def list_audit(self, guild_id: int, *, limit: int = 20) -> Sequence[AuditEntry]:
        rows = await self._fetch(
            "SELECT id, guild_id, actor_id, action, detail, created_at FROM audit_log "
            "WHERE guild_id = ? ORDER BY id DESC LIMIT ?",
            (guild_id, _positive(limit)),
        )
        return [
            AuditEntry(row["id"], row["guild_id"], row["actor_id"], row["action"], row["detail"],
                       time_from_db(row["created_at"]))
            for row in rows
        ]
