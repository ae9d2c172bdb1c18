"""SQLite beside PostgreSQL: takes per second with 100 members writing at once, and listing,
counting and stats on a database of a million takes.

    python -m benchmarks.backends            # 1,000,000 takes, 100 writers x 50 takes each
    python -m benchmarks.backends --quick    # 20,000 takes, 100 writers x 5 takes: a minute or less

PostgreSQL comes from ``--postgres-url`` (a server whose user may create databases), or else a
throwaway server is started from the pgserver wheel (or ``PG_BINDIR``), as the tests do but durable
(fsync and synchronous commit on, like SQLite's ``synchronous=FULL``), so the figures compare. Both backends run through
the bot's own store (``open_store``), with the take rules checked as the bot checks them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks.data import ARTICLE, DAYS, GUILD, MEMBERS, TEXT, bulk_load
from bot.settings import sqlite_url
from bot.storage import NewTake, Store, TakeChecks, open_store
from bot.storage.postgres import parse_postgres_url, recount

WRITERS = 100


@dataclass
class Figures:
    backend: str
    takes_per_second: float
    size: int
    #: operation -> median milliseconds
    reads: dict[str, float]


async def writers(store: Store, per_writer: int) -> float:
    """100 members adding takes at once, each take checked against the duplicate and cooldown rules."""
    start_at = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)

    async def member(n: int) -> None:
        for k in range(per_writer):
            now = start_at + dt.timedelta(seconds=k)
            await store.add_take(
                NewTake(guild_id=GUILD + 1, channel_id=1, article=ARTICLE, author_id=10_000 + n, author_name=f"M{n}",
                        content=f"{TEXT} writer {n} take {k}", source="command", created_at=now),
                checks=TakeChecks(duplicate_since=now - dt.timedelta(minutes=10), cooldown_since=now))

    began = time.perf_counter()
    await asyncio.gather(*(member(n) for n in range(WRITERS)))
    return WRITERS * per_writer / (time.perf_counter() - began)


async def timed(fn: Callable[[], Awaitable[Any]], repeats: int) -> float:
    await fn()  # warm the caches once
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


async def reads(store: Store, size: int, repeats: int) -> dict[str, float]:
    today = (dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=DAYS)).date()

    async def first_chunk() -> None:
        async for _ in store.iter_takes(GUILD, ARTICLE, chunk_size=1000):
            break

    return {
        "list first page": await timed(lambda: store.list_takes(GUILD, ARTICLE, limit=10), repeats),
        "list page at the middle": await timed(lambda: store.list_takes(GUILD, ARTICLE, offset=size // 2, limit=10),
                                               repeats),
        "a member's takes page": await timed(lambda: store.list_takes(GUILD, ARTICLE, author_id=1_000 + 7, limit=10),
                                             repeats),
        "count": await timed(lambda: store.count_takes(GUILD, ARTICLE), repeats),
        "stats (30 days)": await timed(lambda: store.take_stats(GUILD, ARTICLE, days=30, today=today), repeats),
        "export chunk (1000)": await timed(first_chunk, repeats),
    }


async def bulk_load_postgres(url: str, count: int, members: int = MEMBERS) -> None:
    """``count`` takes by COPY with the counting triggers set aside, then one recount: as
    :func:`benchmarks.data.bulk_load` does for SQLite; then VACUUM, the state autovacuum leaves."""
    store = await open_store(url)  # creates the schema
    await store.close()
    conn = await asyncpg.connect(parse_postgres_url(url).dsn)
    try:
        start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        step = DAYS * 86_400 / max(count, 1)
        async with conn.transaction():
            await conn.execute("ALTER TABLE takes DISABLE TRIGGER USER")
            await conn.copy_records_to_table(
                "takes", columns=["guild_id", "channel_id", "article", "author_id", "author_name", "content", "source",
                                  "created_at"],
                records=((GUILD, 42, ARTICLE, 1_000 + n % members, f"Member {n % members}", f"{TEXT}#{n}", "command",
                          start + dt.timedelta(seconds=n * step)) for n in range(count)))
            await conn.execute("ALTER TABLE takes ENABLE TRIGGER USER")
            await recount(conn)
        # VACUUM as autovacuum would after this many inserts: a running database's visibility map
        # is set, so index-only scans (the pager's skip) do not visit the table for every entry.
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()


async def measure(backend: str, url_for: Callable[[str], str], *, size: int, per_writer: int,
                  repeats: int) -> Figures:
    write_url = url_for("writes")
    store = await open_store(write_url)
    try:
        rate = await writers(store, per_writer)
    finally:
        await store.close()
    read_url = url_for("reads")
    if backend == "sqlite":
        store = await open_store(read_url)  # created and migrated here, loaded on a thread
        await store.close()
        await asyncio.to_thread(bulk_load, Path(read_url.removeprefix("sqlite:///")), size)
    else:
        await bulk_load_postgres(read_url, size)
    store = await open_store(read_url)
    try:
        figures = await reads(store, size, repeats)
    finally:
        await store.close()
    return Figures(backend, rate, size, figures)


def report(results: list[Figures], per_writer: int) -> str:
    names = list(results[0].reads)
    width = max(len(name) for name in names) + 2
    lines = [f"{'':{width}}" + "".join(f"{r.backend:>14}" for r in results),
             f"{f'takes/s ({WRITERS} writers x {per_writer})':{width}}"
             + "".join(f"{r.takes_per_second:>14,.0f}" for r in results)]
    lines.append(f"at {results[0].size:,} takes, median ms:")
    for name in names:
        lines.append(f"{'  ' + name:{width}}" + "".join(f"{r.reads[name]:>14.2f}" for r in results))
    return "\n".join(lines)


async def run(args: argparse.Namespace, postgres_base: Callable[[str], str]) -> list[Figures]:
    size, per_writer, repeats = (20_000, 5, 5) if args.quick else (1_000_000, 50, 20)
    folder = Path(tempfile.mkdtemp(prefix="cf-bench-"))
    try:
        results = [await measure("sqlite", lambda name: sqlite_url(folder / f"{name}.db"), size=size,
                                 per_writer=per_writer, repeats=repeats)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    results.append(await measure("postgresql", postgres_base, size=size, per_writer=per_writer, repeats=repeats))
    return results


async def create_database(admin_url: str, name: str) -> str:
    """A new database on the server ``admin_url`` points at; its URL."""
    conn = await asyncpg.connect(parse_postgres_url(admin_url).dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"


def compare(*, quick: bool, postgres_url: str | None = None) -> tuple[dict[str, Any], str]:
    """Measure both backends; the figures (for JSON) and the table (for people)."""
    server = None
    if postgres_url:
        admin = postgres_url
    else:
        from tests.postgres_server import PostgresServer

        server = PostgresServer.start(Path(tempfile.mkdtemp(prefix="cf-bench-postgres-")), durable=True)
        admin = server.url()

    async def everything() -> list[Figures]:
        stamp = int(time.time())
        urls = {name: await create_database(admin, f"cf_bench_{name}_{stamp}") for name in ("writes", "reads")}
        return await run(argparse.Namespace(quick=quick), lambda name: urls[name])

    try:
        results = asyncio.run(everything())
    finally:
        if server is not None:
            server.stop()
            shutil.rmtree(server.folder, ignore_errors=True)
    figures = {r.backend: {"takes_per_second": r.takes_per_second, "size": r.size, "reads_median_ms": r.reads}
               for r in results}
    return figures, report(results, 5 if quick else 50)


def main(argv: list[str] | None = None) -> int:
    # The docstring's first paragraph, whole (argparse rewraps it).
    parser = argparse.ArgumentParser(prog="python -m benchmarks.backends", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 takes and 5 takes per writer")
    parser.add_argument("--postgres-url", help="a PostgreSQL server's URL whose user may CREATE DATABASE "
                                               "(default: start a throwaway server)")
    args = parser.parse_args(argv)
    print(compare(quick=args.quick, postgres_url=args.postgres_url)[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
