"""The fair baselines: discord.py bots that import nothing of this project.

* :func:`bare_bot` answers the same commands with the same messages (captured from our bot once,
  sent as a reply where ours replied, as a plain message where ours did) and does nothing else:
  the ceiling for commands that only reply (``faq``, ``summary``).
* ``bare_bot(..., writer=...)`` also saves each take the simplest durable way, as a first bot
  would: with aiosqlite, ``INSERT`` then ``COMMIT`` on one connection (WAL, ``synchronous=FULL``),
  or with asyncpg, one autocommitted ``INSERT`` (a durable commit with the server's defaults);
  on the same schema (the benchmark creates the database with the bot's migrations first).
  The ceiling for ``take``, which must also commit before it answers.

Only ``discord``, ``aiosqlite`` and ``asyncpg`` are imported here (the driver when used), so
the start-up and memory baselines are discord.py's and the driver's, not ours.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import discord
from discord.ext import commands

ARTICLE = "commonfactors"
_INSERT = ("INSERT INTO takes (guild_id, channel_id, article, author_id, author_name, content, source, "
           "message_url, created_at) VALUES ")


class Writer:
    """One connection, opened on first use; ``save`` commits a take before returning."""

    def __init__(self, kind: str, target: str) -> None:
        self.kind, self.target = kind, target
        self._conn: Any = None

    async def save(self, message: discord.Message, text: str) -> None:
        now = dt.datetime.now(dt.UTC)
        values = (message.guild.id if message.guild else 0, message.channel.id, ARTICLE, message.author.id,
                  message.author.display_name, text, "command", message.jump_url)
        if self.kind == "sqlite":
            import aiosqlite

            if self._conn is None:
                self._conn = await aiosqlite.connect(self.target)
                for pragma in ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL"):
                    await (await self._conn.execute(pragma)).close()
            # sqlite3 opens the transaction itself before the INSERT; commit() ends it.
            await (await self._conn.execute(_INSERT + "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                            (*values, now.isoformat(timespec="microseconds")))).close()
            await self._conn.commit()
        else:
            import asyncpg

            if self._conn is None:
                self._conn = await asyncpg.connect(self.target)
            await self._conn.execute(_INSERT + "($1, $2, $3, $4, $5, $6, $7, $8, $9)", *values, now)

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


class BareBot(commands.Bot):
    writer: Writer | None = None

    async def close(self) -> None:
        if self.writer is not None:
            await self.writer.close()
        await super().close()


def bare_bot(replies: dict[str, dict[str, Any]], *, writer: Writer | None = None) -> BareBot:
    """discord.py alone: a group with the same subcommands, replying with the captured messages."""
    intents = discord.Intents.default()
    intents.message_content = True
    bot = BareBot(command_prefix="!", intents=intents, help_command=None,
                  allowed_mentions=discord.AllowedMentions.none())
    bot.writer = writer
    counter = {"take": 0}

    async def answer(ctx: commands.Context[Any], name: str, content: str | None = None) -> None:
        """As our bot answered: a reply (pinging no one) or a plain message, the same content."""
        payload = replies[name]
        text = payload["content"] if content is None else content
        if payload.get("reply", True):
            await ctx.reply(text, embeds=payload["embeds"], mention_author=False)
        else:
            await ctx.send(text, embeds=payload["embeds"])

    @bot.group(name=ARTICLE, invoke_without_command=True)
    async def group(ctx: commands.Context[Any]) -> None:
        await answer(ctx, "summary")

    @group.command(name="faq")
    async def faq(ctx: commands.Context[Any], *, query: str = "") -> None:
        await answer(ctx, "faq")

    @group.command(name="summary")
    async def summary(ctx: commands.Context[Any]) -> None:
        await answer(ctx, "summary")

    @group.command(name="take")
    async def take(ctx: commands.Context[Any], *, text: str) -> None:
        if bot.writer is not None:
            await bot.writer.save(ctx.message, text)
        counter["take"] += 1
        await answer(ctx, "take", str(replies["take"]["content"]).replace("#1", f"#{counter['take']}"))

    @group.command(name="takes")
    async def takes(ctx: commands.Context[Any]) -> None:
        await answer(ctx, "takes")

    return bot
