"""A member's deletion (``forgetme``) at a million takes against a thousand, on both backends.

    python -m benchmarks.deletion            # 1,000,000 takes against 1,000, 15 rounds
    python -m benchmarks.deletion --quick    # 20,000 against 1,000, 5 rounds

Each round gives a new member the same 50 takes in both databases, then times
``Store.delete_member_data`` (one transaction, the counters kept by the triggers); the sizes
alternate within a round. Prints the medians and the ratio (the target: within 2×).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from bot.settings import sqlite_url
from bot.storage import NewTake, open_store

from .backends import bulk_load_postgres
from .data import ARTICLE, GUILD, bulk_load

TAKES = 50


async def measure(urls: dict[tuple[str, str], str], rounds: int) -> dict[tuple[str, str], float]:
    stores = {key: await open_store(url) for key, url in urls.items()}
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in stores}
    try:
        for round_ in range(rounds):
            for key, store in stores.items():
                member = 5_000_000 + round_
                await asyncio.gather(*(store.add_take(NewTake(
                    guild_id=GUILD, channel_id=1, article=ARTICLE, author_id=member, author_name="m",
                    content=f"take {n}", source="command", created_at=start + dt.timedelta(days=7 * n)))
                    for n in range(TAKES)))
                began = time.perf_counter()
                assert await store.delete_member_data(member) == TAKES
                samples[key].append(time.perf_counter() - began)
    finally:
        for store in stores.values():
            await store.close()
    return {key: statistics.median(values) for key, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.deletion", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres-url", help="a server whose user may CREATE DATABASE (default: a throwaway one)")
    args = parser.parse_args(argv)
    from .__main__ import Postgres

    sizes = {"small": 1_000, "large": 20_000 if args.quick else 1_000_000}
    folder = Path(tempfile.mkdtemp(prefix="cf-bench-delete-"))
    postgres = Postgres(args.postgres_url)
    try:
        urls: dict[tuple[str, str], str] = {}
        for name, size in sizes.items():
            bulk_load(folder / f"{name}.db", size)
            urls[("SQLite", name)] = sqlite_url(folder / f"{name}.db")
            urls[("PostgreSQL", name)] = postgres.fresh()
            asyncio.run(bulk_load_postgres(urls[("PostgreSQL", name)], size))
        medians = asyncio.run(measure(urls, 5 if args.quick else 15))
    finally:
        postgres.stop()
    for backend in ("SQLite", "PostgreSQL"):
        small, large = medians[(backend, "small")], medians[(backend, "large")]
        print(f"{backend}: deleting a member's {TAKES} takes at {sizes['large']:,} takes {large * 1000:.2f} ms, "
              f"at {sizes['small']:,} {small * 1000:.2f} ms: {large / small:.2f}x (target <= 2)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
