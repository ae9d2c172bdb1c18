"""Errors members can cause, and the one place unexpected errors are turned into an id.

A :class:`UserError` is a refusal with a message written for the member; it is answered briefly
(ephemeral on slash) and never logged as a failure. Anything else is logged with context and a
short id the member can quote to a moderator or the operator.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from discord.ext import commands

log = logging.getLogger("bot.errors")

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


class UserError(commands.CommandError):
    """A refusal the member can act on; ``str(error)`` is shown to them as it is."""


class NotFound(UserError):
    pass


class NotAllowed(UserError):
    pass


class GuildOnly(UserError):
    pass


class TakeRejected(UserError):
    """A take that failed validation (empty, too long, duplicate, cooldown, wrong channel)."""


class NotSaved(UserError):
    """The database refused a write: the member must know their words were *not* kept."""


def new_error_id() -> str:
    return "E-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))


def report_unexpected(error: BaseException, *, where: str, context: dict[str, object]) -> str:
    """Log an unexpected error with its context and return the id shown to the member: the id
    of the request being handled, so every log line of it can be found by the same id."""
    from bot.logs import current_request_id

    error_id = current_request_id() or new_error_id()
    details = " ".join(f"{k}={v}" for k, v in context.items() if v is not None)
    log.error("unexpected error %s in %s (%s)", error_id, where, details, exc_info=error)
    return error_id


def unexpected_message(error_id: str) -> str:
    return (
        f"Something went wrong on our side. If it keeps happening, "
        f"tell a moderator or the bot's operator the error id `{error_id}`."
    )


def _param_name(error: commands.MissingRequiredArgument) -> str:
    return error.param.displayed_name or error.param.name


def user_message(error: BaseException, *, usage: str | None = None) -> str | None:
    """The short answer for an error a member caused, or ``None`` if it is unexpected."""
    from discord import app_commands

    if isinstance(error, (commands.HybridCommandError, commands.CommandInvokeError)) and isinstance(
        error.original, UserError
    ):
        error = error.original
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


async def answer_interaction(interaction: Any, message: str) -> None:
    """Answer privately whether or not the interaction was already acknowledged."""
    import discord

    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell the member about an error (interaction %s)", interaction.id)


async def handle_interaction_error(interaction: Any, error: BaseException, *, where: str) -> None:
    """The one path for errors in slash commands, buttons, selects and modals."""
    message = user_message(error)
    if message is None:
        original = getattr(error, "original", error)
        error_id = report_unexpected(original, where=where, context={
            "guild": getattr(interaction, "guild_id", None),
            "channel": getattr(interaction, "channel_id", None),
            "user": getattr(getattr(interaction, "user", None), "id", None),
        })
        message = unexpected_message(error_id)
    await answer_interaction(interaction, message)


class BotMissingPermission(UserError):
    """The bot lacks a Discord permission it needs here; the message names it."""


class PinLimitReached(UserError):
    """The channel already holds Discord's maximum of pinned messages."""
