"""Moderation: the pinned summary, exports, per-guild settings and the audit trail.

Every command here is marked :func:`~bot.commands.moderator_only`, so it is registered as
``/<article>-mod <name>`` (hidden by Discord from members without Manage Messages) and as
``!<article> <name>``, with the same check on both paths.
"""

from __future__ import annotations

import contextlib
import io
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot import guild_settings, rendering
from bot.commands import ArticleGroup, SubcommandCog, is_moderator, moderator_only
from bot.errors import NotAllowed, NotSaved, UserError, handle_interaction_error, report_unexpected
from bot.export import pack_export, parse_range
from bot.pins import PinResult, pin_summary, unpin_summary
from bot.storage import GuildSettings, StorageError
from bot.views import StaticPages, send_pages

if TYPE_CHECKING:
    from bot.app import CommonFactorsBot
    from bot.context import Context

log = logging.getLogger("bot.moderation")

AUDIT_DEFAULT = 20
AUDIT_MAX = 100
SETTINGS_TIMEOUT = 300.0

PIN_MESSAGES: dict[PinResult, str] = {
    "posted": "Pinned the summary of *{title}* here. Replies to it are saved as takes.",
    "reposted": "The pinned summary of *{title}* had been deleted, so I posted and pinned a new one.",
    "edited": "Updated the pinned summary of *{title}* in place: the article changed since it was pinned.",
    "repinned": "The summary of *{title}* had been unpinned; it is pinned again.",
    "unchanged": "The pinned summary of *{title}* is already up to date: {link}",
}


async def record(bot: CommonFactorsBot, guild_id: int, actor_id: int, action: str, detail: str) -> None:
    """Record a moderator action. The action itself already happened, so a failed audit write is
    logged with an id (and never undoes the action or hides its answer)."""
    try:
        await bot.store.add_audit(guild_id, actor_id, action, detail, bot.now())
    except StorageError as exc:
        report_unexpected(exc, where=f"audit {action}", context={"guild": guild_id, "actor": actor_id})


async def audit(ctx: Context, action: str, detail: str) -> None:
    assert ctx.guild is not None
    await record(ctx.bot, ctx.guild.id, ctx.author.id, action, detail)


async def apply_setting(bot: CommonFactorsBot, guild: discord.Guild, actor_id: int, name: str,
                        value: str) -> tuple[guild_settings.Change, bool]:
    """Validate, save, apply and audit one change, from the command or the settings view alike.
    Returns the change and whether anything changed."""
    async with bot.lock("settings", guild.id):  # two moderators at once: neither change is lost
        current = await bot.store.get_guild_settings(guild.id)
        change = guild_settings.change(current, name, value, guild, bot.settings)
        if change.after == current:
            return change, False
        try:
            await bot.store.save_guild_settings(change.after)
        except StorageError as exc:
            log.error("settings not saved for guild %s: %s", guild.id, exc, exc_info=exc)
            raise NotSaved("Nothing changed: the database could not be written. Please try again.") from exc
        apply_prefix(bot, guild.id, change.after.prefix)
    await record(bot, guild.id, actor_id, "settings", change.describe(bot.settings))
    return change, True


class SettingsView(discord.ui.View):
    """The settings card's controls: pick the moderator role and the take channels from Discord's
    own menus, and flip anonymous lists, without typing ids. Only the moderator who opened it,
    while still a moderator, can use it."""

    def __init__(self, owner_id: int, current: GuildSettings) -> None:
        super().__init__(timeout=SETTINGS_TIMEOUT)
        self.owner_id = owner_id
        self.message: discord.Message | None = None
        if current.moderator_role_id is not None:
            self.role.default_values = [discord.Object(id=current.moderator_role_id, type=discord.Role)]
        self.channels.default_values = [discord.Object(id=c, type=discord.abc.GuildChannel)
                                        for c in sorted(current.take_channel_ids)]
        self.anonymous.label = f"Anonymous lists: {'on' if current.anonymous_lists else 'off'}"
        self.anonymous.style = discord.ButtonStyle.primary if current.anonymous_lists else discord.ButtonStyle.secondary
        self.anonymous_now = current.anonymous_lists

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        bot: CommonFactorsBot = interaction.client
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message("These controls belong to the moderator who opened them; "
                                                    "run `settings` yourself.", ephemeral=True)
            return False
        current = await bot.store.get_guild_settings(interaction.guild_id or 0)
        if not is_moderator(interaction.user, interaction.channel, current.moderator_role_id):
            raise NotAllowed("Only moderators (Manage Messages, or the moderator role) can do that.")
        return True

    async def _apply(self, interaction: discord.Interaction[Any], name: str, value: str) -> None:
        bot: CommonFactorsBot = interaction.client
        assert interaction.guild is not None
        await apply_setting(bot, interaction.guild, interaction.user.id, name, value)
        current = await bot.store.get_guild_settings(interaction.guild.id)
        view = SettingsView(self.owner_id, current)
        view.message = self.message
        self.stop()
        embed = rendering.settings_embed(interaction.guild.name, guild_settings.rows(current, bot.settings),
                                         bot.prefix_for(interaction.guild))
        await interaction.response.edit_message(embed=embed, view=view)

    @discord.ui.select(cls=discord.ui.RoleSelect, placeholder="Moderator role (clear for Manage Messages only)",
                       min_values=0, max_values=1)
    async def role(self, interaction: discord.Interaction[Any], select: discord.ui.RoleSelect[Any]) -> None:
        await self._apply(interaction, "moderator_role", str(select.values[0].id) if select.values else "default")

    @discord.ui.select(cls=discord.ui.ChannelSelect, placeholder="Channels where takes are accepted (clear for all)",
                       min_values=0, max_values=guild_settings.MAX_TAKE_CHANNELS,
                       channel_types=[discord.ChannelType.text, discord.ChannelType.news,
                                      discord.ChannelType.forum, discord.ChannelType.voice])
    async def channels(self, interaction: discord.Interaction[Any], select: discord.ui.ChannelSelect[Any]) -> None:
        await self._apply(interaction, "channels", " ".join(str(c.id) for c in select.values) or "all")

    @discord.ui.button(label="Anonymous lists", style=discord.ButtonStyle.secondary)
    async def anonymous(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        await self._apply(interaction, "anonymous", "off" if self.anonymous_now else "on")

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, item: Any, /) -> None:
        await handle_interaction_error(interaction, error, where="settings view")

    async def on_timeout(self) -> None:
        for item in self.children:
            item.disabled = True  # type: ignore[attr-defined]
        if self.message is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=self)


def channel_permissions(ctx: Context) -> discord.Permissions:
    """What the bot may do with ordinary channel messages here. (``ctx.bot_permissions`` grants
    Embed Links on slash because interaction responses may always embed; a pinned summary is a
    channel message, so it needs the real permission.)"""
    if ctx.interaction is not None:
        return ctx.interaction.app_permissions
    assert ctx.guild is not None
    return ctx.channel.permissions_for(ctx.guild.me)


def channel_label(channel: object) -> str:
    name = getattr(channel, "name", None)
    return f"#{name}" if name else "this channel"


class Moderation(SubcommandCog):
    """Pin, unpin, export, settings, audit."""

    def register(self, group: ArticleGroup) -> None:
        article = group.article

        @moderator_only()
        async def pin(ctx: Context) -> None:
            assert ctx.guild is not None
            if ctx.interaction is not None:
                await ctx.defer(ephemeral=True)
            async with ctx.bot.lock("pin", ctx.channel.id, article.command):  # one summary, however many ask
                outcome = await pin_summary(ctx.bot, ctx.channel, article, permissions=channel_permissions(ctx))
            await audit(ctx, "pin", f"{article.command} in {channel_label(ctx.channel)}: {outcome.result}")
            await ctx.reply_private(PIN_MESSAGES[outcome.result].format(title=article.title,
                                                                        link=outcome.message.jump_url))

        @moderator_only()
        async def unpin(ctx: Context) -> None:
            assert ctx.guild is not None
            async with ctx.bot.lock("pin", ctx.channel.id, article.command):
                existed = await unpin_summary(ctx.bot, ctx.channel, article, permissions=channel_permissions(ctx))
            await audit(ctx, "unpin", f"{article.command} in {channel_label(ctx.channel)}")
            await ctx.reply_private(f"Removed the pinned summary of *{article.title}* from this channel."
                                    if existed else
                                    "The pinned summary had already been deleted; I've forgotten it too.")

        @app_commands.describe(since="First day to include: 2026-11-01, today, or 30d (days ago)",
                               until="Last day to include (UTC), same forms")
        @moderator_only()
        async def export(ctx: Context, since: str | None = None, until: str | None = None) -> None:
            assert ctx.guild is not None
            low, high, span = parse_range(since, until, today=ctx.bot.now().date())
            if ctx.interaction is not None:
                await ctx.defer(ephemeral=True)
            takes = await ctx.store.export_takes(ctx.guild.id, article.command, since=low, until=high)
            await audit(ctx, "export", f"{article.command}: {rendering.plural(len(takes), 'take')} {span}")
            if not takes:
                await ctx.reply_private(f"There are no takes on *{article.title}* in this server {span}, "
                                        "so there is nothing to export.")
                return
            stem = f"takes-{article.command}-{ctx.guild.id}-{ctx.bot.now().date().isoformat()}"
            messages = pack_export(takes, stem, limit=ctx.guild.filesize_limit)
            members = len({t.author_id for t in takes})
            shape = ("as CSV and JSON" if len(messages) == 1 and len(messages[0]) == 2 else
                     "as CSV and JSON, zipped to fit Discord's upload limit" if len(messages[0]) == 1
                     and len(messages) == 1 else
                     f"as CSV and JSON in {sum(len(m) for m in messages)} zip parts, to fit the upload limit")
            intro = (f"{rendering.plural(len(takes), 'take')} by {rendering.plural(members, 'member')} on "
                     f"*{article.title}* {span}, {shape}. The CSV opens safely in Excel or Sheets.")
            await deliver(ctx, intro, messages, slash_form=f"/{article.command}-mod export")

        @app_commands.describe(name="The setting to change; leave empty to see them all",
                               value="The new value, or `default`")
        @app_commands.choices(name=[app_commands.Choice(name=s.label, value=s.name)
                                    for s in guild_settings.SETTINGS.values()])
        @moderator_only()
        async def settings(ctx: Context, name: str | None = None, *, value: str | None = None) -> None:
            assert ctx.guild is not None
            current = await ctx.store.get_guild_settings(ctx.guild.id)
            prefix = ctx.bot.prefix_for(ctx.guild)
            if name is None:
                view = SettingsView(ctx.author.id, current)
                view.message = await ctx.reply_private(embed=rendering.settings_embed(
                    ctx.guild.name, guild_settings.rows(current, ctx.bot.settings), prefix), view=view)
                return
            setting = guild_settings.find_setting(name)
            if value is None:
                shown = setting.show(getattr(current, setting.field), ctx.bot.settings)
                await ctx.reply_private(f"**{setting.label}**: {shown}\n{setting.about}\nChange it with "
                                        f"`{prefix}{article.command} settings {setting.name} {setting.example}`.")
                return
            change, changed = await apply_setting(ctx.bot, ctx.guild, ctx.author.id, setting.name, value)
            if not changed:
                await ctx.reply_private(f"Nothing to change: {change.describe(ctx.bot.settings)}.")
                return
            await ctx.reply_private(f"Changed **{change.describe(ctx.bot.settings)}**. It applies now.")

        @app_commands.describe(count=f"How many recent entries (1–{AUDIT_MAX})")
        @moderator_only()
        async def audit_log(ctx: Context, count: int = AUDIT_DEFAULT) -> None:
            assert ctx.guild is not None
            if not 1 <= count <= AUDIT_MAX:
                raise UserError(f"Ask for 1 to {AUDIT_MAX} entries.")
            entries = await ctx.store.list_audit(ctx.guild.id, limit=count)
            lines = [f"{discord.utils.format_dt(e.created_at, 'f')} · <@{e.actor_id}> · **{e.action}** — "
                     f"{discord.utils.escape_markdown(e.detail)}" for e in entries]
            await send_pages(ctx, StaticPages(rendering.audit_embeds(lines, ctx.guild.name)), ephemeral=True)

        self.add(group, pin, name="pin", description="Post and pin the summary here, or refresh the pinned one")
        self.add(group, unpin, name="unpin", description="Remove the pinned summary from this channel")
        self.add(group, export, name="export", usage="[since] [until]",
                 description="This server's takes on the article as CSV and JSON files")
        self.add(group, settings, name="settings", usage="[name] [value]",
                 description="Show or change this server's settings (moderator role, limits, channels…)")
        self.add(group, audit_log, name="audit", usage="[count]", description="Recent moderator actions here")


def apply_prefix(bot: CommonFactorsBot, guild_id: int, prefix: str | None) -> None:
    """The prefix resolver reads ``bot.guild_prefixes``; a change applies to the next message."""
    if prefix is None:
        bot.guild_prefixes.pop(guild_id, None)
    else:
        bot.guild_prefixes[guild_id] = prefix


async def deliver(ctx: Context, intro: str, messages: list[list[tuple[str, bytes]]], *, slash_form: str) -> None:
    """Exports hold every member's words: ephemeral on slash, a DM on the prefix path."""
    def files(batch: list[tuple[str, bytes]]) -> list[discord.File]:
        return [discord.File(io.BytesIO(data), filename=name) for name, data in batch]

    if ctx.interaction is not None:
        for number, batch in enumerate(messages):
            await ctx.send(intro if number == 0 else None, files=files(batch), ephemeral=True)
        return
    try:
        for number, batch in enumerate(messages):
            await ctx.author.send(intro if number == 0 else None, files=files(batch))
    except discord.Forbidden:
        raise UserError(f"I couldn't send you the export: your DMs are closed to me. Use `{slash_form}` "
                        "for a private copy here, or allow DMs from this server.") from None
    await ctx.reply_private("Sent the export to your DMs (it holds members' words, so not in the channel).")


async def setup(bot: CommonFactorsBot) -> None:
    await bot.add_cog(Moderation(bot))
