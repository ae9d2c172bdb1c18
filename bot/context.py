"""The command context: the article of the invoked group and the services, one hop away."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.article import Article
from bot.audit import AuditLog
from bot.guild_settings import GuildSettingsService
from bot.meetings import MeetingService
from bot.pins import PinService
from bot.quotes import QuoteService
from bot.takes import TakeService

if TYPE_CHECKING:
    from bot.app import CommonFactorsBot


class Context(commands.Context[Any]):
    bot: CommonFactorsBot
    #: Words the member wrote that exist nowhere else once sent (a slash command's text option):
    #: a refusal on slash hands them back (see ``cogs/events.py``).
    draft: str | None = None

    @property
    def article(self) -> Article:
        """The article whose group was invoked (``!commonfactors take`` → commonfactors)."""
        command: Any = self.command
        while command is not None:
            article = getattr(command, "article", None)
            if isinstance(article, Article):
                return article
            command = command.parent
        raise LookupError(f"{self.command!r} is not an article command")

    @property
    def takes(self) -> TakeService:
        return self.bot.services.takes

    @property
    def quotes(self) -> QuoteService:
        """Which bot messages quote which takes (:mod:`bot.quotes`)."""
        return self.bot.services.quotes

    @property
    def summary_pins(self) -> PinService:
        """The pinned-summary service (not ``pins``: that is discord.py's channel pins iterator)."""
        return self.bot.services.pins

    @property
    def guild_settings(self) -> GuildSettingsService:
        return self.bot.services.guild_settings

    @property
    def meetings(self) -> MeetingService:
        return self.bot.services.meetings

    @property
    def audit(self) -> AuditLog:
        return self.bot.services.audit

    @property
    def is_slash(self) -> bool:
        return self.interaction is not None

    @property
    def invoked_prefix(self) -> str:
        """How the member called us (``/`` or the prefix they typed), for copy-pasteable hints."""
        return "/" if self.interaction is not None else self.clean_prefix

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


class GuildContext(Context):
    """The context of a command that only runs in a server (see :func:`bot.commands.guild_only`):
    ``guild`` is never ``None`` and the author is a member."""

    guild: discord.Guild
    author: discord.Member
