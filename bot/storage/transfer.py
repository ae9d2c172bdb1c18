"""Moving a community between databases: ``python -m bot migrate-data --from URL --to URL``.

Copies every table the bot keeps (takes, guild settings, pinned-summary records, the audit
trail, the bot's own metadata) from one store to another of either backend, then proves the
copy: row counts and a SHA-256 over every row, in a form both backends agree on, for each
table and for the counters (which the target's triggers rebuild as the takes arrive, so they
are compared, not copied blindly).

* **Resumable.** Rows go in key order, a batch per transaction, each batch committing with a
  marker naming the source. Run the command again after an interruption and it carries on
  after the last committed row (inserting what is already there is a no-op).
* **Refuses a non-empty target** (anything but its own unfinished copy of this source) unless
  ``--force`` is given, which empties the target first.
* **Never the same database twice.** Whether source and target are one database is decided by
  identity, never by how the URL is spelled: a SQLite file by its device and inode (after links
  are resolved), a PostgreSQL database by its cluster's ``system_identifier`` and its name. The
  same database is refused, ``--force`` or not; the resume marker names the source the same way.
* **Verified means complete.** The copy is blessed only if every table of the target holds as many
  rows as the source held before the copy began, and their checksums agree.
* **Ids are kept**, and so is each id sequence's high-water mark: a take deleted before the
  move does not lend its number to a new take after it.

Stop the bot first: SQLite refuses a second process anyway (its lock file), and a copy of a
PostgreSQL database that the bot keeps writing to would not verify.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .base import MEETING_COLUMNS, MEETING_TIMES, StorageError, Store

log = logging.getLogger(__name__)

#: bot_meta keys the tool keeps in the target for itself; never copied or compared.
MARKER_PREFIX = "migrate_data."
SOURCE_KEY = MARKER_PREFIX + "source"
STATE_KEY = MARKER_PREFIX + "state"
_NOT_MARKERS = f" WHERE substr(key, 1, {len(MARKER_PREFIX)}) != '{MARKER_PREFIX}'"


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    #: A single integer key: copied in keyset batches, resumed after the target's largest key.
    integer_key: bool = False
    times: tuple[str, ...] = ()
    #: A counter kept by triggers: compared (rows that are not zero), never copied.
    counter: bool = False


TABLES: tuple[Table, ...] = (
    Table("guild_settings", ("guild_id", "moderator_role_id", "take_max_length", "take_cooldown_seconds",
                             "take_channel_ids", "anonymous_lists", "prefix", "timezone", "meeting_reminders"),
          ("guild_id",), integer_key=True),
    Table("takes", ("id", "guild_id", "channel_id", "article", "author_id", "author_name", "content", "source",
                    "message_url", "created_at", "edited_at"), ("id",), integer_key=True,
          times=("created_at", "edited_at")),
    Table("pins", ("guild_id", "channel_id", "article", "message_id", "content_hash", "pinned_at"),
          ("guild_id", "channel_id", "article"), times=("pinned_at",)),
    Table("audit_log", ("id", "guild_id", "actor_id", "action", "detail", "created_at"), ("id",), integer_key=True,
          times=("created_at",)),
    Table("bot_meta", ("key", "value"), ("key",)),
    # The bot's messages that quote takes, and those waiting to be redrawn (V5): after a move, the
    # bot still erases its own copies of a take.
    Table("take_quotes", ("guild_id", "channel_id", "message_id", "take_id", "kind", "created_at"),
          ("message_id", "take_id"), times=("created_at",)),
    Table("quote_redraws", ("message_id", "guild_id", "channel_id", "kind", "attempts"), ("message_id",),
          integer_key=True),
    # After takes: a meeting's takes and agreements point at both (and go with a take when it goes).
    Table("meetings", MEETING_COLUMNS, ("id",), integer_key=True, times=MEETING_TIMES),
    Table("meeting_takes", ("take_id", "meeting_id", "question", "message_id"), ("take_id",), integer_key=True),
    Table("agreements", ("take_id", "member_id", "guild_id", "article", "created_at"), ("take_id", "member_id"),
          times=("created_at",)),
    # Polls waiting for their result (V7): after a move, the bot still answers them once.
    Table("polls", ("message_id", "guild_id", "channel_id", "closes_at"), ("message_id",), integer_key=True,
          times=("closes_at",)),
)
#: Columns SQLite keeps as 0/1 and PostgreSQL as BOOLEAN.
BOOLEANS = frozenset({"anonymous_lists", "meeting_reminders", "reminded_day", "reminded_hour"})
COUNTERS: tuple[Table, ...] = (
    Table("take_counts", ("guild_id", "article", "takes", "members"), ("guild_id", "article"), counter=True),
    Table("take_member_counts", ("guild_id", "article", "author_id", "takes"), ("guild_id", "article", "author_id"),
          counter=True),
    Table("take_day_counts", ("guild_id", "article", "day", "takes"), ("guild_id", "article", "day"), counter=True),
    Table("take_blocks", ("guild_id", "article", "block", "takes"), ("guild_id", "article", "block"), counter=True),
)
#: Tables with an id sequence whose high-water mark moves with the rows.
SEQUENCED = ("takes", "audit_log", "meetings")


@dataclass(frozen=True, slots=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_sha256: str
    target_sha256: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sha256 == self.target_sha256

    def line(self) -> str:
        if self.ok:
            return f"{self.table}: {self.source_rows} rows, sha256 {self.source_sha256[:16]}… identical"
        return (f"{self.table}: MISMATCH source {self.source_rows} rows sha256 {self.source_sha256[:16]}…, "
                f"target {self.target_rows} rows sha256 {self.target_sha256[:16]}…")


@dataclass(frozen=True, slots=True)
class TransferReport:
    copied: dict[str, int]
    checks: tuple[TableCheck, ...]
    resumed: bool
    #: Each table's rows in the source before anything was copied.
    source_before: dict[str, int] = field(default_factory=dict)

    @property
    def shrunk(self) -> list[str]:
        """Tables whose source now holds fewer rows than before the copy (it changed underneath)."""
        after = {check.table: check.source_rows for check in self.checks}
        return [name for name, rows in self.source_before.items() if after.get(name, rows) < rows]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks) and not self.shrunk


class TransferRefused(StorageError):
    """The target is not empty (and is not this source's unfinished copy); nothing was written."""


def describe(store: Store) -> str:
    """A store as the operator should read it: a path or ``db on host:port``, never a password."""
    label = getattr(store, "label", None)
    return str(label) if label else f"SQLite file {getattr(store, 'path', '?')}"


def sqlite_file_identity(path: os.PathLike[str] | str) -> str | None:
    """A SQLite file as itself, whatever the spelling or link that names it; None if there is none yet."""
    if str(path) == ":memory:":
        return None
    try:
        status = os.stat(os.path.realpath(path))
    except OSError:
        return None
    return f"sqlite:{status.st_dev}:{status.st_ino}"


async def identity(store: Store) -> str:
    """Which database ``store`` is: equal for two stores exactly when they are one database."""
    if store.dialect == "sqlite":
        found = sqlite_file_identity(getattr(store, "path", ":memory:"))
        return found if found is not None else f"sqlite-memory:{id(store)}"
    rows = await store.fetch_raw("SELECT system_identifier::text, current_database() FROM pg_control_system()")
    return f"postgresql:{rows[0][0]}:{rows[0][1]}"


# -- one form for both backends -------------------------------------------------------------------


def _canonical(store: Store, table: Table, row: Sequence[Any]) -> tuple[Any, ...]:
    """A row as plain Python values that are equal whichever backend it came from."""
    values = dict(zip(table.columns, row, strict=True))
    for column in table.times:
        value = values[column]
        if isinstance(value, str):
            values[column] = dt.datetime.fromisoformat(value).astimezone(dt.UTC)
        elif isinstance(value, dt.datetime):
            values[column] = value.astimezone(dt.UTC)
    if "take_channel_ids" in values:
        raw = values["take_channel_ids"]
        channels = json.loads(raw) if isinstance(raw, str) else list(raw or [])
        values["take_channel_ids"] = tuple(sorted(int(channel) for channel in channels))
    for column in BOOLEANS.intersection(values):
        values[column] = bool(values[column])
    if table.name == "take_day_counts" and isinstance(values["day"], str):
        values["day"] = dt.date.fromisoformat(values["day"])
    return tuple(values[column] for column in table.columns)


def _for_target(store: Store, table: Table, row: tuple[Any, ...]) -> tuple[Any, ...]:
    if store.dialect == "postgresql":
        return tuple(list(value) if column == "take_channel_ids" else value
                     for column, value in zip(table.columns, row, strict=True))
    converted = []
    for column, value in zip(table.columns, row, strict=True):
        if column in table.times and value is not None:
            value = value.astimezone(dt.UTC).isoformat(timespec="microseconds")
        elif column == "take_channel_ids":
            value = json.dumps(list(value))
        elif column in BOOLEANS:
            value = int(value)
        converted.append(value)
    return tuple(converted)


def _placeholders(store: Store, count: int, start: int = 1) -> list[str]:
    return ["?"] * count if store.dialect == "sqlite" else [f"${n}" for n in range(start, start + count)]


def _digest_row(row: tuple[Any, ...]) -> bytes:
    return json.dumps(row, default=str, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


# -- reading ---------------------------------------------------------------------------------------


async def _batches(store: Store, table: Table, *, after: int | None, size: int) -> AsyncIterator[list[tuple[Any, ...]]]:
    """The table in key order, canonical rows, a batch at a time (all at once for small tables)."""
    columns = ", ".join(table.columns)
    where = _NOT_MARKERS if table.name == "bot_meta" else ""
    if not table.integer_key:
        rows = [_canonical(store, table, row) for row in await store.fetch_raw(f"SELECT {columns} FROM {table.name}"
                                                                                f"{where}")]
        if table.counter:  # a counter that fell to zero stays as a row of 0: the same as no row
            takes = table.columns.index("takes")
            rows = [row for row in rows if row[takes] != 0]
        keys = [table.columns.index(column) for column in table.key]
        rows.sort(key=lambda row: tuple(row[index] for index in keys))
        for start in range(0, len(rows), size):
            yield rows[start:start + size]
        return
    key = table.key[0]
    first, second = _placeholders(store, 2)
    sql = f"SELECT {columns} FROM {table.name} WHERE {key} > {first} ORDER BY {key} LIMIT {second}"
    last = after if after is not None else -(2**63)
    while True:
        rows = [_canonical(store, table, row) for row in await store.fetch_raw(sql, (last, size))]
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = rows[-1][0]


async def table_check(source: Store, target: Store, table: Table, *, size: int) -> TableCheck:
    sums = []
    for store in (source, target):
        digest = hashlib.sha256()
        count = 0
        async for batch in _batches(store, table, after=None, size=size):
            for row in batch:
                digest.update(_digest_row(row))
            count += len(batch)
        sums.append((count, digest.hexdigest()))
    return TableCheck(table.name, sums[0][0], sums[1][0], sums[0][1], sums[1][1])


async def _count(store: Store, table: Table) -> int:
    where = _NOT_MARKERS if table.name == "bot_meta" else ""
    rows = await store.fetch_raw(f"SELECT COUNT(*) FROM {table.name}{where}")
    return int(rows[0][0])  # type: ignore[call-overload]


async def _high_water(store: Store, table: str) -> int:
    """The largest id the table's sequence has handed out (deleted rows included)."""
    if store.dialect == "sqlite":
        rows = await store.fetch_raw("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0)", (table,))
    else:
        rows = await store.fetch_raw(
            f"SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('{table}', 'id')), 0)")
    largest = await store.fetch_raw(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
    return max(int(rows[0][0]), int(largest[0][0]))  # type: ignore[call-overload]


def _set_high_water(store: Store, table: str, value: int) -> list[tuple[str, Sequence[Sequence[object]]]]:
    if value <= 0:
        return []
    if store.dialect == "sqlite":
        return [("DELETE FROM sqlite_sequence WHERE name = ?", [(table,)]),
                ("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", [(table, value)])]
    return [(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST($1::bigint, "
             f"(SELECT COALESCE(MAX(id), 1) FROM {table})))", [(value,)])]


def _marker_steps(store: Store, state: str, source_label: str) -> list[tuple[str, Sequence[Sequence[object]]]]:
    first, second = _placeholders(store, 2)
    sql = (f"INSERT INTO bot_meta (key, value) VALUES ({first}, {second}) "
           "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
    return [(sql, [(SOURCE_KEY, source_label), (STATE_KEY, state)])]


# -- the transfer ------------------------------------------------------------------------------------


async def transfer(source: Store, target: Store, *, force: bool = False, batch_size: int = 1000,
                   progress: Callable[[str], None] = log.info) -> TransferReport:
    """Copy ``source`` into ``target`` and verify it; see the module's description."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    source_label = await identity(source)
    if source_label == await identity(target):
        raise TransferRefused(f"the source and the target are the same database ({describe(source)}); nothing was "
                              "copied, with or without --force")
    before = {table.name: await _count(source, table) for table in TABLES}
    held = {table.name: await _count(target, table) for table in TABLES}
    resumed = False
    if any(held.values()):
        # Older copies named their source by its label; either way it is this source's unfinished copy.
        if await target.get_meta(SOURCE_KEY) in {source_label, describe(source)}:
            resumed = True
            progress(f"resuming the copy from {describe(source)} (the target holds part of it already)")
        elif force:
            progress(f"--force: emptying {describe(target)} first "
                     f"({', '.join(f'{n} {t}' for t, n in held.items() if n)})")
            await target.write_raw([(f"DELETE FROM {table.name}", []) for table in (*TABLES, *COUNTERS)])
        else:
            listing = ", ".join(f"{count} {name.replace('_', ' ')} rows" for name, count in held.items() if count)
            raise TransferRefused(f"the target {describe(target)} is not empty ({listing}); nothing was copied. "
                                  "Point --to at an empty database, or pass --force to replace what it holds")
    copied: dict[str, int] = {}
    for table in TABLES:
        insert = (f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES "
                  f"({', '.join(_placeholders(target, len(table.columns)))}) ON CONFLICT DO NOTHING")
        after = None
        if resumed and table.integer_key:
            largest = await target.fetch_raw(f"SELECT MAX({table.key[0]}) FROM {table.name}")
            after = None if largest[0][0] is None else int(largest[0][0])  # type: ignore[call-overload]
        done = 0
        async for batch in _batches(source, table, after=after, size=batch_size):
            rows = [_for_target(target, table, row) for row in batch]
            await target.write_raw([(insert, rows), *_marker_steps(target, "copying", source_label)])
            done += len(rows)
        copied[table.name] = done
        progress(f"{table.name}: copied {done} row(s)" + (" (after those already there)" if after else ""))
    steps: list[tuple[str, Sequence[Sequence[object]]]] = []
    for table_name in SEQUENCED:
        steps += _set_high_water(target, table_name, await _high_water(source, table_name))
    if steps:
        await target.write_raw(steps)
    checks = tuple([await table_check(source, target, table, size=batch_size) for table in (*TABLES, *COUNTERS)])
    for check in checks:
        progress(check.line())
    report = TransferReport(copied, checks, resumed, before)
    for name in report.shrunk:
        progress(f"{name}: MISMATCH the source held {before[name]} rows before the copy and fewer now")
    if report.ok:
        await target.write_raw(_marker_steps(target, "verified", source_label))
    return report
