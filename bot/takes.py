"""Takes: the rules a take must meet, and saving, finding, editing and deleting them.

Every way a take arrives (command, slash form, button, reply) goes through
:meth:`TakeService.submit`, so the rules and the promise are the same everywhere: a take is
acknowledged only after the store has committed it, and a failed write tells the member it was
*not* saved.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.article import Article
from bot.audit import AuditLog
from bot.clock import Clock
from bot.errors import GuildOnly, NotAllowed, NotFound, NotSaved, TakeRejected, TooSoon, refuse_if_unreachable
from bot.guild_settings import GuildSettingsService
from bot.locks import KeyedLocks
from bot.permissions import is_moderator
from bot.storage import (
    DatabaseFileGone,
    ExportChunk,
    NewTake,
    StorageError,
    Store,
    Take,
    TakeChecks,
    TakeRefused,
    TakeSource,
    TakeStats,
)
from bot.text import discord_length, has_visible_content, printable, unstorable_problem

log = logging.getLogger("bot.takes")

GUILD_ONLY = "Takes belong to a server's discussion, so this works in a server channel, not in DMs."


#: (guild id, channel, article) -> (meeting id, question) when the channel is a running meeting's thread.
MeetingLink = Callable[[int, Any, str], Awaitable[tuple[int, int] | None]]


@dataclass(frozen=True, slots=True)
class TakeRules:
    max_length: int
    cooldown: dt.timedelta
    duplicate_window: dt.timedelta
    channel_ids: frozenset[int]

    def allows_channel(self, channel: Any) -> bool:
        if not self.channel_ids:
            return True
        ids = {getattr(channel, "id", None), getattr(channel, "parent_id", None)}
        return bool(ids & self.channel_ids)


def check_text(text: str, rules: TakeRules) -> None:
    """Empty, invisible, unstorable and too-long takes are refused with what to do about it.
    Lengths are counted as Discord counts them (see :mod:`bot.text`)."""
    problem = unstorable_problem(text)
    if problem is not None:
        raise TakeRejected(problem)
    if not has_visible_content(text):
        raise TakeRejected("Your take is empty (or only invisible characters). Write a sentence or two about the "
                           "article and send it again.")
    length = discord_length(text)
    if length > rules.max_length:
        over = length - rules.max_length
        raise TakeRejected(f"Your take is {length} characters; the limit here is {rules.max_length}. "
                           f"Shorten it by {over} and send it again.")


def channels_text(rules: TakeRules) -> str:
    return ", ".join(f"<#{c}>" for c in sorted(rules.channel_ids))


def saved_message(take: Take, article: Article, prefix: str = "/") -> str:
    """``prefix`` is how the member called us (``!`` or ``/``), so the hint is copy-pasteable."""
    group = f"{prefix}{article.command}"
    return (f"Saved your take **#{take.id}** on *{article.title}*. "
            f"Change it with `{group} edit {take.id}` or remove it with `{group} delete {take.id}`.")


@dataclass(frozen=True, slots=True)
class NameVisibility:
    show_names: bool
    #: Names are shown only to the viewer (an ephemeral answer), because lists are anonymous.
    private: bool


class TakeService:
    """Members' takes in every server: the one door to them for commands, buttons and forms."""

    def __init__(self, store: Store, clock: Clock, guild_settings: GuildSettingsService, audit: AuditLog,
                 locks: KeyedLocks, meeting_link: MeetingLink | None = None) -> None:
        self._store = store
        #: Which meeting (and question) a take written in this channel belongs to, if any.
        self._meeting_link = meeting_link
        self._clock = clock
        self._settings = guild_settings
        self._audit = audit
        self._locks = locks

    # -- rules --------------------------------------------------------------------------------
    async def rules_for(self, guild_id: int) -> TakeRules:
        guild = await self._settings.get(guild_id)
        s = self._settings.defaults
        return TakeRules(
            max_length=guild.take_max_length or s.take_max_length,
            cooldown=dt.timedelta(seconds=guild.take_cooldown_seconds if guild.take_cooldown_seconds is not None
                                  else s.take_cooldown_seconds),
            duplicate_window=dt.timedelta(seconds=s.duplicate_window_seconds),
            channel_ids=guild.take_channel_ids,
        )

    async def anonymous(self, guild_id: int) -> bool:
        """Whether this server's lists hide authors (checked again at every page of a list)."""
        return (await self._settings.get(guild_id)).anonymous_lists

    async def visibility(self, guild_id: int, member: discord.abc.User, *, can_be_private: bool) -> NameVisibility:
        """Lists name authors unless the guild made them anonymous. Then moderators still see names,
        but only in an answer no one else sees (slash); a message in the channel never names anyone."""
        settings = await self._settings.get(guild_id)
        if not settings.anonymous_lists:
            return NameVisibility(show_names=True, private=False)
        if can_be_private and is_moderator(member, settings.moderator_role_id):
            return NameVisibility(show_names=True, private=True)
        return NameVisibility(show_names=False, private=False)

    # -- writing ------------------------------------------------------------------------------
    async def submit(self, *, guild_id: int | None, channel: Any, article: Article, author: discord.abc.User,
                     content: str, source: TakeSource, message_url: str | None = None) -> Take:
        """Validate and save a take; returns it only once it is committed."""
        if guild_id is None:
            raise GuildOnly(GUILD_ONLY)
        try:
            return await self._validate_and_add(guild_id=guild_id, channel=channel, article=article, author=author,
                                                content=content, source=source, message_url=message_url)
        except StorageError as exc:
            refuse_if_unreachable(exc)
            # A foreseeable condition (the file gone, logged once by the store) needs no traceback.
            log.error("take NOT saved (guild=%s article=%s author=%s source=%s): %s", guild_id, article.command,
                      author.id, source, exc, exc_info=None if isinstance(exc, DatabaseFileGone) else exc)
            raise NotSaved("Your take was **not saved**: the database could not be written. Nothing was kept; "
                           "please try again in a moment.") from exc

    async def _validate_and_add(self, *, guild_id: int, channel: Any, article: Article, author: discord.abc.User,
                                content: str, source: TakeSource, message_url: str | None) -> Take:
        rules = await self.rules_for(guild_id)
        check_text(content, rules)
        if not rules.allows_channel(channel):
            raise TakeRejected(f"Takes on this article are collected in {channels_text(rules)}.")
        link = None if self._meeting_link is None else await self._meeting_link(guild_id, channel, article.command)
        now = self._clock()
        # One trip to the store: the duplicate and cooldown rules are checked in the transaction
        # that inserts the take, so two takes at once cannot both pass the cooldown.
        try:
            return await self._store.add_take(
                NewTake(guild_id=guild_id, channel_id=channel.id, article=article.command, author_id=author.id,
                        author_name=printable(getattr(author, "display_name", author.name)), content=content,
                        source=source, created_at=now, message_url=message_url,
                        meeting_id=link[0] if link else None, question=link[1] if link else None),
                checks=TakeChecks(duplicate_since=now - rules.duplicate_window, cooldown_since=now - rules.cooldown))
        except TakeRefused as refused:
            if refused.rule == "duplicate":
                minutes = int(rules.duplicate_window.total_seconds() // 60)
                raise TooSoon(f"You already saved this exact take in the last {minutes} minutes.") from None
            ready = (refused.last_take_at or now) + rules.cooldown
            raise TooSoon(f"One take every {int(rules.cooldown.total_seconds())} s: you can add the next "
                          f"one {discord.utils.format_dt(ready, 'R')}.") from None

    async def find(self, guild_id: int | None, take_id: int) -> Take:
        """A take of this guild; another guild's id is "not found", exactly like a missing one."""
        if guild_id is None:
            raise GuildOnly(GUILD_ONLY)
        take = await self._store.get_take(guild_id, take_id) if 0 < take_id < 2**63 else None
        if take is None:
            raise NotFound(f"There is no take #{take_id} in this server.")
        return take

    async def find_own(self, guild_id: int | None, member: discord.abc.User, take_id: int) -> Take:
        take = await self.find(guild_id, take_id)
        if take.author_id != member.id:
            raise NotAllowed("You can only edit your own takes.")
        return take

    async def edit(self, *, guild_id: int | None, member: discord.abc.User, take_id: int, content: str) -> Take:
        await self.find_own(guild_id, member, take_id)
        assert guild_id is not None
        check_text(content, await self.rules_for(guild_id))
        try:
            edited = await self._store.edit_take(guild_id, take_id, content, self._clock())
        except StorageError as exc:
            refuse_if_unreachable(exc)
            log.error("edit NOT saved (guild=%s take=%s): %s", guild_id, take_id, exc, exc_info=exc)
            raise NotSaved("Your edit was **not saved**: the database refused the write. The take still reads as "
                           "before; please try again in a moment.") from exc
        if edited is None:
            raise NotFound(f"There is no take #{take_id} in this server.")
        return edited

    async def delete(self, *, guild_id: int | None, member: discord.abc.User, take_id: int,
                     channel_of: Callable[[int], Any]) -> Take:
        """Members delete their own takes; moderators any take in their guild (audited).
        ``channel_of`` finds the channel a take was written in, whose own moderators may delete it."""
        take = await self.find(guild_id, take_id)
        assert guild_id is not None
        by_moderator = False
        if take.author_id != member.id:
            settings = await self._settings.get(guild_id)
            if not is_moderator(member, settings.moderator_role_id, channel=channel_of(take.channel_id)):
                raise NotAllowed("You can only delete your own takes; moderators can delete any.")
            by_moderator = True
        try:
            deleted = await self._store.delete_take(guild_id, take_id)
        except StorageError as exc:
            refuse_if_unreachable(exc)
            log.error("delete failed (guild=%s take=%s): %s", guild_id, take_id, exc, exc_info=exc)
            raise NotSaved("The take was **not deleted**: the database refused the write. Please try again.") from exc
        if not deleted:
            raise NotFound(f"There is no take #{take_id} in this server.")
        if by_moderator:
            await self._audit.record(guild_id, member.id, "delete_take", f"take #{take_id}")
        return take

    async def forget_member(self, author_id: int) -> int:
        """Delete every take of a member, in every server; how many there were."""
        try:
            return await self._store.delete_member_data(author_id)
        except StorageError as exc:
            refuse_if_unreachable(exc)
            log.error("forgetme failed for %s: %s", author_id, exc, exc_info=exc)
            raise NotSaved("Nothing was deleted: the database refused the write. Please try again.") from exc

    async def purge_expired(self, days: int | None) -> int:
        """Retention: delete takes older than ``days`` (none when unset)."""
        if not days:
            return 0
        removed = await self._store.purge_takes_before(self._clock() - dt.timedelta(days=days))
        if removed:
            log.info("retention: deleted %d take(s) older than %d days", removed, days)
        return removed

    # -- reading ------------------------------------------------------------------------------
    async def page(self, guild_id: int, article: str, *, author_id: int | None, before_id: int | None,
                   limit: int, offset: int = 0, after_id: int | None = None) -> list[Take]:
        return await self._store.list_takes(guild_id, article, author_id=author_id, before_id=before_id,
                                            after_id=after_id, offset=offset, limit=limit)

    async def count(self, guild_id: int, article: str, *, author_id: int | None = None) -> int:
        return await self._store.count_takes(guild_id, article, author_id=author_id)

    async def stats(self, guild_id: int, article: str, *, days: int) -> TakeStats:
        return await self._store.take_stats(guild_id, article, days=days, today=self._clock().date())

    async def of_member(self, author_id: int, *, guild_id: int | None = None) -> list[Take]:
        return await self._store.member_takes(author_id, guild_id=guild_id)

    async def for_export(self, guild_id: int, article: str, *, since: dt.datetime | None,
                         until: dt.datetime | None) -> Sequence[Take]:
        return await self._store.export_takes(guild_id, article, since=since, until=until)

    def export_chunks(self, guild_id: int, article: str, *, since: dt.datetime | None,
                      until: dt.datetime | None) -> AsyncIterator[ExportChunk]:
        """The export in chunks, each its own short read: memory stays bounded and writers never
        wait; the database writes the lines (:meth:`bot.storage.Store.iter_export`)."""
        return self._store.iter_export(guild_id, article=article, since=since, until=until)

    def member_chunks(self, author_id: int, *, guild_id: int | None = None) -> AsyncIterator[ExportChunk]:
        return self._store.iter_export(guild_id, author_id=author_id)
