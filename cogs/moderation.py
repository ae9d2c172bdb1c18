"""Moderation: the pinned summary, exports, per-guild settings and the audit trail.

Every command here is a :func:`~bot.commands.moderator_command`, so it is registered as
``/<article>-mod <name>`` (hidden by Discord from members without Manage Messages) and as
``!<article> <name>``; the cog's ``cog_check`` guards them all, on both paths.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot import guild_settings
from bot.article import Article
from bot.commands import ArticleCog, moderator_command, require_moderator
from bot.context import Context, GuildContext
from bot.errors import NotAllowed, UserError
from bot.export import PackedFile, pack_stream, parse_range
from bot.permissions import is_moderator
from bot.pins import PinResult
from bot.services import ServiceHost
from bot.storage import GuildSettings
from bot.ui import rendering
from bot.ui.delivery import confirm_command
from bot.ui.files import discord_files
from bot.ui.views import Paginator, StaticPages, TransientView, article_view, send_pages

if TYPE_CHECKING:
    from bot.app import CommonFactorsBot

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


async def audit(ctx: GuildContext, action: str, detail: str) -> None:
    await ctx.audit.record(ctx.guild.id, ctx.author.id, action, detail)


def pinned_message(article: Article) -> tuple[discord.Embed, discord.ui.View]:
    """What a pinned summary shows: the summary card and the article's buttons."""
    return rendering.pinned_embed(article), article_view(article)


class SettingsView(TransientView):
    """The settings card's controls: pick the moderator role and the take channels from Discord's
    own menus, and flip anonymous lists, without typing ids. Only the moderator who opened it,
    while still a moderator, can use it."""

    def __init__(self, owner_id: int, guild: discord.Guild, current: GuildSettings, *, boot: str) -> None:
        super().__init__(boot=boot, timeout=SETTINGS_TIMEOUT)
        self.owner_id = owner_id
        role = guild.get_role(current.moderator_role_id) if current.moderator_role_id else None
        if role is not None:
            self.role.default_values = [role]
        # A deleted channel is not offered as chosen (Discord would reject the whole menu).
        chosen = [c for c in (guild.get_channel_or_thread(i) for i in sorted(current.take_channel_ids)) if c]
        self.channels.default_values = chosen[:guild_settings.MAX_TAKE_CHANNELS]
        self.anonymous.label = f"Anonymous lists: {'on' if current.anonymous_lists else 'off'}"
        self.anonymous.style = discord.ButtonStyle.primary if current.anonymous_lists else discord.ButtonStyle.secondary

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        host = cast(ServiceHost, interaction.client)
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message("These controls belong to the moderator who opened them; "
                                                    "run `settings` yourself.", ephemeral=True)
            return False
        current = await host.services.guild_settings.get(interaction.guild_id or 0)
        if not is_moderator(interaction.user, current.moderator_role_id):
            raise NotAllowed("Only moderators (Manage Messages in this server, or the moderator role) can do that.")
        return True

    async def _apply(self, interaction: discord.Interaction[Any], name: str,
                     value: str | Callable[[GuildSettings], str]) -> None:
        host = cast(ServiceHost, interaction.client)
        service = host.services.guild_settings
        assert interaction.guild is not None
        change, _ = await service.apply(interaction.guild, interaction.user, name, value)
        await redraw_if_anonymous(host, change)
        current = change.after
        view = SettingsView(self.owner_id, interaction.guild, current, boot=host.boot_id)
        self.stop()
        embed = rendering.settings_embed(interaction.guild.name, service.rows(current),
                                         service.prefix_for(interaction.guild.id))
        await interaction.response.edit_message(embed=embed, view=view)
        # This interaction's token can edit the card for 15 more minutes; the first one may have expired.
        view.message = await interaction.original_response()

    @discord.ui.select(cls=discord.ui.RoleSelect, placeholder="Moderator role (clear for Manage Messages only)",
                       min_values=0, max_values=1)
    async def role(self, interaction: discord.Interaction[Any], select: discord.ui.RoleSelect[Any]) -> None:
        await self._apply(interaction, "moderator_role", str(select.values[0].id) if select.values else "default")

    @discord.ui.select(cls=discord.ui.ChannelSelect, placeholder="Channels where takes are accepted (clear for all)",
                       min_values=0, max_values=guild_settings.MAX_TAKE_CHANNELS,
                       channel_types=list(guild_settings.TAKE_CHANNEL_TYPES))
    async def channels(self, interaction: discord.Interaction[Any], select: discord.ui.ChannelSelect[Any]) -> None:
        await self._apply(interaction, "channels", " ".join(str(c.id) for c in select.values) or "all")

    @discord.ui.button(label="Anonymous lists", style=discord.ButtonStyle.secondary)
    async def anonymous(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        # Flip what is stored now, not what this card showed: another moderator may have changed it.
        await self._apply(interaction, "anonymous", lambda current: "off" if current.anonymous_lists else "on")


async def redraw_if_anonymous(host: ServiceHost, change: guild_settings.Change) -> None:
    """Anonymous lists just went on: the bot's posts that quote this server's takes are redrawn
    without names (a member's own list, or one member's, is withdrawn)."""
    if change.after.anonymous_lists and not change.before.anonymous_lists:
        await host.services.quotes.redraw_guild(change.after.guild_id)


def channel_permissions(ctx: GuildContext) -> discord.Permissions:
    """What the bot may do with ordinary channel messages here. (``ctx.bot_permissions`` grants
    Embed Links on slash because interaction responses may always embed; a pinned summary is a
    channel message, so it needs the real permission.)"""
    if ctx.interaction is not None:
        return ctx.interaction.app_permissions
    return ctx.channel.permissions_for(ctx.guild.me)


def channel_label(channel: object) -> str:
    name = getattr(channel, "name", None)
    return f"#{name}" if name else "this channel"


class Moderation(ArticleCog):
    """Pin, unpin, export, settings, audit: every command here is for moderators only."""

    async def cog_check(self, ctx: Context) -> bool:  # type: ignore[override]
        return await require_moderator(ctx)

    @moderator_command(name="pin", description="Post and pin the summary here, or refresh the pinned one",
                       channel_scope=True)
    async def pin(self, ctx: GuildContext) -> None:
        article = ctx.article
        if ctx.interaction is not None:
            await ctx.defer(ephemeral=True)
        outcome = await ctx.summary_pins.pin(ctx.channel, article, permissions=channel_permissions(ctx),
                                             render=pinned_message)
        await audit(ctx, "pin", f"{article.command} in {channel_label(ctx.channel)}: {outcome.result}")
        # Done in Discord: the moderator must hear so even if Discord fails the answer (bot.ui.delivery).
        await confirm_command(ctx, PIN_MESSAGES[outcome.result].format(title=article.title,
                                                                      link=outcome.message.jump_url))

    @moderator_command(name="unpin", description="Remove the pinned summary from this channel", channel_scope=True)
    async def unpin(self, ctx: GuildContext) -> None:
        article = ctx.article
        if ctx.interaction is not None:
            await ctx.defer(ephemeral=True)
        existed = await ctx.summary_pins.unpin(ctx.channel, article, permissions=channel_permissions(ctx))
        await audit(ctx, "unpin", f"{article.command} in {channel_label(ctx.channel)}")
        await confirm_command(ctx, f"Removed the pinned summary of *{article.title}* from this channel."
                              if existed else "The pinned summary had already been deleted; I've forgotten it too.")

    @moderator_command(name="export", usage="[since] [until]",
                       description="This server's takes on the article as CSV and JSON files")
    @app_commands.describe(since="First day to include: 2026-11-01, today, or 30d (days ago)",
                           until="Last day to include (UTC), same forms")
    async def export(self, ctx: GuildContext, since: str | None = None, until: str | None = None) -> None:
        article = ctx.article
        today = self.bot.clock().date()
        low, high, span = parse_range(since, until, today=today)
        if ctx.interaction is not None:
            await ctx.defer(ephemeral=True)
        stem = f"takes-{article.command}-{ctx.guild.id}-{today.isoformat()}"
        # Read in chunks and packed on a thread as they come, into files on disk: no lock held, memory bounded.
        chunks = ctx.takes.export_chunks(ctx.guild.id, article.command, since=low, until=high)
        with await pack_stream(chunks, stem, limit=upload_limit(ctx)) as packed:
            await audit(ctx, "export", f"{article.command}: {rendering.plural(packed.takes, 'take')} {span}")
            if not packed.takes:
                await ctx.reply_private(f"There are no takes on *{article.title}* in this server {span}, "
                                        "so there is nothing to export.")
                return
            intro = rendering.export_intro(article, packed.takes, packed.members, span, packed.messages)
            await deliver(ctx, intro, packed.messages, slash_form=f"/{article.moderator_command} export")

    @moderator_command(name="settings", usage="[name] [value]",
                       description="Show or change this server's settings (moderator role, limits, channels…)")
    @app_commands.describe(name="The setting to change; leave empty to see them all",
                           value="The new value, or `default`")
    @app_commands.choices(name=[app_commands.Choice(name=s.label, value=s.name)
                                for s in guild_settings.SETTINGS.values()])
    async def settings(self, ctx: GuildContext, name: str | None = None, *, value: str | None = None) -> None:
        service = ctx.guild_settings
        current = await service.get(ctx.guild.id)
        prefix = self.bot.prefix_for(ctx.guild)
        if name is None:
            view = SettingsView(ctx.author.id, ctx.guild, current, boot=self.bot.boot_id)
            view.message = await ctx.reply_private(embed=rendering.settings_embed(
                ctx.guild.name, service.rows(current), prefix), view=view)
            return
        setting = guild_settings.find_setting(name)
        if value is None:
            await ctx.reply_private(f"**{setting.label}**: {service.show(setting, current)}\n{setting.about}\n"
                                    f"Change it with `{prefix}{ctx.article.command} settings {setting.name} "
                                    f"{setting.example}`.")
            return
        change, changed = await service.apply(ctx.guild, ctx.author, setting.name, value)
        await redraw_if_anonymous(self.bot, change)
        if not changed:
            await ctx.reply_private(f"Nothing to change: {change.describe(service.defaults)}.")
            return
        await confirm_command(ctx, f"Changed **{change.describe(service.defaults)}**. It applies now.")

    @moderator_command(name="audit", usage="[count]", description="Recent moderator actions here")
    @app_commands.describe(count=f"How many recent entries (1–{AUDIT_MAX})")
    async def audit_log(self, ctx: GuildContext, count: int = AUDIT_DEFAULT) -> None:
        if not 1 <= count <= AUDIT_MAX:
            raise UserError(f"Ask for 1 to {AUDIT_MAX} entries.")
        entries = await ctx.audit.recent(ctx.guild.id, limit=count)
        pages = StaticPages(rendering.audit_embeds(entries, ctx.guild.name))
        if ctx.interaction is not None:
            await send_pages(ctx, pages, ephemeral=True)
            return
        # Who did what is for moderators: on the prefix path it goes by DM, like exports.
        await send_to_dm(ctx, pages, slash_form=f"/{ctx.article.moderator_command} audit", what="audit log")

    # -- what Discord deletes, the settings forget ----------------------------------------------
    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.bot.services.guild_settings.forget_channel(
            channel.guild.id, channel.id, getattr(channel, "name", None), articles=self.bot.articles,
            actor_id=self._own_id())

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        await self.bot.services.guild_settings.forget_channel(payload.guild_id, payload.thread_id, None,
                                                              articles=self.bot.articles, actor_id=self._own_id())

    @commands.Cog.listener()
    async def on_guild_role_delete(self, role: discord.Role) -> None:
        await self.bot.services.guild_settings.forget_role(role.guild.id, role.id, role.name, actor_id=self._own_id())

    def _own_id(self) -> int:
        """Changes the bot makes itself are audited under its own id."""
        return self.bot.user.id if self.bot.user else 0


def upload_limit(ctx: GuildContext) -> int:
    """Slash answers carry what the interaction allows; a DM carries the default, whatever the boost."""
    if ctx.interaction is not None:
        return ctx.interaction.filesize_limit
    return discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES


def dms_closed(what: str, slash_form: str) -> UserError:
    return UserError(f"I couldn't send you the {what}: your DMs are closed to me. Use `{slash_form}` "
                     "for a private copy here, or allow DMs from this server.")


async def deliver(ctx: GuildContext, intro: str, messages: list[list[PackedFile]], *, slash_form: str) -> None:
    """Exports hold every member's words: ephemeral on slash, a DM on the prefix path."""
    sent = 0
    try:
        for number, batch in enumerate(messages):
            if ctx.interaction is not None:
                await ctx.send(intro if number == 0 else None, files=discord_files(batch), ephemeral=True)
            else:
                await ctx.author.send(intro if number == 0 else None, files=discord_files(batch))
            sent += 1
    except discord.Forbidden:
        raise dms_closed("export", slash_form) from None
    except discord.HTTPException as exc:
        log.warning("export delivery failed after %d of %d message(s): %s", sent, len(messages), exc)
        done = f" ({sent} of {len(messages)} parts arrived)" if sent else ""
        raise UserError(f"Discord refused the export's files{done}. Try a shorter range with `since` and "
                        "`until`.") from exc
    if ctx.interaction is None:
        await ctx.reply_private("Sent the export to your DMs (it holds members' words, so not in the channel).")


async def send_to_dm(ctx: GuildContext, pages: StaticPages, *, slash_form: str, what: str) -> None:
    first = await pages.page(0)
    assert first is not None
    view = Paginator(pages, owner_id=ctx.author.id, boot=ctx.bot.boot_id) if (pages.page_count or 1) > 1 else None
    try:
        message = await ctx.author.send(embed=first, view=view) if view else await ctx.author.send(embed=first)
    except discord.Forbidden:
        raise dms_closed(what, slash_form) from None
    if view is not None:
        view.message = message
    await ctx.reply_private(f"Sent the {what} to your DMs.")


async def setup(bot: CommonFactorsBot) -> None:
    await bot.add_cog(Moderation(bot))
