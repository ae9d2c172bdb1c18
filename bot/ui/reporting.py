"""The one error pipeline: commands, buttons, menus and forms all end here.

A core refusal (:class:`~bot.errors.UserError`) is answered with its own message; discord.py's
argument and check errors get a short answer of ours; anything else is logged with context and
answered with an id the member can quote. The command layer wraps core refusals raised in
checks as :class:`Refused`, discord.py's own type, so the framework dispatches them as errors.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import DatabaseUnavailable, UserError, report_unexpected, unexpected_message
from bot.storage import DatabaseUnreachable

log = logging.getLogger("bot.errors")


class Refused(commands.CommandError):
    """A core refusal raised by a command, as discord.py's own error type: the framework then
    dispatches it as it is (not wrapped), on the prefix and the slash path alike."""

    def __init__(self, original: UserError) -> None:
        super().__init__(str(original))
        self.original = original


class RefusedCheck(commands.CheckFailure):
    """A core refusal raised by a check (a command's or a cog's ``cog_check``)."""

    def __init__(self, original: UserError) -> None:
        super().__init__(str(original))
        self.original = original


def _unwrap(error: BaseException) -> BaseException:
    """The error a member caused, out of the wrappers discord.py puts around it."""
    while True:
        inner = getattr(error, "original", None)
        if isinstance(error, (commands.HybridCommandError, commands.CommandInvokeError, Refused, RefusedCheck,
                              app_commands.CommandInvokeError)) and isinstance(inner, BaseException):
            error = inner
            continue
        cause = error.__cause__
        if isinstance(error, commands.CheckFailure) and isinstance(cause, UserError):
            return cause
        return error


def _param_name(error: commands.MissingRequiredArgument) -> str:
    return error.param.displayed_name or error.param.name


def user_message(error: BaseException, *, usage: str | None = None) -> str | None:
    """The short answer for an error a member caused, or ``None`` if it is unexpected."""
    error = _unwrap(error)
    if isinstance(error, DatabaseUnreachable):  # an outage, logged once by the store: said plainly
        return DatabaseUnavailable.READING
    if isinstance(error, UserError):
        return str(error)
    hint = f" Usage: `{usage}`" if usage else ""
    if isinstance(error, commands.MissingRequiredArgument):
        return f"Missing `{_param_name(error)}`.{hint}"
    if isinstance(error, commands.TooManyArguments):
        return f"That is more than this command takes.{hint}"
    if isinstance(error, (commands.MemberNotFound, commands.UserNotFound)):
        return "I could not find that member in this server. Mention them or use their id."
    if isinstance(error, commands.BadArgument):
        return f"I could not read that: {error}{hint}"
    if isinstance(error, commands.ArgumentParsingError):
        return f"I could not read that (check the quotes).{hint}"
    if isinstance(error, commands.NoPrivateMessage):
        return "This works in a server channel, not in DMs."
    if isinstance(error, commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} s."
    if isinstance(error, commands.MaxConcurrencyReached):
        return "That is already running; try again in a moment."
    if isinstance(error, commands.NotOwner):
        return "Only the bot's owner can do that."
    if isinstance(error, commands.BotMissingPermissions):
        missing = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"I am missing a permission here: {missing}. Ask a moderator to grant it."
    if isinstance(error, commands.MissingPermissions):
        missing = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"You need {missing} for that."
    if isinstance(error, commands.CheckFailure):
        return "You can't use that command here."
    if isinstance(error, commands.DisabledCommand):
        return "That command is switched off."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that command here."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.TransformerError):
        return f"I could not read `{error.value}`."
    return None


#: Discord's code for an interaction that can no longer be answered: late (after its 3 seconds,
#: or 15 minutes for follow-ups) or already answered (a duplicate delivery).
UNKNOWN_INTERACTION = 10062


def expired_interaction(error: BaseException, *, where: str) -> bool:
    """An interaction Discord no longer takes answers for: one WARNING line (nobody can be told,
    and it is not a bug of ours), and True so the caller answers nothing."""
    error = _unwrap(error)
    if not (isinstance(error, discord.NotFound) and error.code == UNKNOWN_INTERACTION):
        return False
    log.warning("an interaction in %s came too late or twice (Discord: Unknown interaction); it was not answered",
                where)
    return True


def unexpected_answer(error: BaseException, *, where: str, context: dict[str, object]) -> str:
    """Log an error no member caused and return the answer with its id."""
    return unexpected_message(report_unexpected(_unwrap(error), where=where, context=context))


async def answer_interaction(interaction: discord.Interaction[Any], message: str) -> None:
    """Answer privately whether or not the interaction was already acknowledged."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell the member about an error (interaction %s)", interaction.id)


async def handle_interaction_error(interaction: discord.Interaction[Any], error: BaseException, *,
                                   where: str) -> None:
    """Answer an error in a slash command, button, menu or form."""
    if expired_interaction(error, where=where):
        return
    message = user_message(error)
    if message is None:
        message = unexpected_answer(error, where=where, context={
            "guild": interaction.guild_id,
            "channel": interaction.channel_id,
            "user": interaction.user.id if interaction.user else None,
        })
    await answer_interaction(interaction, message)
