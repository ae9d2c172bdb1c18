"""The bot's own messages that quote takes, so that erasure reaches them.

A takes listing or a ``show`` card posted in a channel repeats a member's words and name for
every reader, for as long as Discord keeps the message. Deleting the take (by its author, a
moderator, ``forgetme`` or retention) must take those copies too, and an edit must reach them.

So whoever posts such a message tells :meth:`QuoteService.remember` which takes it shows. The
database does the rest in the transaction that deletes or edits a take (the V5 triggers): the
message is queued in ``quote_redraws`` and the take's own rows go with it. Whoever deleted or
edited calls :meth:`QuoteService.wake`, and the background round in ``cogs.takes`` (drawing with
``bot.ui.quote_redraw``) works through the queue within seconds, redrawing each message from what
it still quotes or deleting it when nothing is left; a message it can no longer edit (deleted,
or the bot lost access) is forgotten quietly, one Discord could not reach is tried again 30 s
later. The queue is a table, so a restart loses no work: each start begins with a round. Any
process of a sharded bot may take from it (a redraw done twice is harmless).

What this cannot reach: copies members made (quotes, screenshots, exports moderators downloaded)
and Discord's own caches and notifications. Answers only their reader sees (ephemeral) are not
remembered: no one else sees them and Discord lets the bot edit them only for 15 minutes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from bot.clock import Clock
from bot.storage import QuoteRedraw, StorageError, Store

log = logging.getLogger("bot.quotes")

#: How a message quotes takes; what redrawing it means is in ``bot.ui.quote_redraw``.
SHOW = "show"
#: A page of a list: ``listing-all``, ``listing-member`` (one member's), ``listing-mine`` (the reader's own),
#: ``listing-top`` (the most agreed first).
LISTING = "listing"
#: A meeting's digest, ``digest-<meeting id>``: it counts, names and quotes the meeting's takes.
DIGEST = "digest"
#: A redraw that failed this many times (Discord unavailable, rate limits) is given up and the
#: message forgotten (logged). Failed ones wait behind the others, so one cannot hold the queue.
MAX_ATTEMPTS = 30


def listing_kind(list_kind: str) -> str:
    return f"{LISTING}-{list_kind}"


def digest_kind(meeting_id: int) -> str:
    return f"{DIGEST}-{meeting_id}"


def digest_meeting_id(kind: str) -> int | None:
    """The meeting a ``digest-<id>`` kind names (``None`` for any other kind)."""
    prefix, _, rest = kind.partition("-")
    return int(rest) if prefix == DIGEST and rest.isdigit() else None


class QuoteService:
    """Remembers which bot messages quote which takes, and hands out the ones to redraw."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        #: Called by :meth:`wake`: the redraw loop's owner (``cogs.takes``) sets it.
        self.on_wake: Callable[[], None] | None = None

    async def remember(self, message: Any, take_ids: Sequence[int], kind: str, *, guild_id: int | None = None) -> None:
        """``message`` (a sent ``discord.Message``) now shows exactly ``take_ids``, as ``kind``.

        ``guild_id`` is the server of the quoted takes; by default the message's own (give it for
        a DM). An ephemeral message is not remembered. A failure to remember is logged, not
        raised: the member's command worked, and the listing must not fail because of this."""
        flags = getattr(message, "flags", None)
        if message is None or (flags is not None and flags.ephemeral):
            return
        guild = getattr(message, "guild", None)
        if guild_id is None and guild is not None:
            guild_id = guild.id
        try:
            await self._store.remember_quotes(guild_id, message.channel.id, message.id, take_ids, kind, self._clock())
        except StorageError as exc:
            log.error("could not remember that message %s quotes takes %s: %s", message.id, list(take_ids), exc)

    async def forget(self, message_id: int) -> None:
        """The message is gone (or no longer shows takes): nothing to redraw there any more."""
        await self._store.forget_message(message_id)

    async def redraw_guild(self, guild_id: int) -> None:
        """The server changed how takes are shown (anonymous lists on): every message of the bot
        that quotes its takes is redrawn by the new rule, so none still names an author."""
        if await self._store.queue_guild_redraws(guild_id):
            self.wake()

    def wake(self) -> None:
        """Takes were just deleted or edited here: redraw now rather than at the next interval."""
        if self.on_wake is not None:
            self.on_wake()

    async def due(self, *, limit: int = 50) -> list[QuoteRedraw]:
        return await self._store.pending_redraws(limit=limit)

    async def quoted(self, message_id: int) -> list[int]:
        return await self._store.quoted_take_ids(message_id)

    async def done(self, message_id: int) -> None:
        await self._store.finish_redraw(message_id)

    async def failed(self, redraw: QuoteRedraw) -> bool:
        """Discord could not be reached: try again later, up to :data:`MAX_ATTEMPTS` times;
        whether it will be tried again."""
        if redraw.attempts + 1 >= MAX_ATTEMPTS:
            log.warning("giving up redrawing message %s in channel %s after %d tries; forgetting it",
                        redraw.message_id, redraw.channel_id, MAX_ATTEMPTS)
            await self.forget(redraw.message_id)
            return False
        await self._store.retry_redraw(redraw.message_id)
        return True
