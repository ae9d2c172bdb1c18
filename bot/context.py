"""The command context every command gets: the store and the article at hand, one hop away."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

if TYPE_CHECKING:
    from bot.app import CommonFactorsBot
    from bot.storage import Store


class Context(commands.Context[Any]):
    bot: CommonFactorsBot

    @property
    def store(self) -> Store:
        return self.bot.store

    @property
    def is_slash(self) -> bool:
        return self.interaction is not None

    async def reply_private(self, content: str | None = None, **kwargs: Any) -> Any:
        """Answer the invoker: ephemeral on slash, a plain reply (that pings no one) on prefix.

        When the bot may not post in the channel, the answer goes by DM instead: a member whose
        take was saved must hear so, wherever the bot is allowed to say it."""
        if self.interaction is not None:
            return await self.send(content, ephemeral=True, **kwargs)
        try:
            return await self.send(content, reference=self.message.to_reference(fail_if_not_exists=False),
                                   mention_author=False, **kwargs)
        except discord.Forbidden:
            where = getattr(self.channel, "mention", "that channel")
            note = f"-# I couldn't answer in {where}, so I'm telling you here."
            return await self.author.send(f"{content}\n{note}" if content else note, **kwargs)
