"""Commands through discord.py in SimCord: this bot, and a bare discord.py bot
(:mod:`benchmarks.bare`) that answers the same commands with the same messages (captured from
this bot once), as the baseline; for ``take``, a bare bot that also commits the take.

The bare bot is the ceiling: discord.py's own dispatch, parsing and the simulated send (and, for
``take``, the simplest durable write), with no work of ours. A ratio of 1.0 would mean our
commands cost nothing beyond that.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import simcord
from simcord import ChannelHandle, MemberActor

from bot import Settings, create_bot
from bot.app import CommonFactorsBot
from bot.settings import sqlite_url

from .bare import Writer, bare_bot
from .data import create_empty

ARTICLE = "commonfactors"
#: What each measured command sends. ``{n}`` makes every take's text unique.
COMMANDS = {
    "faq": f"!{ARTICLE} faq 1",
    "summary": f"!{ARTICLE} summary",
    "take": f"!{ARTICLE} take A take written for the benchmark, number {{n}}, long enough to be real.",
    "takes": f"!{ARTICLE} takes",
}


def bot_settings(folder: Path) -> Settings:
    """No cooldown (one member sends every take) and the duplicate rule kept as shipped."""
    return Settings(database_url=sqlite_url(folder / "bench.db"), take_cooldown_seconds=0)


@dataclass
class Stage:
    env: simcord.Env
    channel: ChannelHandle
    member: MemberActor


def stage(env: simcord.Env) -> Stage:
    guild = env.create_guild("Bench")
    channel = guild.create_text_channel("journal-club")
    member = guild.add_member(env.create_user("member"))
    return Stage(env, channel, member)


async def close_bot(bot: discord.Client) -> None:
    """SimCord does not close the bot; our store's threads (and a bare bot's connection) must go."""
    if isinstance(bot, CommonFactorsBot) and bot._store is not None:
        await bot._store.close()
        bot._store = None
    writer = getattr(bot, "writer", None)
    if writer is not None:
        await writer.close()


def reply_payload(message: discord.Message) -> dict[str, Any]:
    """The message, and whether it was sent as a reply (a reference costs the send more work)."""
    return {"content": message.content or None, "embeds": list(message.embeds), "reply": message.reference is not None}


async def capture_replies(folder: Path) -> dict[str, dict[str, Any]]:
    """What this bot answers to each command, for the bare bot to send back."""
    bot = create_bot(bot_settings(folder))
    captured: dict[str, dict[str, Any]] = {}
    try:
        async with simcord.run(bot) as env:
            s = stage(env)
            for name, command in COMMANDS.items():
                await s.member.send(s.channel, command.format(n=0))
                last = s.channel.last_message
                assert last is not None and last.author.bot, f"{name}: no answer"
                captured[name] = reply_payload(last)
    finally:
        await close_bot(bot)
    return captured


BotFactory = Callable[[], discord.Client]


async def rate(factory: BotFactory, command: str, count: int) -> float:
    """Commands per second: ``count`` sends, one after another, each answered before the next."""
    bot = factory()
    try:
        async with simcord.run(bot) as env:
            s = stage(env)
            await s.member.send(s.channel, command.format(n=-1))  # warm: first-use imports and caches
            # The bots measured before this one left their objects to the collector: collected
            # now, not by a full collection during whichever run comes next.
            gc.collect()
            start = time.perf_counter()
            for n in range(count):
                await s.member.send(s.channel, command.format(n=n))
            elapsed = time.perf_counter() - start
    finally:
        await close_bot(bot)
    return count / elapsed


#: Which baseline each command is measured against: the bare bot that only replies, or the one
#: that also commits the take (SQLite: aiosqlite; PostgreSQL: asyncpg), and the target ratio.
BASELINES = {"faq": ("reply", 0.9), "summary": ("reply", 0.9), "take": ("write", 0.9), "takes": ("reply", None)}


async def compare_commands(folder: Path, *, count: int, rounds: int, postgres: Callable[[], str] | None = None,
                           ) -> dict[str, dict[str, Any]]:
    """Median commands/s of ours and of its bare baseline, in alternating rounds; ``take`` also
    on PostgreSQL when ``postgres`` (a fresh migrated database's URL per call) is given."""
    replies = await capture_replies(folder / "capture")
    results: dict[str, dict[str, Any]] = {}
    cases = [(name, "sqlite") for name in COMMANDS] + ([("take", "postgresql")] if postgres else [])
    for name, backend in cases:
        ours: list[float] = []
        bare: list[float] = []
        kind, target = BASELINES[name]
        for round_ in range(rounds):
            fresh = folder / f"{name}-{backend}-{round_}"
            fresh.mkdir(parents=True, exist_ok=True)
            settings = bot_settings(fresh)
            write: tuple[str, str] | None = None
            if backend == "postgresql":
                assert postgres is not None
                # (these start event loops of their own: on a thread, beside this one)
                settings = Settings(database_url=await asyncio.to_thread(postgres), take_cooldown_seconds=0)
                write = ("postgresql", await asyncio.to_thread(postgres))
            elif kind == "write":
                await asyncio.to_thread(create_empty, fresh / "bare.db")
                write = ("sqlite", str(fresh / "bare.db"))
            sides: list[tuple[list[float], Callable[[], discord.Client]]] = [
                (ours, functools.partial(create_bot, settings)), (bare, functools.partial(bare_with, replies, write))]
            for rates, factory in sides if round_ % 2 == 0 else reversed(sides):  # each side first in turn
                rates.append(await rate(factory, command_text(name), count))
        label = name if backend == "sqlite" else f"{name} (PostgreSQL)"
        # No target on PostgreSQL: in SimCord a bot on a connection pool waits for its settle
        # loop (measured: the bare bot on an asyncpg pool answers 3.5x slower than on one connection).
        results[label] = {"ours": statistics.median(ours), "bare": statistics.median(bare), "baseline": kind,
                          "target": target if backend == "sqlite" else None}
    return results


def bare_with(replies: dict[str, dict[str, Any]], write: tuple[str, str] | None) -> discord.Client:
    return bare_bot(replies, writer=None if write is None else Writer(*write))


def command_text(name: str) -> str:
    return COMMANDS[name]
