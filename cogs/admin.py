"""Operator commands: deliberate slash-command sync."""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord.ext import commands

from bot.context import Context
from bot.errors import UserError
from bot.lifecycle import sync_failure_message

if TYPE_CHECKING:
    from bot.app import CommonFactorsBot


class Admin(commands.Cog):
    def __init__(self, bot: CommonFactorsBot) -> None:
        self.bot = bot

    @commands.command(name="sync", hidden=True)
    @commands.is_owner()
    async def sync(self, ctx: Context, mode: str = "changed") -> None:
        """Sync slash commands: ``changed`` (default) only if the tree changed, ``force`` always."""
        if mode not in {"changed", "force"}:
            raise commands.BadArgument("the mode is `changed` or `force`")
        try:
            synced = await self.bot.sync_commands_if_changed(force=mode == "force")
        except Exception as exc:
            message = sync_failure_message(exc, self.bot.settings.dev_guild_id)
            if message is None:
                raise
            raise UserError(message) from exc
        count = len(self.bot.tree.get_commands())
        await ctx.send(f"Synced {count} slash command group(s)." if synced
                       else "Slash commands are unchanged since the last sync; nothing to do.")


async def setup(bot: CommonFactorsBot) -> None:
    await bot.add_cog(Admin(bot))
