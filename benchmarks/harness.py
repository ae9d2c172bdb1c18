"""Commands through discord.py in SimCord: this bot, and a bare discord.py bot that answers the
same commands with the same messages (captured from this bot once), as the baseline.

The bare bot is the ceiling: discord.py's own dispatch, parsing and the simulated send, with no
work of ours. A ratio of 1.0 would mean our commands cost nothing beyond replying.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import simcord
from discord.ext import commands
from simcord import ChannelHandle, MemberActor

from bot import Settings, create_bot
from bot.app import CommonFactorsBot, build_intents
from bot.settings import sqlite_url

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
    """SimCord does not close the bot; our store's threads must go."""
    if isinstance(bot, CommonFactorsBot) and bot._store is not None:
        await bot._store.close()
        bot._store = None


def reply_payload(message: discord.Message) -> dict[str, Any]:
    return {"content": message.content or None, "embeds": list(message.embeds)}


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


def bare_bot(replies: dict[str, dict[str, Any]], settings: Settings) -> commands.Bot:
    """discord.py alone: a group with the same subcommands, replying with the captured messages."""
    bot = commands.Bot(command_prefix="!", intents=build_intents(settings), help_command=None,
                       allowed_mentions=discord.AllowedMentions.none())
    counter = {"take": 0}

    @bot.group(name=ARTICLE, invoke_without_command=True)
    async def group(ctx: commands.Context[Any]) -> None:
        await ctx.reply(**replies["summary"], mention_author=False)

    @group.command(name="faq")
    async def faq(ctx: commands.Context[Any], *, query: str = "") -> None:
        await ctx.reply(**replies["faq"], mention_author=False)

    @group.command(name="summary")
    async def summary(ctx: commands.Context[Any]) -> None:
        await ctx.reply(**replies["summary"], mention_author=False)

    @group.command(name="take")
    async def take(ctx: commands.Context[Any], *, text: str) -> None:
        counter["take"] += 1
        content = str(replies["take"]["content"]).replace("#1", f"#{counter['take']}")
        await ctx.reply(content, mention_author=False)

    @group.command(name="takes")
    async def takes(ctx: commands.Context[Any]) -> None:
        await ctx.reply(**replies["takes"], mention_author=False)

    return bot


BotFactory = Callable[[], discord.Client]


async def rate(factory: BotFactory, command: str, count: int) -> float:
    """Commands per second: ``count`` sends, one after another, each answered before the next."""
    bot = factory()
    try:
        async with simcord.run(bot) as env:
            s = stage(env)
            await s.member.send(s.channel, command.format(n=-1))  # warm: first-use imports and caches
            start = time.perf_counter()
            for n in range(count):
                await s.member.send(s.channel, command.format(n=n))
            elapsed = time.perf_counter() - start
    finally:
        await close_bot(bot)
    return count / elapsed


async def compare_commands(folder: Path, *, count: int, rounds: int) -> dict[str, dict[str, float]]:
    """Median commands/s of ours and of the bare bot, in alternating rounds."""
    replies = await capture_replies(folder / "capture")
    settings = bot_settings(folder)
    results: dict[str, dict[str, float]] = {}
    for name, command in COMMANDS.items():
        ours: list[float] = []
        bare: list[float] = []
        for round_ in range(rounds):
            fresh = folder / f"{name}-{round_}"
            fresh.mkdir(parents=True, exist_ok=True)
            ours.append(await rate(functools.partial(create_bot, bot_settings(fresh)), command, count))
            bare.append(await rate(lambda: bare_bot(replies, settings), command, count))
        results[name] = {"ours": statistics.median(ours), "bare": statistics.median(bare)}
    return results


async def run_commands(bot: discord.Client, count: int, each: Callable[[Stage, int], Awaitable[None]]) -> None:
    try:
        async with simcord.run(bot) as env:
            s = stage(env)
            for n in range(count):
                await each(s, n)
    finally:
        await close_bot(bot)


async def mixed_command(s: Stage, n: int) -> None:
    """The four measured commands in turn."""
    command = list(COMMANDS.values())[n % len(COMMANDS)]
    await s.member.send(s.channel, command.format(n=n))
