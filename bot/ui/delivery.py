"""Answers that must reach the member, whatever Discord answers us: "your take was saved".

Once a take is committed, a failed reply must not leave the member thinking it was lost (nor
make them send it again). Each answer tries the best route still open, and never saves anything:

* an interaction (slash command, form): the callback once more when Discord failed on its side
  (5xx, 429), since only one callback per interaction can ever succeed, a retry can never show
  the answer twice (Discord refuses a second one with 40060, which means the first arrived); a
  follow-up once the interaction was acknowledged; otherwise a DM;
* a prefix command: the reply, then, if Discord failed, a ✅ reaction on the member's message (a
  reaction is idempotent, it cannot appear twice) and the full answer by DM;
* a reply-take: the ✅ reaction, then a reply, then a DM.

Each failure is logged once, as one warning line with an id, not a traceback: it is Discord's
trouble, not ours, and the member did get their answer another way.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.errors import new_error_id

log = logging.getLogger("bot.delivery")

SAVED_REACTION = "✅"
#: Discord's code for a second callback to one interaction: the first one arrived.
ALREADY_ACKNOWLEDGED = 40060


def _retryable(error: discord.HTTPException) -> bool:
    """Discord failed on its side or asked us to slow down: the same call may well work now."""
    return error.status >= 500 or error.status == 429


def _describe(error: BaseException) -> str:
    if isinstance(error, discord.HTTPException):
        return f"{error.status} (code {error.code})"
    return type(error).__name__


def _warn(what: str, error: BaseException, delivered: str, context: dict[str, Any]) -> None:
    details = " ".join(f"{k}={v}" for k, v in context.items() if v is not None)
    log.warning("%s %s failed with %s (%s); %s", new_error_id(), what, _describe(error), details, delivered)


async def _dm(user: Any, content: str, where: str) -> bool:
    try:
        await user.send(f"{content}\n-# Discord failed to deliver my answer {where}, so I'm telling you here.")
    except discord.HTTPException:
        return False
    return True


async def confirm_interaction(interaction: discord.Interaction[Any], content: str, **kwargs: Any) -> str:
    """Answer an interaction privately; returns how it was delivered (``answer``, ``dm`` or ``lost``)."""
    failure: discord.HTTPException | None = None
    for _ in range(2):
        try:
            if interaction.response.is_done():
                await interaction.followup.send(content, ephemeral=True, **kwargs)
            else:
                await interaction.response.send_message(content, ephemeral=True, **kwargs)
        except discord.HTTPException as error:
            if error.code == ALREADY_ACKNOWLEDGED:
                delivered = "the first answer had arrived"
                _warn("interaction answer", failure or error, delivered, {"interaction": interaction.id})
                return "answer"
            failure = failure or error
            if not _retryable(error):
                break
            continue
        if failure is not None:
            _warn("interaction answer", failure, "answered on the retry", {"interaction": interaction.id})
        return "answer"
    assert failure is not None
    sent = await _dm(interaction.user, content, "here")
    _warn("interaction answer", failure, "answered by DM" if sent else "the member could not be told",
          {"interaction": interaction.id, "user": interaction.user.id})
    return "dm" if sent else "lost"


async def confirm_command(ctx: Any, content: str) -> str:
    """Answer the member who ran a command (see :meth:`bot.context.Context.reply_private`), making
    sure they hear it even when Discord fails the reply."""
    if ctx.interaction is not None:
        return await confirm_interaction(ctx.interaction, content)
    try:
        await ctx.reply_private(content)
        return "answer"
    except discord.HTTPException as error:
        failure: discord.HTTPException = error
    reacted = await _react(ctx.message)
    where = f"in {getattr(ctx.channel, 'mention', 'the channel')}"
    sent = await _dm(ctx.author, content, where)
    delivered = "answered by DM" if sent else "reacted ✅" if reacted else "the member could not be told"
    _warn("command reply", failure, delivered, {"channel": ctx.channel.id, "user": ctx.author.id})
    return "dm" if sent else "reaction" if reacted else "lost"


async def _react(message: discord.Message) -> bool:
    try:
        await message.add_reaction(SAVED_REACTION)
    except discord.HTTPException:
        return False
    return True


async def confirm_reply_take(message: discord.Message, content: str) -> str:
    """A reply to the summary was saved as a take: ✅ on it, else a reply, else a DM."""
    if await _react(message):
        return "reaction"
    return await tell_reply_author(message, content)


async def tell_reply_author(message: discord.Message, content: str) -> str:
    """Answer the author of a reply-take (saved, or why not): a reply to it, else a DM."""
    try:
        await message.reply(content, mention_author=False)
        return "answer"
    except discord.HTTPException as error:
        failure: discord.HTTPException = error
    where = f"in {getattr(message.channel, 'mention', 'the channel')}"
    sent = await _dm(message.author, content, where)
    _warn("reply-take refusal", failure, "answered by DM" if sent else "the member could not be told",
          {"channel": message.channel.id, "user": message.author.id})
    return "dm" if sent else "lost"
