"""Where command errors are answered: one handler for the prefix and slash paths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands
from rapidfuzz import process

from bot.context import Context
from bot.ui.reporting import answer_interaction, expired_interaction, log, unexpected_answer, user_message
from bot.ui.take_form import with_draft
from bot.ui.views import is_expired_component

if TYPE_CHECKING:
    from bot.app import CommonFactorsBot


UNKNOWN_CONTROL = "This control is out of date or was altered, so it does nothing. Run the command again."


def claimed_by_an_item(bot: discord.Client, custom_id: str) -> bool:
    """Whether a registered dynamic item (article buttons, FAQ picker, pagers, …) or a view kept
    in memory (a persistent one included) answers this id."""
    store = getattr(bot._connection, "_view_store", None)
    if any(pattern.fullmatch(custom_id) for pattern in getattr(store, "_dynamic_items", {})):
        return True
    views: dict[Any, dict[tuple[int, str], Any]] = getattr(store, "_views", {})
    return any(key[1] == custom_id for items in views.values() for key in items)


class Events(commands.Cog):
    def __init__(self, bot: CommonFactorsBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_command_error(self, ctx: Context, error: commands.CommandError) -> None:
        if isinstance(error, commands.CommandNotFound):
            await self._suggest_article(ctx)
            return
        if expired_interaction(error, where=f"command {ctx.command.qualified_name if ctx.command else '?'}"):
            return
        usage = None
        if ctx.command is not None:
            signature = ctx.command.usage if ctx.command.usage is not None else ctx.command.signature
            usage = f"{ctx.clean_prefix}{ctx.command.qualified_name} {signature}".strip()
        message = user_message(error, usage=usage)
        if message is None:
            name = ctx.command.qualified_name if ctx.command else "?"
            message = unexpected_answer(error, where=f"command {name}",
                                        context={"guild": ctx.guild.id if ctx.guild else None,
                                                 "channel": ctx.channel.id, "user": ctx.author.id,
                                                 "path": "slash" if ctx.interaction else "prefix"})
        answer: dict[str, Any] = {"content": message}
        if ctx.interaction is not None and ctx.draft:
            answer = with_draft(message, ctx.draft)  # their words are nowhere else: hand them back
        try:
            await ctx.reply_private(**answer)  # falls back to a DM where the bot may not post
        except discord.HTTPException:
            log.warning("could not answer an error in channel %s, nor by DM", ctx.channel.id)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Buttons and menus from before a restart: say so, instead of Discord's "interaction failed"."""
        if interaction.type is not discord.InteractionType.component:
            return
        data: Any = interaction.data or {}
        custom_id = str(data.get("custom_id", ""))
        if is_expired_component(custom_id, self.bot.boot_id):
            await answer_interaction(interaction, "These buttons stopped working when the bot restarted. "
                                                  "Run the command again for fresh ones.")
        elif custom_id.startswith("cf:") and not claimed_by_an_item(self.bot, custom_id):
            # Ours by its form, but no button of this bot makes it: altered, or from an older version.
            await answer_interaction(interaction, UNKNOWN_CONTROL)

    async def _suggest_article(self, ctx: Context) -> None:
        """``!commonfactor`` is almost certainly meant for us; ``!play`` is another bot's."""
        word = (ctx.invoked_with or "").lower()
        if not word or not self.bot.articles:
            return
        match = process.extractOne(word, list(self.bot.articles), score_cutoff=85)
        if match is not None:
            await ctx.reply_private(f"Did you mean `{ctx.clean_prefix}{match[0]}`?")


async def setup(bot: CommonFactorsBot) -> None:
    await bot.add_cog(Events(bot))
