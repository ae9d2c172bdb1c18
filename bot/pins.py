"""Pinned summaries: one per channel and article, refreshed in place rather than duplicated.

``pin`` posts the summary with the article's buttons and pins it, and remembers the message in
the store. What the message shows (embed and buttons) is built by the caller, so these rules
know nothing of how it is drawn. Running it again compares what the message would show now with what it showed then
(a hash kept with the record): unchanged stays as it is, changed is edited in place, a deleted
message is posted and pinned anew, and a message someone unpinned is pinned again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import discord

from bot.article import Article
from bot.clock import Clock
from bot.errors import BotMissingPermission, NotFound, NotSaved, PinLimitReached, refuse_if_unreachable
from bot.locks import KeyedLocks
from bot.storage import PinRecord, StorageError, Store

log = logging.getLogger("bot.pins")

T = TypeVar("T")

#: Discord's ceiling on pinned messages in one channel.
MAX_PINS = 250
#: Discord's JSON error codes the pin flow answers specifically.
MAX_PINS_REACHED = 30003
MISSING_ACCESS = 50001

#: (permission attribute, the name Discord's settings show) in the order a moderator fixes them.
VIEW = ("view_channel", "View Channel")
SEND = ("send_messages", "Send Messages")
SEND_IN_THREADS = ("send_messages_in_threads", "Send Messages in Threads")
EMBED = ("embed_links", "Embed Links")
HISTORY = ("read_message_history", "Read Message History")
PIN = ("pin_messages", "Pin Messages")

PinResult = Literal["posted", "reposted", "edited", "repinned", "unchanged"]


@dataclass(frozen=True, slots=True)
class PinOutcome:
    result: PinResult
    message: discord.Message


def pin_digest(embed: discord.Embed, view: discord.ui.View) -> str:
    """What a pinned message shows, reduced to a hash: the embed and the buttons' ids."""
    payload = {"embed": embed.to_dict(), "buttons": [getattr(i, "custom_id", None) for i in view.children]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def needed_for_pin(channel: Any) -> list[tuple[str, str]]:
    send = SEND_IN_THREADS if isinstance(channel, discord.Thread) else SEND
    return [VIEW, send, EMBED, HISTORY, PIN]


def missing_permissions(permissions: discord.Permissions, needed: Sequence[tuple[str, str]]) -> list[str]:
    return [label for attribute, label in needed if not getattr(permissions, attribute)]


def require_permissions(permissions: discord.Permissions, needed: Sequence[tuple[str, str]], *,
                        channel: Any, doing: str) -> None:
    missing = missing_permissions(permissions, needed)
    if missing:
        names = " and ".join(f"**{m}**" for m in missing) if len(missing) <= 2 else (
            ", ".join(f"**{m}**" for m in missing[:-1]) + f" and **{missing[-1]}**")
        where = getattr(channel, "mention", "this channel")
        raise BotMissingPermission(f"I can't {doing} in {where}: I'm missing {names}. Ask an admin to grant "
                                   "it to my role (server or channel permissions), then try again.")


async def _step(action: Awaitable[T], permission: tuple[str, str], *, channel: Any, doing: str) -> T:
    """Run one Discord call; a refusal (the 50013 Discord sends when permissions changed since
    our cache saw them) becomes the message naming the permission that call needs."""
    try:
        return await action
    except discord.Forbidden as exc:
        where = getattr(channel, "mention", "this channel")
        label = VIEW[1] if exc.code == MISSING_ACCESS else permission[1]
        raise BotMissingPermission(f"I can't {doing} in {where}: Discord refused because I'm missing "
                                   f"**{label}**. Ask an admin to grant it to my role, then try again.") from exc


async def _fetch(channel: Any, message_id: int) -> discord.Message | None:
    try:
        message: discord.Message = await _step(channel.fetch_message(message_id), HISTORY, channel=channel,
                                               doing="find the pinned summary")
    except discord.NotFound:
        return None
    return message


async def _pin(message: discord.Message, *, channel: Any, article: Article) -> None:
    try:
        await _step(message.pin(reason=f"Pinned summary of {article.command}"), PIN, channel=channel,
                    doing="pin the summary")
    except discord.HTTPException as exc:
        if exc.code == MAX_PINS_REACHED:
            raise PinLimitReached(f"{getattr(channel, 'mention', 'This channel')} already has {MAX_PINS} pinned "
                                  "messages, Discord's limit. Unpin one, then run `pin` again.") from exc
        raise


#: Builds the pinned message for an article: its embed and its buttons.
Render = Callable[[Article], tuple[discord.Embed, discord.ui.View]]


class PinService:
    """One pinned summary per channel and article, however many moderators ask at once."""

    def __init__(self, store: Store, clock: Clock, locks: KeyedLocks) -> None:
        self._store = store
        self._clock = clock
        self._locks = locks

    async def pin(self, channel: Any, article: Article, *, permissions: discord.Permissions,
                  render: Render) -> PinOutcome:
        # One refresh at a time per channel and article, among every process on the database.
        async with self._locks("pin", channel.id, article.command), self._exclusive(channel, article):
            return await self._pin(channel, article, permissions=permissions, render=render)

    async def _pin(self, channel: Any, article: Article, *, permissions: discord.Permissions,
                   render: Render) -> PinOutcome:
        guild_id: int = channel.guild.id
        require_permissions(permissions, needed_for_pin(channel), channel=channel, doing="pin the summary")
        embed, view = render(article)
        digest = pin_digest(embed, view)
        record = await self._store.get_pin(guild_id, channel.id, article.command)
        message = await _fetch(channel, record.message_id) if record is not None else None

        if record is not None and message is not None:
            changed = record.content_hash != digest
            if changed:
                message = await _step(message.edit(embed=embed, view=view), SEND, channel=channel,
                                      doing="update the pinned summary")
            repinned = not message.pinned
            if repinned:
                await _pin(message, channel=channel, article=article)
            if changed:
                await self._save(PinRecord(guild_id=guild_id, channel_id=channel.id, article=article.command,
                                           message_id=message.id, content_hash=digest, pinned_at=record.pinned_at),
                                 failed="The pinned summary was updated, but the database could not record that; "
                                        "running `pin` again will check it again.")
            return PinOutcome("edited" if changed else "repinned" if repinned else "unchanged", message)

        sent: discord.Message = await _step(channel.send(embed=embed, view=view), SEND, channel=channel,
                                            doing="post the summary")
        try:
            await _pin(sent, channel=channel, article=article)
            await self._save(PinRecord(guild_id=guild_id, channel_id=channel.id, article=article.command,
                                       message_id=sent.id, content_hash=digest, pinned_at=self._clock()),
                             failed="The summary was **not pinned**: the database could not record it. "
                                    "Please try again in a moment.")
        except BaseException:
            # Nothing half-done: a summary we could not pin (or could not remember) is taken down again.
            await self._take_down(sent, PinRecord(guild_id=guild_id, channel_id=channel.id, article=article.command,
                                                  message_id=sent.id, content_hash=digest,
                                                  pinned_at=self._clock()))
            raise
        return PinOutcome("reposted" if record is not None else "posted", sent)

    @contextlib.asynccontextmanager
    async def _exclusive(self, channel: Any, article: Article) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(
                    self._store.exclusive("pin", channel.guild.id, channel.id, article.command))
            except StorageError as exc:
                refuse_if_unreachable(exc)
                log.error("pin lock not taken (channel=%s article=%s): %s", channel.id, article.command, exc)
                raise NotSaved("The database could not be reached, so nothing was pinned or changed. "
                               "Please try again in a moment.") from exc
            yield

    async def _take_down(self, sent: discord.Message, record: PinRecord) -> None:
        """Delete a summary we could not finish pinning. If Discord refuses that too, the message
        is recorded instead, so the next ``pin`` refreshes and pins *it* rather than posting a
        second one beside it."""
        try:
            if sent.pinned:
                await sent.unpin()
            await sent.delete()
            return
        except discord.NotFound:
            return
        except discord.HTTPException as exc:
            log.warning("could not take down the unfinished summary %s in channel %s (%s %s); recording it so the "
                        "next pin reuses it", sent.id, record.channel_id, exc.status, exc.code)
        try:
            await self._store.save_pin(record)
        except StorageError as exc:
            log.error("the unfinished summary %s in channel %s could neither be deleted nor recorded (%s); "
                      "the next pin may post a second one", sent.id, record.channel_id, exc)

    async def _save(self, record: PinRecord, *, failed: str) -> None:
        try:
            await self._store.save_pin(record)
        except StorageError as exc:
            log.error("pin record not saved (guild=%s channel=%s article=%s): %s", record.guild_id,
                      record.channel_id, record.article, exc, exc_info=exc)
            raise NotSaved(failed) from exc

    async def record(self, guild_id: int, channel_id: int, article: str) -> PinRecord | None:
        """The pinned summary's record here, if any (a meeting opens its thread on that message)."""
        return await self._store.get_pin(guild_id, channel_id, article)

    async def unpin(self, channel: Any, article: Article, *, permissions: discord.Permissions) -> bool:
        """Unpin and delete this channel's pinned summary; ``False`` if the message was already gone."""
        async with self._locks("pin", channel.id, article.command), self._exclusive(channel, article):
            return await self._unpin(channel, article, permissions=permissions)

    async def _unpin(self, channel: Any, article: Article, *, permissions: discord.Permissions) -> bool:
        guild_id: int = channel.guild.id
        record = await self._store.get_pin(guild_id, channel.id, article.command)
        if record is None:
            raise NotFound(f"There is no pinned summary of *{article.title}* in this channel.")
        require_permissions(permissions, [VIEW, HISTORY, PIN], channel=channel, doing="unpin the summary")
        message = await _fetch(channel, record.message_id)
        if message is not None:
            if message.pinned:
                await _step(message.unpin(reason=f"Unpinned summary of {article.command}"), PIN, channel=channel,
                            doing="unpin the summary")
            with contextlib.suppress(discord.NotFound):
                await message.delete()
        try:
            await self._store.delete_pin(guild_id, channel.id, article.command)
        except StorageError as exc:
            raise NotSaved("The summary was taken down, but the database could not forget it; "
                           "run `unpin` again in a moment.") from exc
        return message is not None
