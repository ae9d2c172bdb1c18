"""Meetings: the journal club's discussion itself, scheduled, threaded and summed up.

Moderators schedule, start, advance and end meetings (``/<article>-mod meeting-schedule`` …, and
``!<article> meeting schedule …`` on the prefix path); members ask ``meeting`` when the next one
is. The rules (times, one meeting per channel, what is due) are :class:`bot.meetings.MeetingService`;
this cog does the Discord side: the scheduled event, the announcement and reminders, the thread
and its questions, the digest, and the export sent to the moderator.

The due work runs on an alarm (:class:`bot.alarm.Alarm`) set for the earliest ``next_due_at`` in
the store (at most an hour ahead), so meetings start and end at their times with the bot running
or after a restart; between rounds nothing but a timer is alive.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import re
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.alarm import Alarm
from bot.article import Article
from bot.commands import ArticleCog, article_command, guild_only, moderator_command, require_moderator, unread_words
from bot.context import Context, GuildContext
from bot.errors import BotMissingPermission, NotAllowed, UserError
from bot.export import answers_to_csv, answers_to_json
from bot.lifecycle import listens_when
from bot.meetings import Digest, Due, MeetingRefused, question_text
from bot.permissions import is_moderator
from bot.quotes import digest_kind
from bot.services import ServiceHost
from bot.storage import DatabaseUnreachable, Meeting, PendingPoll, StorageError
from bot.ui import meeting_render as render
from bot.ui.base import ReportingItem
from bot.ui.delivery import confirm_command, tell_reply_author
from bot.ui.reporting import unexpected_answer
from bot.ui.take_form import article_of_message, open_take_modal

if TYPE_CHECKING:
    from bot.app import CommonFactorsBot

log = logging.getLogger("bot.meetings")

#: The alarm is never set further ahead than this (a meeting scheduled meanwhile wakes it sooner).
LOOP_MAX = dt.timedelta(hours=1)
LOOP_MIN = dt.timedelta(seconds=1)
#: How soon the alarm looks again when the database could not tell it what is next (or a round failed).
LOOP_RETRY = dt.timedelta(seconds=30)
MODERATOR_ACTIONS = ("schedule", "cancel", "start", "next", "end")
AGREE = "👍"
MAX_POLL_HOURS = 168
_DURATION_TAIL = re.compile(r"^(?P<when>.+?)\s+for\s+(?P<duration>\S+(?:\s*\S+)?)$", re.IGNORECASE)
NO_EVENTS = ("I couldn't create a Discord event for it: I'm missing **Manage Events**. The meeting runs all the "
             "same; grant it to my role to have the event too.")


def split_duration(text: str) -> tuple[str, str | None]:
    """``tomorrow 19:00 for 90m`` → (``tomorrow 19:00``, ``90m``)."""
    match = _DURATION_TAIL.match(text.strip())
    return (match["when"], match["duration"]) if match else (text, None)


def not_in_thread(ctx: GuildContext) -> None:
    if isinstance(ctx.channel, discord.Thread) or not isinstance(ctx.channel, discord.TextChannel):
        raise MeetingRefused("Meetings are held in a text channel (their discussion gets its own thread); "
                             "run this in the channel itself.")


def can_manage_events(guild: discord.Guild) -> bool:
    return guild.me is not None and guild.me.guild_permissions.manage_events


def thread_permissions_missing(channel: Any, guild: discord.Guild) -> str | None:
    permissions = channel.permissions_for(guild.me)
    if not permissions.create_public_threads:
        return "Create Public Threads"
    if not permissions.send_messages_in_threads:
        return "Send Messages in Threads"
    return None


class NextQuestionButton(ReportingItem[discord.ui.Button[Any]], template=r"cfm:next:(?P<meeting>[0-9]{1,19})"):
    """[Next question] under a meeting's question: moderators only, decided from the click."""

    def __init__(self, meeting_id: int) -> None:
        super().__init__(discord.ui.Button(label="Next question", emoji="⏭️", style=discord.ButtonStyle.primary,
                                           custom_id=f"cfm:next:{meeting_id}"))
        self.meeting_id = meeting_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> NextQuestionButton:
        return cls(int(match["meeting"]))

    async def act(self, interaction: discord.Interaction[Any]) -> None:
        host = cast(ServiceHost, interaction.client)
        if interaction.guild is None:
            raise NotAllowed("Meetings happen in a server.")
        settings = await host.services.guild_settings.get(interaction.guild.id)
        if not is_moderator(interaction.user, settings.moderator_role_id):
            raise NotAllowed("Only moderators move the meeting on to the next question.")
        meeting = await host.services.meetings.get(interaction.guild.id, self.meeting_id)
        cog = interaction.client.get_cog("Meetings")
        if not isinstance(cog, Meetings):
            raise UserError("Meetings are not available right now.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        number = await cog.next_question(meeting)
        await interaction.followup.send(f"Posted question {number}.", ephemeral=True)


class MeetingTakeButton(ReportingItem[discord.ui.Button[Any]],
                        template=r"cfm:take:(?P<article>[a-z0-9_-]{1,32})"):
    """[Add your take] in a meeting's thread: the take form, saved with the question on the table."""

    def __init__(self, article: str) -> None:
        super().__init__(discord.ui.Button(label="Add your take", emoji="✍️", style=discord.ButtonStyle.success,
                                           custom_id=f"cfm:take:{article}"))
        self.article = article

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> MeetingTakeButton:
        return cls(match["article"])

    async def act(self, interaction: discord.Interaction[Any]) -> None:
        host = cast(ServiceHost, interaction.client)
        article = host.articles.get(self.article)
        if article is None:
            raise UserError("This article is no longer available on this bot.")
        await open_take_modal(interaction, article, source="button")


def question_view(meeting: Meeting, article: Article) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(MeetingTakeButton(article.command))
    if meeting.question < len(article.discussion_questions):
        view.add_item(NextQuestionButton(meeting.id))
    return view


class Meetings(ArticleCog):
    """Journal-club meetings: schedule, start, questions, end and digest; members' ``meeting``."""

    def __init__(self, bot: CommonFactorsBot) -> None:
        super().__init__(bot)
        #: Polls posted while the database could not note them: answered from memory if still running.
        self._polls_unrecorded: set[int] = set()
        #: Starts and ends meetings, posts reminders and answers closed polls, each at its moment.
        self.due_work = Alarm(self._due_round, name="meetings due work", retry=LOOP_RETRY.total_seconds())

    async def cog_load(self) -> None:
        await super().cog_load()
        self.bot.add_dynamic_items(NextQuestionButton, MeetingTakeButton)
        self.due_work.start()

    async def cog_unload(self) -> None:
        self.due_work.cancel()
        self.bot.remove_dynamic_items(NextQuestionButton, MeetingTakeButton)
        await super().cog_unload()

    async def cog_check(self, ctx: Context) -> bool:  # type: ignore[override]
        command = ctx.command
        if command is not None and command.extras.get("moderator"):
            return await require_moderator(ctx)
        return True

    # -- members ----------------------------------------------------------------------------
    @article_command(name="meeting", description="The next or current journal-club meeting, and its thread")
    @guild_only()
    async def meeting(self, ctx: GuildContext) -> None:
        words = unread_words(ctx)
        if words and words[0].lower() in MODERATOR_ACTIONS:
            # `!<article> meeting schedule …`: the prefix form of the moderator commands.
            await require_moderator(ctx)
            await self._moderator_action(ctx, words[0].lower(), " ".join(words[1:]))
            return
        if words:
            raise UserError(f"`meeting` alone shows the next meeting; moderators use `meeting "
                            f"{'|'.join(MODERATOR_ACTIONS)}`.")
        article = ctx.article
        channel_id = getattr(ctx.channel, "parent_id", None) or ctx.channel.id
        here = await ctx.meetings.active(ctx.guild.id, channel_id, article.command)
        found = here or next(iter(await ctx.meetings.upcoming(ctx.guild.id, article.command)), None)
        if found is None:
            await ctx.reply_private(f"No journal club on *{article.title}* is scheduled here yet.")
            return
        thread_url = None
        if found.thread_id is not None:
            thread_url = f"https://discord.com/channels/{found.guild_id}/{found.thread_id}"
        await ctx.reply_private(render.meeting_status(found, article, thread_url=thread_url))

    async def _moderator_action(self, ctx: GuildContext, action: str, rest: str) -> None:
        if action == "schedule":
            if not rest:
                raise UserError("Say when: `meeting schedule tomorrow 19:00` (add `for 90m` for the length).")
            await self.schedule(ctx, when=rest)
        elif action == "cancel":
            await self.cancel(ctx)
        elif action == "start":
            await self.start(ctx)
        elif action == "next":
            await self.next(ctx)
        else:
            await self.end(ctx)

    # -- moderators ------------------------------------------------------------------------
    @moderator_command(name="meeting-schedule", usage="<when> [for <duration>]",
                       description="Schedule the journal-club meeting here (or move the upcoming one)")
    @app_commands.describe(when="Server time: 2027-01-14 19:00, tomorrow 19:00, next thursday 7pm; "
                                "add `for 90m` (default 60 min)")
    async def schedule(self, ctx: GuildContext, *, when: str) -> None:
        article = ctx.article
        not_in_thread(ctx)
        if ctx.interaction is not None:
            await ctx.defer(ephemeral=True)
        when_text, duration = split_duration(when)
        meeting, before = await ctx.meetings.schedule(
            guild_id=ctx.guild.id, channel_id=ctx.channel.id, article=article.command, when=when_text,
            duration=duration, moderator_id=ctx.author.id)
        notes = []
        event_note = await self._sync_event(ctx.guild, ctx.channel, meeting, article)
        if event_note:
            notes.append(event_note)
        else:
            meeting = await ctx.meetings.get(ctx.guild.id, meeting.id)
        group = f"{self.bot.prefix_for(ctx.guild)}{article.command}"
        posted = await self._post(ctx.channel, render.announcement(meeting, article, moved=before is not None,
                                                                   group=group))
        if posted is not None:
            meeting = await ctx.meetings.set_discord_ids(meeting, announcement_id=posted.id)
        self.wake()
        verb = "Moved" if before is not None else "Scheduled"
        await confirm_command(ctx, " ".join([f"{verb} the journal club on *{article.title}*: "
                                             f"{render.when_text(meeting)}.", *notes]))

    @moderator_command(name="meeting-cancel", description="Cancel the upcoming journal-club meeting here")
    async def cancel(self, ctx: GuildContext) -> None:
        article = ctx.article
        meeting = await ctx.meetings.cancel(guild_id=ctx.guild.id, channel_id=ctx.channel.id,
                                            article=article.command, moderator_id=ctx.author.id)
        await self._event_step(ctx.guild, meeting, "cancel")
        await self._post(ctx.channel, render.cancelled(article))
        await confirm_command(ctx, f"Cancelled the journal club on *{article.title}*.")

    @moderator_command(name="meeting-start", description="Start the journal-club meeting here now")
    async def start(self, ctx: GuildContext) -> None:
        article = ctx.article
        not_in_thread(ctx)
        if ctx.interaction is not None:
            await ctx.defer(ephemeral=True)
        missing = thread_permissions_missing(ctx.channel, ctx.guild)
        if missing:
            where = getattr(ctx.channel, "mention", "this channel")
            raise BotMissingPermission(f"I can't open the meeting's thread in {where}: I'm missing **{missing}**. "
                                       "Ask an admin to grant it to my role, then try again.")
        meeting = await ctx.meetings.start_now(guild_id=ctx.guild.id, channel_id=ctx.channel.id,
                                               article=article.command, moderator_id=ctx.author.id)
        thread = await self.open_meeting(meeting, article)
        await confirm_command(ctx, f"The journal club on *{article.title}* has started: {thread.mention}")

    @moderator_command(name="meeting-next", description="Post the next discussion question in the meeting's thread")
    async def next(self, ctx: GuildContext) -> None:
        meeting = await self._running_here(ctx)
        if ctx.interaction is not None:
            await ctx.defer(ephemeral=True)
        number = await self.next_question(meeting)
        await confirm_command(ctx, f"Posted question {number}.")

    @moderator_command(name="meeting-end", description="End the meeting: digest, archived thread, takes by DM")
    async def end(self, ctx: GuildContext) -> None:
        meeting = await self._running_here(ctx)
        if ctx.interaction is not None:
            await ctx.defer(ephemeral=True)
        await self.close_meeting(meeting, ctx.article, moderator=ctx.author)
        await confirm_command(ctx, f"The journal club on *{ctx.article.title}* has ended; the digest is posted "
                                   "and its takes were sent to you by DM.")

    async def _running_here(self, ctx: GuildContext) -> Meeting:
        article = ctx.article
        thread_meeting = await ctx.meetings.in_thread(ctx.guild.id, ctx.channel.id)
        if thread_meeting is not None and thread_meeting.article == article.command:
            return thread_meeting
        channel_id = getattr(ctx.channel, "parent_id", None) or ctx.channel.id
        meeting = await ctx.meetings.active(ctx.guild.id, channel_id, article.command)
        if meeting is None or meeting.state != "running":
            raise MeetingRefused(f"No journal club on *{article.title}* is running here.")
        return meeting

    @moderator_command(name="poll", usage="[hours]", description="A poll: which article next? (closes after [hours])")
    @app_commands.describe(hours="How long the poll stays open, 1 to 168 hours (default 24)")
    async def poll(self, ctx: GuildContext, hours: int = 24) -> None:
        if not 1 <= hours <= MAX_POLL_HOURS:
            raise UserError(f"A poll stays open from 1 to {MAX_POLL_HOURS} hours; `poll 24` is a day.")
        permissions = ctx.channel.permissions_for(ctx.guild.me)
        if not permissions.send_polls:
            raise BotMissingPermission("I can't post a poll here: I'm missing **Create Polls**. Ask an admin to "
                                       "grant it to my role, then try again.")
        poll = discord.Poll(question=render.POLL_QUESTION, duration=dt.timedelta(hours=hours))
        for answer in render.poll_answers(list(self.bot.articles.values())):
            poll.add_answer(text=answer)
        if ctx.interaction is not None:
            await ctx.defer(ephemeral=True)
        posted = await ctx.channel.send(poll=poll)
        closes = f"it closes in {render.plural(hours, 'hour')}"
        try:
            await ctx.meetings.remember_poll(message_id=posted.id, guild_id=ctx.guild.id, channel_id=ctx.channel.id,
                                             hours=hours)
        except StorageError as exc:  # the poll is up; only its result after a restart is at risk
            log.warning("poll %s not remembered: %s", posted.id, exc)
            self._polls_unrecorded.add(posted.id)
            closes += ("; I couldn't note it in the database, so I'll post the result only if I'm running "
                       "when it closes")
        await ctx.audit.record(ctx.guild.id, ctx.author.id, "poll", f"which article next, {hours} h")
        await confirm_command(ctx, f"Posted the poll; {closes}, and I'll post the result here.")

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """A poll of ours that Discord has just closed: post its result once."""
        message = payload.message
        poll = message.poll
        if (poll is None or self.bot.user is None or message.author.id != self.bot.user.id
                or poll.question != render.POLL_QUESTION or not poll.is_finalized()):
            return
        await self._answer_poll(message)

    async def _answer_poll(self, message: discord.Message) -> None:
        """Post a closed poll's result, once: the database decides who posts it (Discord may announce a
        closed poll more than once, and the due work answers polls that closed while the bot was down)."""
        if message.id in self._polls_unrecorded:
            self._polls_unrecorded.discard(message.id)
        elif not await self.bot.services.meetings.claim_poll(message.id):
            return
        poll = message.poll
        if poll is None:
            return
        counts = [(answer.text, answer.vote_count) for answer in poll.answers]
        await self._post(message.channel, render.poll_result(counts),
                         reference=message.to_reference(fail_if_not_exists=False))

    async def _answer_missed_poll(self, pending: PendingPoll) -> None:
        """A poll that closed while the bot was away: its result from the message as it is now. One whose
        message or channel is gone is forgotten quietly."""
        channel = self.bot.get_channel(pending.channel_id)
        message = None
        if channel is not None:
            with contextlib.suppress(discord.NotFound, discord.Forbidden):
                message = await cast(Any, channel).fetch_message(pending.message_id)
        if message is None:
            await self.bot.services.meetings.claim_poll(pending.message_id)
            return
        await self._answer_poll(message)

    # -- the Discord side ------------------------------------------------------------------
    async def _post(self, channel: Any, content: str, **kwargs: Any) -> discord.Message | None:
        try:
            return cast(discord.Message, await channel.send(content, **kwargs))
        except discord.HTTPException as exc:
            log.warning("could not post in channel %s: %s", getattr(channel, "id", "?"), exc)
            return None

    async def _sync_event(self, guild: discord.Guild, channel: Any, meeting: Meeting, article: Article) -> str | None:
        """Create or move the meeting's Discord event; a note for the moderator if it could not be."""
        if not can_manage_events(guild):
            return NO_EVENTS
        start, end = meeting.starts_at, meeting.ends_at
        try:
            if meeting.event_id is not None:
                event = guild.get_scheduled_event(meeting.event_id) or await guild.fetch_scheduled_event(
                    meeting.event_id)
                await event.edit(start_time=start, end_time=end)
                return None
            location = channel.jump_url if len(channel.jump_url) <= 100 else f"#{channel.name}"[:100]
            event = await guild.create_scheduled_event(
                name=render.event_name(article), start_time=start, end_time=end,
                entity_type=discord.EntityType.external, location=location,
                privacy_level=discord.PrivacyLevel.guild_only, description=render.event_description(article))
        except discord.Forbidden:
            return NO_EVENTS
        except discord.HTTPException as exc:
            log.warning("the scheduled event for meeting %s failed: %s", meeting.id, exc)
            return "Discord refused the scheduled event just now; the meeting runs all the same."
        await self.bot.services.meetings.set_discord_ids(meeting, event_id=event.id)
        return None

    async def _event_step(self, guild: discord.Guild, meeting: Meeting, step: str) -> None:
        """Cancel, start or complete the meeting's event, if it has one and we may."""
        if meeting.event_id is None or not can_manage_events(guild):
            return
        try:
            event = guild.get_scheduled_event(meeting.event_id) or await guild.fetch_scheduled_event(meeting.event_id)
            status = event.status
            if step == "cancel" and status is discord.EventStatus.scheduled:
                await event.cancel()
            elif step == "start" and status is discord.EventStatus.scheduled:
                await event.start()
            elif step == "end" and status is discord.EventStatus.active:
                await event.end()
            elif step == "end" and status is discord.EventStatus.scheduled:
                await event.cancel()
        except (discord.HTTPException, ValueError) as exc:
            log.warning("the scheduled event of meeting %s could not %s: %s", meeting.id, step, exc)

    async def open_meeting(self, meeting: Meeting, article: Article) -> discord.Thread:
        """Open the thread on the pinned summary (or a new message), post question 1, set the event active."""
        guild = self.bot.get_guild(meeting.guild_id)
        channel = guild.get_channel(meeting.channel_id) if guild else None
        if guild is None or channel is None or not isinstance(channel, discord.TextChannel):
            raise MeetingRefused("The meeting's channel is gone.")
        services = self.bot.services
        name = render.thread_name(article, meeting, await services.meetings.timezone(guild.id))
        thread: discord.Thread | None = None
        pin = await services.pins.record(guild.id, channel.id, article.command)
        if pin is not None:
            with contextlib.suppress(discord.HTTPException):
                starter = await channel.fetch_message(pin.message_id)
                thread = await starter.create_thread(name=name, auto_archive_duration=1440)
        if thread is None:
            starter = await channel.send(f"🗣️ **Journal club: {article.title}**, the discussion is in the thread.")
            thread = await starter.create_thread(name=name, auto_archive_duration=1440)
        first = 1 if article.discussion_questions else 0
        meeting = await services.meetings.begin(meeting, thread_id=thread.id, first_question=first)
        await self._post_question(thread, meeting, article)
        await self._event_step(guild, meeting, "start")
        return thread

    async def _post_question(self, thread: Any, meeting: Meeting, article: Article) -> None:
        group = f"{self.bot.prefix_for(thread.guild)}{article.command}"
        await thread.send(render.question_message(article, meeting.question,
                                                  message_content=self.bot.settings.message_content_intent,
                                                  group=group),
                          view=question_view(meeting, article))

    def _article(self, meeting: Meeting) -> Article:
        article = self.bot.articles.get(meeting.article)
        if article is None:
            raise MeetingRefused("This meeting's article is no longer available on this bot.")
        return article

    async def next_question(self, meeting: Meeting) -> int:
        article = self._article(meeting)
        meeting = await self.bot.services.meetings.advance(meeting, article)
        thread = self.bot.get_channel(meeting.thread_id or 0)
        if thread is None:
            raise MeetingRefused("The meeting's thread is gone.")
        await self._post_question(thread, meeting, article)
        return meeting.question

    async def close_meeting(self, meeting: Meeting, article: Article, *, moderator: Any = None) -> None:
        """The digest in the thread and the channel, the thread archived, the event completed, the takes by DM."""
        services = self.bot.services
        meeting = await services.meetings.finish(meeting)
        guild = self.bot.get_guild(meeting.guild_id)
        digest = await services.meetings.digest(meeting, article)
        anonymous = await services.takes.anonymous(meeting.guild_id)
        embed = render.digest_embed(digest, article, anonymous=anonymous)
        thread = self.bot.get_channel(meeting.thread_id or 0)
        channel = self.bot.get_channel(meeting.channel_id)
        for where in (thread, channel):
            if where is not None:
                with contextlib.suppress(discord.HTTPException):
                    await self.digest_posted(await cast(Any, where).send(embed=embed), digest)
        if isinstance(thread, discord.Thread):
            try:
                await thread.edit(archived=True)
            except discord.HTTPException as exc:
                log.warning("could not archive the thread of meeting %s: %s", meeting.id, exc)
        if guild is not None:
            await self._event_step(guild, meeting, "end")
        await self._send_export(meeting, article, moderator)

    async def digest_posted(self, message: discord.Message, digest: Digest) -> None:
        """Every digest message is remembered with the takes it draws on, so that editing or erasing
        one of them redraws it (:mod:`bot.quotes`; the redrawer is in :mod:`bot.ui.quote_redraw`)."""
        await self.bot.services.quotes.remember(message, digest.quoted_take_ids, digest_kind(digest.meeting.id))

    async def _send_export(self, meeting: Meeting, article: Article, moderator: Any) -> None:
        takes = await self.bot.services.meetings.takes_of(meeting)
        answers = [(take, number, question_text(article, number)) for take, number in takes]
        if moderator is None:
            try:
                moderator = self.bot.get_user(meeting.moderator_id) or await self.bot.fetch_user(meeting.moderator_id)
            except discord.HTTPException:
                return
        stem = f"meeting-{article.command}-{meeting.id}"
        files = [discord.File(io.BytesIO(answers_to_csv(answers)), filename=f"{stem}.csv"),
                 discord.File(io.BytesIO(answers_to_json(answers)), filename=f"{stem}.json")]
        try:
            await moderator.send(render.export_note(article, len(answers)), files=files)
        except discord.HTTPException as exc:
            log.info("could not DM the meeting export to %s: %s", meeting.moderator_id, exc)

    # -- messages in a meeting's thread are takes -----------------------------------------
    def may_be_meeting_take(self, message: discord.Message) -> bool:
        """A member's message in a thread, read with the message content intent: perhaps a take."""
        return not (message.guild is None or message.author.bot or not self.bot.settings.message_content_intent
                    or not isinstance(message.channel, discord.Thread))

    @commands.Cog.listener()
    @listens_when(may_be_meeting_take)
    async def on_message(self, message: discord.Message) -> None:
        assert message.guild is not None and isinstance(message.channel, discord.Thread)
        meeting = await self.bot.services.meetings.in_thread(message.guild.id, message.channel.id)
        if meeting is None:
            return
        article = self.bot.articles.get(meeting.article)
        if article is None:
            return
        referenced = message.reference.resolved if message.reference else None
        if isinstance(referenced, discord.Message) and article_of_message(self.bot.articles, referenced):
            return  # a reply to an article message: the takes cog saves it
        ctx = await self.bot.get_context(message)
        if ctx.valid:
            return  # a command is a command, not a take
        try:
            saved = await self.bot.services.takes.submit(
                guild_id=message.guild.id, channel=message.channel, article=article, author=message.author,
                content=message.content, source="reply", message_url=message.jump_url)
        except UserError as error:
            await tell_reply_author(message, str(error))
            return
        except Exception as error:
            answer = unexpected_answer(error, where="meeting take", context={
                "guild": message.guild.id, "thread": message.channel.id, "user": message.author.id})
            await tell_reply_author(message, answer)
            return
        with contextlib.suppress(discord.HTTPException):
            await message.add_reaction("✅")
        log.debug("meeting %s: take #%s on question %s", meeting.id, saved.id, meeting.question)

    # -- 👍 on a take written in a meeting's thread agrees with it ---------------------------
    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, agree=True)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, agree=False)

    async def _reaction(self, payload: discord.RawReactionActionEvent, *, agree: bool) -> None:
        if payload.guild_id is None or str(payload.emoji) != AGREE or (
                self.bot.user is not None and payload.user_id == self.bot.user.id):
            return
        meetings = self.bot.services.meetings
        try:
            take_id = await meetings.take_of_message(payload.guild_id, payload.message_id)
            if take_id is None:
                return
            if agree:
                await meetings.agree(payload.guild_id, take_id, payload.user_id)
            else:
                await meetings.withdraw(payload.guild_id, take_id, payload.user_id)
        except UserError:
            return  # one's own take, or a take deleted meanwhile: a reaction is not an answer
        except StorageError as exc:
            log.warning("agreement not %s (guild=%s message=%s): %s", "saved" if agree else "removed",
                        payload.guild_id, payload.message_id, exc)

    # -- the due-work alarm ------------------------------------------------------------------
    async def _due_round(self) -> float:
        """One round of the due work; returns the seconds until the next one (see :class:`Alarm`)."""
        await self.bot.wait_until_ready()
        try:
            await self.run_due()
        except DatabaseUnreachable:
            pass  # an outage the store has reported once already; the next round tries again
        except StorageError:
            log.exception("meetings: the due work could not be read; trying again shortly")
        return (await self._until_next()).total_seconds()

    async def _until_next(self) -> dt.timedelta:
        """How long until the next meeting needs attention (at least a second, at most an hour)."""
        now = self.bot.clock()
        try:
            upcoming = await self.bot.services.meetings.next_due_at()
        except StorageError:  # the database is away: look again soon, not in an hour
            upcoming = now + LOOP_RETRY
        return LOOP_MAX if upcoming is None else min(max(upcoming - now, LOOP_MIN), LOOP_MAX)

    def wake(self) -> None:
        """A meeting was scheduled or moved: look again in a second."""
        self.due_work.wake(LOOP_MIN.total_seconds())

    async def run_due(self) -> int:
        """Do what is due now; returns how many meetings and polls were handled."""
        handled = 0
        for pending in await self.bot.services.meetings.unanswered_polls():
            if self.bot.get_guild(pending.guild_id) is None:
                continue  # another shard's (or a server the bot left)
            try:
                await self._answer_missed_poll(pending)
            except discord.HTTPException as error:  # Discord unavailable: the next round tries again
                log.warning("poll %s: its result could not be posted now (%s)", pending.message_id, error)
            handled += 1
        for due in await self.bot.services.meetings.due():
            if self.bot.get_guild(due.meeting.guild_id) is None:
                continue  # another shard's (or a server the bot left)
            try:
                await self._do(due)
            except Exception as error:  # one meeting's failure must not stop the others
                log.exception("meetings: meeting %s (%s) failed: %s; trying again in a few minutes",
                              due.meeting.id, due.action, error)
                with contextlib.suppress(UserError, StorageError):
                    await self.bot.services.meetings.retry_later(due.meeting)
            handled += 1
        return handled

    async def _do(self, due: Due) -> None:
        meeting = due.meeting
        services = self.bot.services
        guild = self.bot.get_guild(meeting.guild_id)
        channel = guild.get_channel(meeting.channel_id) if guild else None
        article = self.bot.articles.get(meeting.article)
        if guild is None or channel is None or article is None:
            await services.meetings.abandon(meeting)
            return
        if due.action in ("remind_day", "remind_hour"):
            if await services.meetings.reminders_on(guild.id):
                await self._post(channel, render.reminder(meeting, article, due.action.removeprefix("remind_")))
            await services.meetings.reminded(due)
        elif due.action == "start":
            missing = thread_permissions_missing(channel, guild)
            if missing:
                await services.meetings.abandon(meeting)
                await self._post(channel, f"I couldn't start the journal club on *{article.title}*: I'm missing "
                                          f"**{missing}** here. Ask an admin to grant it, then `meeting start`.")
                return
            await self.open_meeting(meeting, article)
        elif due.action == "end":
            await self.close_meeting(meeting, article)
        elif due.skipped:
            await services.meetings.reminded(due)


async def setup(bot: CommonFactorsBot) -> None:
    await bot.add_cog(Meetings(bot))
