"""The store on its own: ``add_take`` against raw ``sqlite3``, and reads at two sizes."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import random
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from bot.storage import NewTake, Store, TakeChecks
from bot.storage.sqlite import BUSY_TIMEOUT_MS, SqliteStore

from .data import ARTICLE, GUILD, create_empty, members_for

T0 = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def raw_per_row(path: Path, count: int) -> float:
    """Baseline: plain ``sqlite3`` on the same schema and ``synchronous`` level, one COMMIT per row."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = FULL")
        start = time.perf_counter()
        for n in range(count):
            conn.execute(
                "INSERT INTO takes (guild_id, channel_id, article, author_id, author_name, content, source, "
                "created_at) VALUES (?, 42, ?, ?, 'Member', ?, 'command', ?)",
                (GUILD, ARTICLE, n, f"raw take {n}", (T0 + dt.timedelta(microseconds=n)).isoformat()))
        return count / (time.perf_counter() - start)
    finally:
        conn.close()


async def add_one(store: Store, author: int, n: int) -> None:
    """A member's ``n``-th take, a second after the one before, with the bot's rules: no
    duplicate in 10 minutes, a cooldown that never refuses (the rules are read, not hit)."""
    when = T0 + dt.timedelta(seconds=n)
    await store.add_take(
        NewTake(guild_id=GUILD, channel_id=42, article=ARTICLE, author_id=author, author_name="Member",
                content=f"take {author}-{n}", source="command", created_at=when),
        checks=TakeChecks(duplicate_since=when - dt.timedelta(minutes=10), cooldown_since=when))


async def store_writers(where: Path | str, count: int, writers: int) -> float:
    """``Store.add_take`` as the bot calls it (rules checked in the insert), from ``writers``
    members at once, each adding its share one after another; ``where`` a SQLite file or a
    PostgreSQL URL."""
    from bot.storage import open_store

    store = await SqliteStore.open(where) if isinstance(where, Path) else await open_store(where)
    share = max(1, count // writers)

    async def member(author: int) -> None:
        for n in range(share):
            await add_one(store, author, n)

    try:
        # Connected before the clock starts, as the raw baselines are (PostgreSQL's pool connects
        # at its first use): the figure is the takes, not a connection's start-up.
        await store.schema_version()
        start = time.perf_counter()
        await asyncio.gather(*(member(10_000 + w) for w in range(writers)))
        return share * writers / (time.perf_counter() - start)
    finally:
        await store.close()


def compare_writes(folder: Path, *, count: int, writer_counts: tuple[int, ...]) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for writers in writer_counts:
        raw_db, store_db = folder / f"raw-{writers}.db", folder / f"store-{writers}.db"
        create_empty(raw_db)
        create_empty(store_db)
        raw = raw_per_row(raw_db, count)
        ours = asyncio.run(store_writers(store_db, count, writers))
        results[str(writers)] = {"ours": ours, "raw": raw}
    return results


def warm(path: Path) -> None:
    with path.open("rb") as file:
        while file.read(1 << 20):
            pass


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000}


Action = Callable[[], Awaitable[Any]]


def read_actions(store: Store, size: int) -> dict[str, Action]:
    """What the reading commands ask of the store."""
    rng = random.Random(7)
    page = 10
    pages = max(1, size // page)
    jump = min(499, pages - 1)  # "go to page 500", or the last page of a smaller list
    middle = min(499, pages // 2)  # a page with pages after it at both sizes
    author = 1_000 + 17 % members_for(size)
    edge: list[int] = []

    async def listing() -> None:  # `takes`: the count for the page indicator and the first page
        await store.count_takes(GUILD, ARTICLE)
        await store.list_takes(GUILD, ARTICLE, limit=page)

    async def jump_to_page() -> None:  # "go to page N" as the pager reads it: from the nearer end
        total = await store.count_takes(GUILD, ARTICLE)
        offset = jump * page
        if offset <= total - offset - page:
            await store.list_takes(GUILD, ARTICLE, offset=offset, limit=page)
        else:
            on_page = max(1, min(page, total - offset))
            await store.list_takes(GUILD, ARTICLE, after_id=0, offset=max(0, total - offset - on_page), limit=on_page)

    async def next_page() -> None:  # "Next ›" from page 500 (or the middle of a smaller list): a keyset
        if not edge:  # the edge the button carries, from the page it was drawn under
            edge.append((await store.list_takes(GUILD, ARTICLE, offset=middle * page, limit=page))[-1].id)
        await store.count_takes(GUILD, ARTICLE)
        await store.list_takes(GUILD, ARTICLE, before_id=edge[0], limit=page)

    async def mytakes() -> None:
        await store.count_takes(GUILD, ARTICLE, author_id=author)
        await store.list_takes(GUILD, ARTICLE, author_id=author, limit=page)

    async def stats() -> None:
        await store.take_stats(GUILD, ARTICLE, days=30, today=dt.date(2026, 2, 1))

    async def show() -> None:
        await store.get_take(GUILD, rng.randrange(1, size + 1))

    return {"takes": listing, "jump to page 500": jump_to_page, "Next › at page 500": next_page, "mytakes": mytakes,
            "stats": stats, "show": show}


async def compare_reads(small: tuple[Path | str, int], large: tuple[Path | str, int], repeat: int
                        ) -> dict[str, dict[str, dict[str, float]]]:
    """p50/p99 of each read at both sizes (SQLite files or PostgreSQL URLs), measured
    alternately so a busy moment of the machine falls on both sides alike, each side first in
    every other turn, and with this process on one CPU (:func:`one_cpu`)."""
    with one_cpu():
        return await _compare_reads(small, large, repeat)


@contextlib.contextmanager
def one_cpu() -> Iterator[None]:
    """Run this process (the event loop and the stores' reader threads) on one CPU for the block.

    A read is mostly the hop to the store's reader thread and back. With two CPUs the scheduler
    put each store's reader thread beside the event loop or on the other CPU, once for a whole
    run: `show` measured 45 or 110 µs a call depending on that placement, at either size, and so
    1M against 1k read 0.4× or 2.4× from one run to the next. On one CPU every hop is alike and
    what is left to compare is the database's own work (SQLite: `show` 20-30 µs at both sizes)."""
    if not hasattr(os, "sched_setaffinity"):  # not Linux: as the scheduler places them
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


async def _compare_reads(small: tuple[Path | str, int], large: tuple[Path | str, int], repeat: int
                         ) -> dict[str, dict[str, dict[str, float]]]:
    from bot.storage import open_store

    stores: list[Store] = []
    for where, _ in (small, large):
        if isinstance(where, Path):  # in the page cache, as a running bot's database is: time the query, not the disk
            await asyncio.to_thread(warm, where)
            stores.append(await SqliteStore.open(where))
        else:
            stores.append(await open_store(where))
    try:
        actions = [read_actions(stores[0], small[1]), read_actions(stores[1], large[1])]
        results: dict[str, dict[str, dict[str, float]]] = {"small": {}, "large": {}}
        for name in actions[0]:
            samples: list[list[float]] = [[], []]
            for side in (0, 1):
                await actions[side][name]()  # warm the page cache and the settings cache
            for turn in range(repeat):
                for side in ((0, 1) if turn % 2 == 0 else (1, 0)):  # each side first in turn
                    start = time.perf_counter()
                    await actions[side][name]()
                    samples[side].append(time.perf_counter() - start)
            results["small"][name] = percentiles(samples[0])
            results["large"][name] = percentiles(samples[1])
        return results
    finally:
        for store in stores:
            await store.close()


# -- PostgreSQL beside SQLite ----------------------------------------------------------------------

_RAW_PG = ("INSERT INTO takes (guild_id, channel_id, article, author_id, author_name, content, source, created_at) "
           "VALUES ($1, 42, $2, $3, 'Member', $4, 'command', $5)")


def _raw_pg_row(n: int) -> tuple[Any, ...]:
    """The baselines' ``n``-th row for :data:`_RAW_PG`."""
    return GUILD, ARTICLE, n, f"raw take {n}", T0 + dt.timedelta(microseconds=n)


async def raw_pg_autocommit(url: str, count: int) -> float:
    """Baseline: plain asyncpg on one connection, each row its own autocommitted INSERT."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        start = time.perf_counter()
        for n in range(count):
            await conn.execute(_RAW_PG, *_raw_pg_row(n))
        return count / (time.perf_counter() - start)
    finally:
        await conn.close()


async def pg_one_writer(raw_url: str, store_url: str, count: int, *, slices: int = 10) -> tuple[float, float]:
    """One writer on PostgreSQL: raw asyncpg autocommitting each row on one connection, and
    ``Store.add_take`` as in :func:`store_writers`, each on a fresh database, measured in
    alternating slices (the first side alternating too) and summed: a durable commit's time
    drifts with the disk over a second or two, and a slow moment then falls on both sides.
    Both connect before the clock starts. Returns (raw, ours) in takes/s."""
    import asyncpg

    from bot.storage import open_store

    conn = await asyncpg.connect(raw_url)
    store = await open_store(store_url)
    per = max(1, count // slices)
    spent = [0.0, 0.0]
    try:
        await store.schema_version()

        async def raw(first: int) -> None:
            for n in range(first, first + per):
                await conn.execute(_RAW_PG, *_raw_pg_row(n))

        async def ours(first: int) -> None:
            for n in range(first, first + per):
                await add_one(store, 10_000, n)

        for piece in range(slices):
            for side in ((0, 1) if piece % 2 == 0 else (1, 0)):
                start = time.perf_counter()
                await (raw, ours)[side](piece * per)
                spent[side] += time.perf_counter() - start
        return per * slices / spent[0], per * slices / spent[1]
    finally:
        await store.close()
        await conn.close()


async def raw_pg_executemany(url: str, count: int) -> float:
    """Baseline: every row in one ``executemany`` in one transaction (what no bot answering
    members one by one can do; the ceiling)."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        start = time.perf_counter()
        async with conn.transaction():
            await conn.executemany(_RAW_PG, [_raw_pg_row(n) for n in range(count)])
        return count / (time.perf_counter() - start)
    finally:
        await conn.close()
