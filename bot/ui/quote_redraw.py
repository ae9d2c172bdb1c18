"""Redrawing the bot's messages that quote takes, after a take they show was edited or deleted
(see :mod:`bot.quotes` for when and why).

Each kind of message has its redrawer: it gets the message and the takes it still quotes (those
deleted since are gone) and redraws it from them as the server's rules are now, or deletes it
when nothing is left. It returns whether the message still quotes takes. A kind without a
redrawer here is deleted outright: erasure comes first. A feature that posts takes (a digest…)
adds its kind to :data:`REDRAWERS` and calls ``services.quotes.remember(message, take_ids, kind)``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import discord

from bot import quotes
from bot.errors import NotFound
from bot.services import ServiceHost
from bot.storage import QuoteRedraw, Take
from bot.ui import meeting_render, rendering
from bot.ui.take_pager import WITHDRAWN

log = logging.getLogger("bot.quotes")

#: The footer of a list redrawn because a take on it (or the server's rules) changed: its page
#: may now show fewer takes.
REDRAWN_FOOTER = "This page changed since it was posted · turn the page to see the list as it is now"

#: Edits of a message not sent through the client's defaults must say so themselves: nothing pings.
NO_PINGS = discord.AllowedMentions.none()

Redrawer = Callable[[ServiceHost, discord.PartialMessage, QuoteRedraw, list[Take]], Awaitable[bool]]


async def delete_message(host: ServiceHost, message: discord.PartialMessage, redraw: QuoteRedraw,
                         takes: list[Take]) -> bool:
    await message.delete()
    return False


async def redraw_show(host: ServiceHost, message: discord.PartialMessage, redraw: QuoteRedraw,
                      takes: list[Take]) -> bool:
    """A ``show`` card: the take as it reads now, or no card once it is gone."""
    article = host.articles.get(takes[0].article) if takes else None
    if not takes or article is None:
        return await delete_message(host, message, redraw, takes)
    anonymous = await host.services.takes.anonymous(takes[0].guild_id)
    await message.edit(embed=rendering.take_embed(takes[0], article, show_name=not anonymous),
                       allowed_mentions=NO_PINGS)
    return True


async def redraw_listing(host: ServiceHost, message: discord.PartialMessage, redraw: QuoteRedraw,
                         takes: list[Take]) -> bool:
    """A page of a list: the takes it still shows, named as the server's rules are now. A list of
    one member's takes in a server that has since gone anonymous is withdrawn; an empty one goes."""
    if not takes:
        return await delete_message(host, message, redraw, takes)
    shown = await message.fetch()
    in_server = await _in_server(host, redraw.channel_id)
    anonymous = await host.services.takes.anonymous(takes[0].guild_id)
    if in_server and anonymous and redraw.kind not in {quotes.listing_kind("all"), quotes.listing_kind("top")}:
        await message.edit(content=WITHDRAWN, embed=None, view=None, allowed_mentions=NO_PINGS)
        return False
    title = shown.embeds[0].title if shown.embeds and shown.embeds[0].title else "Takes"
    newest_first = sorted(takes, key=lambda take: take.id, reverse=True)
    embed = rendering.takes_page(title, newest_first, page=0, total=len(takes),
                                 show_names=not (in_server and anonymous))
    embed.set_footer(text=REDRAWN_FOOTER)
    # The pager stays: its next press draws the list as it is now.
    await message.edit(embed=embed, allowed_mentions=NO_PINGS)
    return True


async def redraw_digest(host: ServiceHost, message: discord.PartialMessage, redraw: QuoteRedraw,
                        takes: list[Take]) -> bool:
    """A meeting's digest, counted again from the takes that are left: an erased take is no longer
    counted, named or quoted. A digest whose meeting or article is gone is deleted."""
    meeting_id = quotes.digest_meeting_id(redraw.kind)
    meeting = None
    if meeting_id is not None and redraw.guild_id is not None:
        with contextlib.suppress(NotFound):
            meeting = await host.services.meetings.get(redraw.guild_id, meeting_id)
    article = host.articles.get(meeting.article) if meeting is not None else None
    if meeting is None or article is None:
        return await delete_message(host, message, redraw, takes)
    digest = await host.services.meetings.digest(meeting, article)
    anonymous = await host.services.takes.anonymous(meeting.guild_id)
    await message.edit(embed=meeting_render.digest_embed(digest, article, anonymous=anonymous),
                       allowed_mentions=NO_PINGS)
    return bool(digest.quoted_take_ids)


#: How each kind of message is redrawn (``listing-…`` and ``digest-…`` kinds share one each).
REDRAWERS: dict[str, Redrawer] = {
    quotes.SHOW: redraw_show,
    quotes.LISTING: redraw_listing,
    quotes.DIGEST: redraw_digest,
}


async def still_quoted(host: ServiceHost, redraw: QuoteRedraw) -> list[Take]:
    if redraw.guild_id is None:
        return []
    found = []
    for take_id in await host.services.quotes.quoted(redraw.message_id):
        try:
            found.append(await host.services.takes.find(redraw.guild_id, take_id))
        except NotFound:
            continue
    return found


async def redraw_quoting_message(client: discord.Client, redraw: QuoteRedraw) -> bool:
    """Redraw (or delete) one queued message; whether it must be tried again later. One gone, or
    no longer ours to edit, is forgotten quietly; one Discord refuses to redraw is deleted; one
    Discord could not reach stays queued."""
    host = cast(ServiceHost, client)
    service = host.services.quotes
    redrawer = REDRAWERS.get(redraw.kind.split("-", 1)[0], delete_message)
    message = client.get_partial_messageable(redraw.channel_id).get_partial_message(redraw.message_id)
    try:
        still = await redrawer(host, message, redraw, await still_quoted(host, redraw))
    except (discord.NotFound, discord.Forbidden):
        await service.forget(redraw.message_id)
        return False
    except discord.HTTPException as error:
        if error.status >= 500 or error.status == 429:
            return await service.failed(redraw)
        log.warning("Discord refused to redraw message %s (%s); deleting it instead", redraw.message_id, error.status)
        await _delete_quietly(message)
        await service.forget(redraw.message_id)
        return False
    if still:
        await service.done(redraw.message_id)
    else:
        await service.forget(redraw.message_id)
    return False


async def _in_server(host: ServiceHost, channel_id: int) -> bool:
    """Whether a channel is a server's (where anonymity applies) rather than a DM. When Discord
    cannot say, it is taken for a server's: names are then hidden, never shown by mistake."""
    client = cast(discord.Client, host)
    channel = client.get_channel(channel_id)
    if channel is None:
        try:
            channel = await client.fetch_channel(channel_id)
        except discord.HTTPException:
            return True
    return not isinstance(channel, discord.DMChannel | discord.GroupChannel)


async def _delete_quietly(message: Any) -> None:
    try:
        await message.delete()
    except discord.HTTPException:
        log.warning("could not delete message %s either; forgetting it", message.id)
