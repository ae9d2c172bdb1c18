"""Takes: members' responses to the article, added four ways, listed, edited and deleted."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import Counter
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.commands import ArticleCog, article_command, guild_only, unread_words
from bot.context import Context, GuildContext
from bot.errors import NotAllowed, TooSoon, UserError, report_unexpected
from bot.export import pack_stream
from bot.lifecycle import listens_when
from bot.quotes import SHOW
from bot.services import ServiceHost
from bot.storage import DatabaseUnreachable, StorageError
from bot.takes import NameVisibility, saved_message
from bot.ui import rendering
from bot.ui.agree import agree_view
from bot.ui.delivery import confirm_command, confirm_reply_take, tell_reply_author
from bot.ui.files import discord_files
from bot.ui.quote_redraw import redraw_quoting_message
from bot.ui.reporting import handle_interaction_error, unexpected_answer
from bot.ui.take_form import TakeModal, article_of_message, handle_take_form, submitted_value, with_draft
from bot.ui.take_pager import ListKind, TakeList, handle_jump_form
from bot.ui.views import TransientView

if TYPE_CHECKING:
    from bot.app import CommonFactorsBot

log = logging.getLogger("bot.takes")
UNKNOWN_FORM = "This form is out of date or was altered, so nothing was done. Run the command again."

CONFIRM_TIMEOUT = 60.0
DOWNLOAD_TIMEOUT = 300.0
RETENTION_INTERVAL = dt.timedelta(hours=1)
#: Queued messages redrawn per batch, and batches per round (see bot.quotes).
REDRAW_BATCH = 25
REDRAW_ROUNDS = 20
#: When Discord could not be reached, the queue is tried again this much later.
REDRAW_RETRY_SECONDS = 30
#: Within this long after answering a "too soon" refusal, further ones get only a reaction.
BURST_WINDOW = dt.timedelta(seconds=30)
BURST_REACTION = "⏳"
#: Remembered members before forgetting the ones whose window has passed.
BURST_MEMORY = 10_000


class DownloadView(TransientView):
    """The member's own takes in this server (or, from a DM, everywhere), as CSV and JSON, sent
    only to them."""

    def __init__(self, owner_id: int, guild_id: int | None, *, boot: str) -> None:
        super().__init__(boot=boot, timeout=DOWNLOAD_TIMEOUT)
        self.owner_id = owner_id
        self.guild_id = guild_id

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message("This button downloads the takes of the member who asked; "
                                                "run `mytakes` yourself for yours.", ephemeral=True)
        return False

    @discord.ui.button(label="Download my takes", emoji="⬇️", style=discord.ButtonStyle.primary)
    async def download(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        host = cast(ServiceHost, interaction.client)
        chunks = host.services.takes.member_chunks(self.owner_id, guild_id=self.guild_id)
        where = "in this server" if self.guild_id is not None else "anywhere"
        stem = f"my-takes-{self.guild_id or 'everywhere'}"
        with await pack_stream(chunks, stem, limit=interaction.filesize_limit) as packed:
            if not packed.takes:
                await interaction.response.send_message(f"You have no takes {where}.", ephemeral=True)
                return
            for number, batch in enumerate(packed.messages):
                files = discord_files(batch)
                if number == 0:
                    await interaction.response.send_message(
                        f"Your {packed.takes} take(s) {where}, as CSV and JSON.", files=files, ephemeral=True)
                else:
                    await interaction.followup.send(files=files, ephemeral=True)



class ForgetMeView(TransientView):
    def __init__(self, owner_id: int, *, show_count: bool, boot: str) -> None:
        super().__init__(boot=boot, timeout=CONFIRM_TIMEOUT)
        self.owner_id = owner_id
        self.show_count = show_count

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message("Only the member who asked can confirm this.", ephemeral=True)
        return False

    @discord.ui.button(label="Delete all my takes", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        host = cast(ServiceHost, interaction.client)
        self.stop()
        count = await host.services.takes.forget_member(self.owner_id)
        host.services.quotes.wake()  # the bot's own posts that quote them go too
        what = f"{count} take(s) of yours" if self.show_count else "all of your takes"
        await interaction.response.edit_message(content=f"Done: deleted {what} from every server.", view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        self.stop()
        await interaction.response.edit_message(content="Cancelled: nothing was deleted.", view=None)

    async def on_timeout(self) -> None:
        if self.message is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(content="No answer, so nothing was deleted.", view=None)


async def my_takes_everywhere(ctx: Context) -> None:
    """In a DM, ``mytakes`` covers every server, including ones the member (or the bot) has left."""
    takes = await ctx.takes.of_member(ctx.author.id)
    if not takes:
        await ctx.send("You have no takes in any server.")
        return
    counts = Counter(take.guild_id for take in takes)
    servers = [(guild.name if (guild := ctx.bot.get_guild(gid)) else None, gid, n) for gid, n in counts.most_common()]
    view = DownloadView(ctx.author.id, None, boot=ctx.bot.boot_id)
    view.message = await ctx.send(rendering.takes_everywhere(len(takes), servers), view=view)


async def send_listing(target: Any, embed: discord.Embed, pager: discord.ui.View | None, **kwargs: Any) -> Any:
    """Send a page of a list through ``target.send`` (a context or a member), with its pager if it has more."""
    if pager is None:
        return await target.send(embed=embed, **kwargs)
    return await target.send(embed=embed, view=pager, **kwargs)


async def my_takes_by_dm(ctx: Context, listing: TakeList, view: DownloadView) -> None:
    """``mytakes`` on the prefix path in an anonymous server: the list and its download by DM, and
    in the channel only a note that names no take."""
    drawn = await listing.draw(ctx.bot, ctx.guild, ctx.author, 0, private=True)
    try:
        sent = await send_listing(ctx.author, drawn.embed, drawn.view)
        await listing.remember(ctx.bot, sent, drawn)  # a DM is a channel too: erasure reaches it
        view.message = await ctx.author.send("Download every take of yours in this server:", view=view)
    except discord.HTTPException:
        await ctx.reply_private(f"Takes are anonymous here, so I send your list by DM, but I couldn't DM you. Use "
                                f"`/{ctx.article.command} mytakes` (only you see the answer), or open your DMs.")
        return
    await ctx.reply_private("Takes are anonymous here, so I sent your list to you by DM.")


async def answer_unknown_form(interaction: discord.Interaction[Any]) -> None:
    """A form whose id is ours by its form but that no form of this bot makes (altered, or from an
    older version): one private line, and any words written in it handed back."""
    data: Any = interaction.data or {}
    if not str(data.get("custom_id", "")).startswith("cf:"):
        return
    text = submitted_value(data.get("components"))
    answer = with_draft(UNKNOWN_FORM, text) if text else {"content": UNKNOWN_FORM}
    await interaction.response.send_message(**answer, ephemeral=True)


async def visibility(ctx: GuildContext) -> NameVisibility:
    return await ctx.takes.visibility(ctx.guild.id, ctx.author, can_be_private=ctx.interaction is not None)


class BurstGuard:
    """A member who sends many takes at once (a paste loop, a stuck key, a script) gets the first
    "too soon" refusal as an answer and a quiet ⏳ reaction on the rest, instead of a channel full
    of refusals. One answer per member and server per :data:`BURST_WINDOW`."""

    def __init__(self) -> None:
        self._answered: dict[tuple[int, int], dt.datetime] = {}

    def first(self, guild_id: int, member_id: int, now: dt.datetime) -> bool:
        """Whether this refusal should be answered (and, if so, remember that it was)."""
        key = (guild_id, member_id)
        last = self._answered.get(key)
        if last is not None and now - last < BURST_WINDOW:
            return False
        if len(self._answered) > BURST_MEMORY:
            self._answered = {k: t for k, t in self._answered.items() if now - t < BURST_WINDOW}
        self._answered[key] = now
        return True


async def quiet_reaction(message: discord.Message) -> None:
    """⏳ on a take refused in a burst: it was not saved, and the first refusal said why."""
    with contextlib.suppress(discord.HTTPException):
        await message.add_reaction(BURST_REACTION)


class Takes(ArticleCog):
    """Members' takes: add, list, show, edit, delete, stats, their own data."""

    def __init__(self, bot: CommonFactorsBot) -> None:
        super().__init__(bot)
        self.bursts = BurstGuard()
        self.redraw_lock = asyncio.Lock()
        self.redraw_tasks: set[asyncio.Task[None]] = set()

    @article_command(name="take", usage="<text>", description="Add your take on the article")
    @app_commands.describe(text="Your take; leave empty to write it in a form")
    @guild_only()
    async def take(self, ctx: GuildContext, *, text: str | None = None) -> None:
        article = ctx.article
        if text is None:
            if ctx.interaction is None:
                raise UserError(f"Write your take after the command: `{ctx.clean_prefix}{article.command} take "
                                "<your text>`, or use the Add your take button.")
            rules = await ctx.takes.rules_for(ctx.guild.id)
            await ctx.interaction.response.send_modal(TakeModal(article, max_length=rules.max_length, source="modal"))
            return
        ctx.draft = text  # a slash command's words exist nowhere else: any refusal hands them back
        try:
            saved = await ctx.takes.submit(guild_id=ctx.guild.id, channel=ctx.channel, article=article,
                                           author=ctx.author, content=text, source="command",
                                           message_url=None if ctx.interaction else ctx.message.jump_url)
        except TooSoon:
            if ctx.interaction is None and not self.bursts.first(ctx.guild.id, ctx.author.id, self.bot.clock()):
                await quiet_reaction(ctx.message)
                return
            raise
        await confirm_command(ctx, saved_message(saved, article, ctx.invoked_prefix))

    @article_command(name="takes", usage="[member] [top]", description="The takes so far, newest first")
    @app_commands.describe(member="Only this member's takes", sort="`top`: the most agreed first")
    @app_commands.choices(sort=[app_commands.Choice(name="newest first", value="new"),
                                app_commands.Choice(name="most agreed first", value="top")])
    @guild_only()
    async def takes(self, ctx: GuildContext, member: discord.User | None = None, sort: str = "new") -> None:
        article = ctx.article
        leftover = " ".join(unread_words(ctx))
        if sort not in ("new", "top"):
            if member is not None:
                raise UserError("Sort by `new` (newest first) or `top` (most agreed first).")
            # On the prefix path a word that is no member lands here: it was meant as one.
            leftover, sort = f"{sort} {leftover}".strip(), "new"
        if member is None and leftover:
            # An unresolvable member is skipped, not refused; listing everyone instead would mislead.
            shown = leftover[:40].replace("`", "'")
            raise UserError(f"I could not find a member `{shown}` here. Mention them or use their id.")
        seen = await visibility(ctx)
        if member is not None and not seen.show_names:
            # Even one's own list, posted here, would say who wrote those takes.
            raise NotAllowed("Takes are anonymous in this server, so lists here never name anyone; `mytakes` "
                             f"lists your own privately (moderators: `/{article.command} takes` answers privately).")
        kind: ListKind = "member" if member else "top" if sort == "top" else "all"
        listing = TakeList(article.command, kind, ctx.author.id, member.id if member else 0)
        drawn = await listing.draw(self.bot, ctx.guild, ctx.author, 0, private=seen.private)
        sent = await send_listing(ctx, drawn.embed, drawn.view, ephemeral=seen.private)
        if not seen.private and drawn.take_ids:  # a new message that quotes no take: nothing to remember
            await listing.remember(self.bot, sent, drawn)

    @article_command(name="show", usage="<id>", description="One take in full")
    @app_commands.describe(take_id="The take's number, as shown in lists")
    @guild_only()
    async def show(self, ctx: GuildContext, take_id: int) -> None:
        found = await ctx.takes.find(ctx.guild.id, take_id)
        seen = await visibility(ctx)
        # Members see their own name on their own take only where no one else does (slash).
        own = found.author_id == ctx.author.id and ctx.interaction is not None
        private = seen.private or (own and not seen.show_names)
        agreed = (await ctx.meetings.agreement_counts(ctx.guild.id, [found.id])).get(found.id, 0)
        card = await ctx.send(embed=rendering.take_embed(found, self.bot.articles.get(found.article, ctx.article),
                                                         show_name=own or seen.show_names, agreed=agreed),
                              view=agree_view(found.id), ephemeral=private)
        if not private:  # a card in the channel: deleting or editing the take must reach it
            await ctx.quotes.remember(card, [found.id], SHOW)

    @article_command(name="edit", usage="<id> <text>", description="Change the text of your take")
    @app_commands.describe(take_id="The take's number", text="The new text; leave empty to edit in a form")
    @guild_only()
    async def edit(self, ctx: GuildContext, take_id: int, *, text: str | None = None) -> None:
        article = ctx.article
        if text is None:
            if ctx.interaction is None:
                raise UserError(f"Write the new text after the id: `{ctx.clean_prefix}{article.command} edit "
                                f"{take_id} <new text>`.")
            current = await ctx.takes.find_own(ctx.guild.id, ctx.author, take_id)
            rules = await ctx.takes.rules_for(ctx.guild.id)
            # If moderators lowered the limit since, the form still holds the text; saving says how much to cut.
            await ctx.interaction.response.send_modal(TakeModal(
                self.bot.articles.get(current.article, article),
                max_length=max(rules.max_length, len(current.content)), source=current.source, editing=current,
                signer=self.bot.services.signer))
            return
        edited = await ctx.takes.edit(guild_id=ctx.guild.id, member=ctx.author, take_id=take_id, content=text)
        ctx.quotes.wake()  # cards and lists that show it are redrawn
        await confirm_command(ctx, f"Updated take **#{edited.id}**.")

    @article_command(name="delete", usage="<id>", description="Delete your take (moderators: any take in this server)")
    @app_commands.describe(take_id="The take's number")
    @guild_only()
    async def delete(self, ctx: GuildContext, take_id: int) -> None:
        deleted = await ctx.takes.delete(guild_id=ctx.guild.id, member=ctx.author, take_id=take_id,
                                         channel_of=self.bot.get_channel)
        ctx.quotes.wake()  # cards and lists that show it are redrawn or deleted
        whose = "your" if deleted.author_id == ctx.author.id else "the"
        await ctx.reply_private(f"Deleted {whose} take **#{deleted.id}**.")

    @article_command(name="stats", description="How many takes and members, and the last 30 days")
    @guild_only()
    async def stats(self, ctx: GuildContext) -> None:
        result = await ctx.takes.stats(ctx.guild.id, ctx.article.command, days=30)
        await ctx.send(embed=rendering.stats_embed(ctx.article, result))

    @article_command(name="mytakes", description="Your own takes here, with a download")
    async def mytakes(self, ctx: Context) -> None:
        article = ctx.article
        if ctx.guild is None:
            await my_takes_everywhere(ctx)
            return
        total = await ctx.takes.count(ctx.guild.id, article.command, author_id=ctx.author.id)
        if total == 0:
            await ctx.reply_private(f"You have no takes on *{article.title}* in this server yet. "
                                    f"Add one with `{article.command} take`.")
            return
        listing = TakeList(article.command, "mine", ctx.author.id, ctx.guild.id)
        view = DownloadView(ctx.author.id, ctx.guild.id, boot=self.bot.boot_id)
        if ctx.interaction is None and await ctx.takes.anonymous(ctx.guild.id):
            # A list of "your takes" posted in the channel would name their author: it goes by DM.
            await my_takes_by_dm(ctx, listing, view)
            return
        drawn = await listing.draw(self.bot, ctx.guild, ctx.author, 0, private=ctx.interaction is not None)
        sent = await send_listing(ctx, drawn.embed, drawn.view, ephemeral=True)
        if ctx.interaction is None:  # in the channel (slash answers are only the member's)
            await listing.remember(self.bot, sent, drawn)
        view.message = await ctx.send("Download every take of yours in this server:", view=view, ephemeral=True)

    @article_command(name="privacy", description="What is stored about you, why, and how to delete it")
    async def privacy(self, ctx: Context) -> None:
        await ctx.reply_private(embed=rendering.privacy_embed(
            ctx.article, retention_days=self.bot.settings.takes_retention_days, prefix=self.bot.prefix_for(ctx.guild)))

    @article_command(name="forgetme", description="Delete all of your takes in every server")
    async def forgetme(self, ctx: Context) -> None:
        count = len(await ctx.takes.of_member(ctx.author.id))
        if count == 0:
            await ctx.reply_private("There is nothing to delete: you have no takes in any server.")
            return
        # How many takes a member has elsewhere is theirs to know, not this channel's.
        private = ctx.interaction is not None or ctx.guild is None
        view = ForgetMeView(ctx.author.id, show_count=private, boot=self.bot.boot_id)
        how_many = f"all {count} of your takes" if private else "all of your takes"
        view.message = await ctx.reply_private(
            f"This deletes {how_many}, in every server, for every article. "
            "It cannot be undone. Go ahead?", view=view)

    # -- take forms: answered from their custom id, whenever they were opened ----------------
    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        try:
            if not await handle_take_form(interaction) and not await handle_jump_form(interaction):
                await answer_unknown_form(interaction)
        except Exception as error:
            await handle_interaction_error(interaction, error, where="take form")

    # -- replies to the bot's summary are takes ---------------------------------------------
    def may_be_reply_take(self, message: discord.Message) -> bool:
        """A member's reply in a server, read with the message content intent: perhaps a take."""
        return not (message.guild is None or message.author.bot or message.reference is None
                    or message.reference.message_id is None or not self.bot.settings.message_content_intent)

    @commands.Cog.listener()
    @listens_when(may_be_reply_take)
    async def on_message(self, message: discord.Message) -> None:
        assert message.guild is not None and message.reference is not None
        assert message.reference.message_id is not None
        referenced = message.reference.resolved
        if not isinstance(referenced, discord.Message):
            try:
                referenced = await message.channel.fetch_message(message.reference.message_id)
            except discord.HTTPException:
                return
        if self.bot.user is None or referenced.author.id != self.bot.user.id:
            return
        article = article_of_message(self.bot.articles, referenced)
        if article is None:
            return
        ctx = await self.bot.get_context(message)
        if ctx.valid:
            return  # a command sent as a reply is a command, not a take
        try:
            saved = await self.bot.services.takes.submit(
                guild_id=message.guild.id, channel=message.channel, article=article, author=message.author,
                content=message.content, source="reply", message_url=message.jump_url)
        except UserError as error:
            if isinstance(error, TooSoon) and not self.bursts.first(message.guild.id, message.author.id,
                                                                    self.bot.clock()):
                await quiet_reaction(message)
                return
            await tell_reply_author(message, str(error))  # "not saved" must reach them, by DM if need be
            return
        except Exception as error:  # a reply is a take: its author hears what happened, with an id
            answer = unexpected_answer(error, where="reply take", context={
                "guild": message.guild.id, "channel": message.channel.id, "user": message.author.id})
            await tell_reply_author(message, answer)
            return
        await confirm_reply_take(message, f"Saved your reply as take **#{saved.id}**.")

    # -- retention ----------------------------------------------------------------------------
    async def cog_load(self) -> None:
        await super().cog_load()
        if self.bot.settings.takes_retention_days:
            self.retention.start()
        self.bot.services.quotes.on_wake = self.redraw_soon
        self.redraw_soon()  # whatever was queued before a restart

    async def cog_unload(self) -> None:
        self.retention.cancel()
        self.bot.services.quotes.on_wake = None
        for task in self.redraw_tasks:
            task.cancel()
        await super().cog_unload()

    async def purge_expired(self) -> int:
        removed = await self.bot.services.takes.purge_expired(self.bot.settings.takes_retention_days)
        if removed:
            self.bot.services.quotes.wake()
        return removed

    @tasks.loop(seconds=RETENTION_INTERVAL.total_seconds())
    async def retention(self) -> None:
        try:
            await self.purge_expired()
        except DatabaseUnreachable:
            return  # an outage, logged once by the store; the next run catches up
        except StorageError:
            log.exception("retention purge failed; will try again in an hour")


    # -- the bot's own posts that quote takes (bot.quotes) -----------------------------------
    async def redraw_pending(self) -> int:
        """Redraw (or delete) the queued messages, a batch at a time; how many must be tried
        again later (Discord could not be reached). One round at a time: a wake waits for it."""
        retry = 0
        async with self.redraw_lock:
            for _ in range(REDRAW_ROUNDS):
                batch = await self.bot.services.quotes.due(limit=REDRAW_BATCH)
                outcomes = [await redraw_quoting_message(self.bot, redraw) for redraw in batch]
                retry = sum(outcomes)
                if len(batch) < REDRAW_BATCH or retry == len(batch):
                    break
        return retry

    async def _redraw_round(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        await self.bot.wait_until_ready()
        try:
            retry = await self.redraw_pending()
        except StorageError as exc:
            log.error("could not read the messages to redraw (%s); trying again in %d s", exc, REDRAW_RETRY_SECONDS)
            retry = 1
        except Exception as exc:  # one bad message must not stop the others
            report_unexpected(exc, where="quote redraws", context={})
            retry = 1
        if retry and not self.bot.is_closed():
            self.redraw_soon(REDRAW_RETRY_SECONDS)

    def redraw_soon(self, delay: float = 0) -> None:
        """Redraw the queued messages now (takes were just deleted or edited: after the answer), or
        after ``delay``. Also once at start, for what was queued before a restart. Nothing polls:
        the process that deletes a take is the one that queued its messages."""
        task = asyncio.get_running_loop().create_task(self._redraw_round(delay))
        self.redraw_tasks.add(task)
        task.add_done_callback(self.redraw_tasks.discard)


async def setup(bot: CommonFactorsBot) -> None:
    await bot.add_cog(Takes(bot))
