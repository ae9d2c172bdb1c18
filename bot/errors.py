"""The refusals members can cause, and the one place unexpected errors become an id.

A :class:`UserError` is a refusal with a message written for the member; it is answered briefly
(ephemeral on slash) and never logged as a failure. These are the core's own types: they know
nothing of discord.py, and the command layer maps them to discord.py's errors at the edge
(:mod:`bot.commands`). Anything else is logged with its context and a short id the member can
quote to a moderator or the operator (:func:`report_unexpected`).
"""

from __future__ import annotations

import logging
import os
import random

from bot.request_ids import current_request_id
from bot.storage.base import DatabaseUnreachable

log = logging.getLogger("bot.errors")

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
#: Request and error ids are labels to find log lines by, not secrets: drawn from a generator
#: seeded from the system's randomness (again in a forked child, so processes never share a run
#: of ids), which costs a fraction of a read of the system's randomness for every message.
_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)


class UserError(Exception):
    """A refusal the member can act on; ``str(error)`` is shown to them as it is."""


class NotFound(UserError):
    pass


class NotAllowed(UserError):
    pass


class GuildOnly(UserError):
    pass


class TakeRejected(UserError):
    """A take that failed validation (empty, too long, duplicate, cooldown, wrong channel)."""


class TooSoon(TakeRejected):
    """The member just saved a take (this same text, or within the cooldown): a burst of messages
    is answered once, not once per message."""


class NotSaved(UserError):
    """The database refused a write: the member must know their words were *not* kept."""


class DatabaseUnavailable(UserError):
    """The database server cannot be reached: an outage, said plainly (the operator's log has it once)."""

    WRITING = "The database is unreachable right now; nothing was saved, try again in a minute."
    READING = "The database is unreachable right now; nothing could be read, try again in a minute."


def refuse_if_unreachable(error: BaseException) -> None:
    """Inside ``except StorageError``: an outage (logged once by the store) becomes the plain
    :class:`DatabaseUnavailable` refusal, with nothing more logged; anything else falls through."""
    if isinstance(error, DatabaseUnreachable):
        raise DatabaseUnavailable(DatabaseUnavailable.WRITING) from error


class BotMissingPermission(UserError):
    """The bot lacks a Discord permission it needs here; the message names it."""


class PinLimitReached(UserError):
    """The channel already holds Discord's maximum of pinned messages."""


def new_error_id() -> str:
    # 30 random bits, six letters of 32 (5 bits each).
    n = _ids.getrandbits(30)
    a = _ALPHABET
    return f"E-{a[n >> 25]}{a[n >> 20 & 31]}{a[n >> 15 & 31]}{a[n >> 10 & 31]}{a[n >> 5 & 31]}{a[n & 31]}"


def report_unexpected(error: BaseException, *, where: str, context: dict[str, object]) -> str:
    """Log an unexpected error with its context and return the id shown to the member: the id
    of the request being handled, so every log line of it can be found by the same id."""
    error_id = current_request_id() or new_error_id()
    details = " ".join(f"{k}={v}" for k, v in context.items() if v is not None)
    log.error("unexpected error %s in %s (%s)", error_id, where, details, exc_info=error)
    return error_id


def unexpected_message(error_id: str) -> str:
    return (
        f"Something went wrong on our side. If it keeps happening, "
        f"tell a moderator or the bot's operator the error id `{error_id}`."
    )
