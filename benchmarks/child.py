"""Measurements that need a process of their own (start-up, resident memory), run as
``python -m benchmarks.child <what> …``; each prints one JSON line."""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

START = time.perf_counter()


def rss_mb() -> float:
    """Resident memory now (not the peak), from /proc."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def peak_mb() -> float:
    """This process's peak resident memory since it started (``VmHWM``; not ``ru_maxrss``, which
    Linux carries over from the parent across fork and exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1e3  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


async def ready(kind: str, folder: Path) -> dict[str, Any]:
    """Import, build the bot and reach READY in SimCord; ``bare`` is discord.py alone."""
    import discord
    import simcord

    from .harness import bare_bot, bot_settings, close_bot

    bot: discord.Client
    if kind == "ours":
        from bot import create_bot

        bot = create_bot(bot_settings(folder))
    else:
        bot = bare_bot({name: {"content": "x", "embeds": []} for name in ("faq", "summary", "take", "takes")},
                       bot_settings(folder))
    async with simcord.run(bot):
        elapsed = time.perf_counter() - START
    await close_bot(bot)
    return {"seconds": elapsed}


async def after_commands(kind: str, folder: Path, count: int) -> dict[str, Any]:
    """Resident memory after ``count`` commands (the four measured ones in turn)."""
    import gc

    import discord

    from .harness import bare_bot, bot_settings, capture_replies, mixed_command, run_commands

    replies = await capture_replies(folder / "capture")
    bot: discord.Client
    if kind == "ours":
        from bot import create_bot

        bot = create_bot(bot_settings(folder))
    else:
        bot = bare_bot(replies, bot_settings(folder))
    await run_commands(bot, count, mixed_command)
    gc.collect()
    return {"rss_mb": rss_mb(), "peak_mb": peak_mb()}


async def export(path: Path) -> dict[str, Any]:
    """One export as the moderator command runs it: chunks from the store, packed on a thread."""
    from bot.export import pack_stream
    from bot.storage.sqlite import SqliteStore

    from .data import ARTICLE, GUILD

    store = await SqliteStore.open(path)
    try:
        before = rss_mb()
        start = time.perf_counter()
        packed = await pack_stream(store.iter_takes(GUILD, ARTICLE), "bench", limit=10 * 1024 * 1024)
        seconds = time.perf_counter() - start
        with packed:
            files = sum(len(batch) for batch in packed.messages)
            return {"seconds": seconds, "peak_mb": peak_mb(), "rss_before_mb": before, "takes": packed.takes,
                    "files": files}
    finally:
        await store.close()


def main(argv: list[str]) -> None:
    what, *args = argv
    if what == "ready":
        result = asyncio.run(ready(args[0], Path(args[1])))
    elif what == "rss":
        result = asyncio.run(after_commands(args[0], Path(args[1]), int(args[2])))
    elif what == "export":
        result = asyncio.run(export(Path(args[0])))
    elif what == "import-discord":
        import discord  # noqa: F401

        result = {"seconds": time.perf_counter() - START}
    else:
        raise SystemExit(f"unknown measurement {what!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
