"""Measurements that need a process of their own (start-up, resident memory), run as
``python -m benchmarks.child <what> …``; each prints one JSON line."""

from __future__ import annotations

import asyncio
import json
import os
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
    """Import, build the bot and reach READY in SimCord; ``bare`` is discord.py alone (it imports
    nothing of the project)."""
    import discord
    import simcord

    bot: discord.Client
    if kind == "ours":
        from bot import create_bot

        from .harness import bot_settings, close_bot

        bot = create_bot(bot_settings(folder))
    else:
        from .bare import bare_bot

        bot = bare_bot({name: {"content": "x", "embeds": []} for name in ("faq", "summary", "take", "takes")})
    async with simcord.run(bot):
        elapsed = time.perf_counter() - START
    if kind == "ours":
        await close_bot(bot)
    else:
        await bot.close()
    return {"seconds": elapsed}


async def after_commands(kind: str, folder: Path, count: int, replies_text: str) -> dict[str, Any]:
    """Resident memory after ``count`` commands (the four measured ones in turn); the bare bot
    gets the replies our bot gave (captured by the parent), and imports nothing of the project."""
    import gc

    import discord

    bot: discord.Client
    if kind == "ours":
        from bot import create_bot

        from .harness import bot_settings

        bot = create_bot(bot_settings(folder))
    else:
        from .bare import bare_bot

        saved = json.loads(replies_text)
        replies = {name: {"content": reply["content"], "embeds": [discord.Embed.from_dict(e) for e in reply["embeds"]],
                          "reply": reply.get("reply", True)}
                   for name, reply in saved.items()}
        bot = bare_bot(replies)
    await run_commands(bot, count)
    gc.collect()
    return {"rss_mb": rss_mb(), "peak_mb": peak_mb()}


async def run_commands(bot: Any, count: int) -> None:
    """The four measured commands in turn, as SimCord's member sends them (no project import)."""
    import simcord

    commands = ["!commonfactors faq 1", "!commonfactors summary",
                "!commonfactors take A take written for the benchmark, number {n}, long enough to be real.",
                "!commonfactors takes"]
    try:
        async with simcord.run(bot) as env:
            guild = env.create_guild("Bench")
            channel = guild.create_text_channel("journal-club")
            member = guild.add_member(env.create_user("member"))
            for n in range(count):
                await member.send(channel, commands[n % len(commands)].format(n=n))
    finally:
        store = getattr(bot, "_store", None)
        if store is not None:
            await store.close()
            bot._store = None


async def export(backend: str, where: str, how: str) -> dict[str, Any]:
    """One export of the article's takes, timed with its peak memory: ``ours`` as the moderator
    command runs it (the database writes the lines, packed on a thread), ``naive`` the
    row-at-a-time baseline (:mod:`benchmarks.naive_export`)."""
    from .data import ARTICLE, GUILD

    before = rss_mb()
    start = time.perf_counter()
    if how == "naive":
        from . import naive_export

        target = Path(where + ".naive.zip") if backend == "sqlite" else Path(f"/tmp/cf-naive-{os.getpid()}.zip")
        try:
            if backend == "sqlite":
                takes = naive_export.export_file(Path(where), GUILD, ARTICLE, target)
            else:
                takes = await naive_export.export_postgres(where, GUILD, ARTICLE, target)
        finally:
            target.unlink(missing_ok=True)
        return {"seconds": time.perf_counter() - start, "peak_mb": peak_mb(), "rss_before_mb": before,
                "takes": takes}
    from bot.export import pack_stream
    from bot.settings import sqlite_url
    from bot.storage import open_store

    store = await open_store(sqlite_url(Path(where)) if backend == "sqlite" else where)
    try:
        start = time.perf_counter()
        packed = await pack_stream(store.iter_export(GUILD, article=ARTICLE), "bench", limit=10 * 1024 * 1024)
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
        replies = Path(args[3]).read_text(encoding="utf-8")
        result = asyncio.run(after_commands(args[0], Path(args[1]), int(args[2]), replies))
    elif what == "export":
        result = asyncio.run(export(args[0], args[1], args[2]))
    elif what == "import-discord":
        import discord  # noqa: F401

        result = {"seconds": time.perf_counter() - START}
    else:
        raise SystemExit(f"unknown measurement {what!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
