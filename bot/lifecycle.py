"""Where each request starts and how the bot stops: request ids, in-flight work, draining.

Every message and interaction Discord delivers enters through discord.py's gateway parser for
it; the handlers, command invocations, button callbacks and error handlers it starts are tasks
created right there. :class:`EventGate` wraps those two parsers, so that

* each request gets one id (:data:`bot.logs.request_id`), inherited by every task it starts
  (asyncio copies the context into a task when it is created): the log lines of one command and
  the error id its member is shown are the same;
* the tasks each request starts are known, so a stopping bot can let them finish (bounded)
  before it closes the connection and the database;
* once stopping, new messages and interactions are not taken any more.

Every parser is also guarded: a payload discord.py cannot read (a Discord-compatible server's DM
``MESSAGE_CREATE`` with ``guild_id: null``, a field renamed upstream) would otherwise end the
gateway connection, and the process with it. It is logged once per event type, and skipped.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

import aiohttp
import discord
from discord import app_commands

from bot.errors import new_error_id
from bot.logs import describe_network_error
from bot.request_ids import request_id

log = logging.getLogger("bot.lifecycle")

F = TypeVar("F", bound=Callable[..., Coroutine[Any, Any, Any]])

GATED_EVENTS = ("MESSAGE_CREATE", "INTERACTION_CREATE")


class EventGate:
    def __init__(self, client: Any) -> None:
        self.accepting = True
        self.in_flight: set[asyncio.Task[Any]] = set()
        parsers: dict[str, Callable[[Any], Any]] | None = getattr(getattr(client, "_connection", None),
                                                                    "parsers", None)
        if parsers is None:  # a discord.py without the parser table: ids and draining are off
            log.warning("cannot hook discord.py's event parsers; request ids and graceful stop are off")
            return
        self.unreadable: dict[str, int] = {}
        for event, parse in list(parsers.items()):
            parsers[event] = self._guard(event, parse)
        for event in GATED_EVENTS:
            if event in parsers:
                parsers[event] = self._wrap(parsers[event])

    def _guard(self, event: str, parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def guarded(data: Any) -> Any:
            try:
                return parse(data)
            except Exception as exc:  # a payload discord.py cannot read: skip it, keep the connection
                self.unreadable[event] = self.unreadable.get(event, 0) + 1
                if self.unreadable[event] == 1:
                    log.warning("skipped a %s event discord.py could not read (%s: %s); later ones of this type "
                                "are skipped without a word", event, type(exc).__name__, exc)
                return None

        return guarded

    def _wrap(self, parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def gated(data: Any) -> Any:
            if not self.accepting:
                return None
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no running loop: nothing can be spawned either
                loop = None
            # The tasks the parser starts are the request's: a task factory set for the length of
            # the (synchronous) parse sees each one as it is created. (Comparing ``all_tasks()``
            # before and after costs a walk of every task alive, twice per message.)
            spawned: list[asyncio.Task[Any]] = []
            previous = None
            if loop is not None:
                previous = loop.get_task_factory()
                loop.set_task_factory(functools.partial(_recording_factory, previous, spawned))
            token = request_id.set(new_error_id())
            try:
                return parse(data)
            finally:
                request_id.reset(token)
                if loop is not None:
                    loop.set_task_factory(previous)
                self._track(spawned)

        return gated

    def _track(self, spawned: list[asyncio.Task[Any]]) -> None:
        for task in spawned:
            if task not in self.in_flight and not task.done():
                self.in_flight.add(task)
                task.add_done_callback(self.in_flight.discard)

    async def drain(self, limit: float) -> bool:
        """Stop taking requests and wait up to ``limit`` seconds for the ones in progress.

        Returns whether everything finished in time (what did not is cancelled by the close)."""
        self.accepting = False
        current = asyncio.current_task()
        deadline = time.monotonic() + limit
        while True:
            pending = {t for t in self.in_flight if t is not current and not t.done()}
            if not pending:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.warning("%d request(s) still running after %.0f s; stopping anyway", len(pending), limit)
                return False
            log.info("waiting for %d request(s) in progress", len(pending))
            await asyncio.wait(pending, timeout=remaining)


#: The attribute :func:`listens_when` sets on a listener: which events it wants.
WANTS = "__listens_when__"


def listens_when(wants: Callable[..., bool]) -> Callable[[F], F]:
    """A listener that only acts on the events ``wants(cog, *event_args)`` accepts (a cheap,
    synchronous test). The bot asks it before it starts a task for the listener (see
    :func:`wanted`): most messages concern no listener, and a bare bot starts no task for them.
    The listener checks it again when called, so calling it directly behaves the same."""

    def decorator(func: F) -> F:
        @functools.wraps(func)
        async def listener(self: Any, *args: Any, **kwargs: Any) -> Any:
            if wants(self, *args, **kwargs):
                return await func(self, *args, **kwargs)
            return None

        setattr(listener, WANTS, wants)
        return cast(F, listener)

    return decorator


def wanted(listener: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether an event should start a task for ``listener`` (a bound method or function)."""
    wants = getattr(listener, WANTS, None)
    if wants is None:
        return True
    owner = getattr(listener, "__self__", None)
    return bool(wants(owner, *args, **kwargs) if owner is not None else wants(*args, **kwargs))


def _recording_factory(previous: Any, spawned: list[asyncio.Task[Any]], loop: asyncio.AbstractEventLoop,
                       coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
    """A task factory that makes tasks as ``previous`` (or the loop) would and notes each one."""
    task: asyncio.Task[Any] = (previous(loop, coro, **kwargs) if previous is not None
                               else asyncio.Task(coro, loop=loop, **kwargs))
    spawned.append(task)
    return task


def sync_failure_message(error: BaseException, dev_guild_id: int | None) -> str | None:
    """One log line for a slash-command sync Discord refused or could not be reached for, saying
    what to check; ``None`` for anything else (a bug, to be raised)."""
    where = f"to the server DEV_GUILD_ID={dev_guild_id}" if dev_guild_id is not None else "globally"
    after = "prefix commands keep working; fix it and restart, or run !sync force"
    if isinstance(error, (OSError, aiohttp.ClientError, asyncio.TimeoutError)):
        return (f"could not reach Discord to sync slash commands ({describe_network_error(error)}); they will be "
                "synced at the next start, or run !sync")
    if not isinstance(error, discord.HTTPException):
        return None
    said = f"{error.status} {error.text}".strip() if error.text else str(error.status)
    if isinstance(error, app_commands.CommandSyncFailure) or error.status == 400:
        check = ("Discord rejected a command's definition (names, descriptions, options); "
                 "run python -m bot check and see the details above")
    elif error.status in (401, 403):
        check = ("check that the bot is in that server and was invited with the applications.commands scope "
                 "(python -m bot invite prints such an invite), or unset DEV_GUILD_ID"
                 if dev_guild_id is not None else
                 "check that DISCORD_TOKEN belongs to this application")
    else:
        check = "Discord may be having an outage"
    return f"Discord refused to sync slash commands {where} ({said}): {check}; {after}"
