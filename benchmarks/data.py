"""Databases of a given size, fast: rows straight in with ``sqlite3``, counters recounted once.

The counting triggers and the indexes are set aside while the rows go in (one transaction, no
journal) and rebuilt afterwards, which is what makes a million takes take seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from pathlib import Path

from bot.storage.sqlite import SqliteStore, recount

GUILD = 811_111_111_111_111_111
ARTICLE = "commonfactors"
#: Takes spread over this many days, so the per-day stats have something to count.
DAYS = 400
MEMBERS = 2_000


def members_for(count: int) -> int:
    """How many members write ``count`` takes in the read benchmark's databases: at most
    :data:`MEMBERS`, and each with at least 100 takes, so `mytakes` reads a full page at every
    size (with 2,000 members, the 1,000-take database gave each member one take: a page of one
    row measured against a page of ten)."""
    return max(1, min(MEMBERS, count // 100))
TEXT = ("The alliance grows out of the work, and the work out of a shared model of the problem; "
        "I see it every week with clients who arrive sceptical. ")


def create_empty(path: Path) -> None:
    """A database migrated to the newest schema, as the bot would leave it."""
    async def create() -> None:
        store = await SqliteStore.open(path)
        await store.close()

    asyncio.run(create())


def bulk_load(path: Path, count: int, *, guild_id: int = GUILD, article: str = ARTICLE,
              members: int = MEMBERS) -> None:
    """Add ``count`` takes to ``path`` (created and migrated if missing), newest last."""
    if not path.exists():
        create_empty(path)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    step = DAYS * 86_400 / max(count, 1)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -262144")
        conn.execute("BEGIN")
        saved = conn.execute("SELECT type, name, sql FROM sqlite_master "
                             "WHERE type IN ('trigger', 'index') AND sql IS NOT NULL").fetchall()
        for kind, name, _ in saved:
            conn.execute(f"DROP {kind.upper()} {name}")
        base = start.timestamp()
        conn.executemany(
            "INSERT INTO takes (guild_id, channel_id, article, author_id, author_name, content, source, created_at) "
            "VALUES (?, 42, ?, ?, ?, ?, 'command', ?)",
            ((guild_id, article, 1_000 + n % members, f"Member {n % members}", f"{TEXT}#{n}",
              dt.datetime.fromtimestamp(base + n * step, dt.UTC).isoformat(timespec="microseconds"))
             for n in range(count)))
        for _kind, _, sql in sorted(saved, key=lambda item: item[0] != "index"):  # indexes, then triggers
            conn.execute(sql)
        recount(conn)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
