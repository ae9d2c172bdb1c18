"""Where each request starts and how the bot stops: request ids, in-flight work, draining.

Every message and interaction Discord delivers enters through discord.py's gateway parser for
it; the handlers, command invocations, button callbacks and error handlers it starts are tasks
created right there. :class:`EventGate` wraps those two parsers, so that

* each request that starts any work gets one id (:data:`bot.logs.request_id`), inherited by
  every task it starts (asyncio copies the context into a task when it is created): the log
  lines of one command and the error id its member is shown are the same;
* the tasks each request starts are known, so a stopping bot can let them finish (bounded)
  before it closes the connection and the database;
* once stopping, new messages and interactions are not taken any more.

Every parser is also guarded: a payload discord.py cannot read (a Discord-compatible server's DM
``MESSAGE_CREATE`` with ``guild_id: null``, a field renamed upstream) would otherwise end the
gateway connection, and the process with it. It is logged once per event type, and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
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

#: The requests: a message, whose tasks discord.py starts in ``Client._schedule_event`` (the bot
#: hands them to :meth:`EventGate.spawn`), and an interaction, whose tasks the command tree and
#: the view store also start themselves (a task factory sees them, see :class:`_Request`).
GATED_EVENTS = {"MESSAGE_CREATE": False, "INTERACTION_CREATE": True}
#: How many tracked tasks (finished ones included) the gate holds before its first sweep.
SWEEP_FROM = 256


class EventGate:
    def __init__(self, client: Any) -> None:
        self.accepting = True
        #: The requests' tasks, some perhaps finished (see :meth:`_track`).
        self.in_flight: set[asyncio.Task[Any]] = set()
        self._sweep_at = SWEEP_FROM
        #: The request whose event is being parsed (parsing is synchronous: one at a time).
        self._current: _Request | None = None
        parsers: dict[str, Callable[[Any], Any]] | None = getattr(getattr(client, "_connection", None),
                                                                    "parsers", None)
        if parsers is None:  # a discord.py without the parser table: ids and draining are off
            log.warning("cannot hook discord.py's event parsers; request ids and graceful stop are off")
            return
        self.unreadable: dict[str, int] = {}
        for event, parse in list(parsers.items()):
            parsers[event] = self._guard(event, parse)
        for event, by_factory in GATED_EVENTS.items():
            if event in parsers:
                parsers[event] = self._wrap(parsers[event], by_factory=by_factory)

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

    def _wrap(self, parse: Callable[[Any], Any], *, by_factory: bool) -> Callable[[Any], Any]:
        def gated(data: Any) -> Any:
            if not self.accepting:
                return None
            # The tasks the parse starts are the request's; it gets its id before the first, and
            # every task inherits it. (Comparing ``all_tasks()`` before and after the parse would
            # walk every live task twice.)
            request = self._current = _Request()
            loop = previous = None
            if by_factory:  # a task factory, set for the length of the (synchronous) parse
                with contextlib.suppress(RuntimeError):  # no running loop: nothing can be spawned
                    loop = asyncio.get_running_loop()
                    previous = request.previous = loop.get_task_factory()
                    loop.set_task_factory(request)
                    request.as_factory = True
            try:
                return parse(data)
            finally:
                self._current = None
                if loop is not None:
                    loop.set_task_factory(previous)
                request.close()
                if request.spawned:
                    self._track(request.spawned)

        return gated

    def spawn(self, create: Callable[[], asyncio.Task[Any]]) -> asyncio.Task[Any]:
        """Start a task for an event (the bot's ``_schedule_event`` calls this): within a
        request, with the request's id and known to :meth:`drain`."""
        request = self._current
        if request is None or request.as_factory:
            return create()  # not a request, or its factory already sees the task
        request.enter()
        task = create()
        request.spawned.append(task)
        return task

    def _track(self, spawned: list[asyncio.Task[Any]]) -> None:
        # No done callback per task (one more callback scheduled for every task that ends):
        # finished tasks are dropped in bulk once the set has doubled since the last sweep.
        self.in_flight.update(spawned)
        if len(self.in_flight) >= self._sweep_at:
            self.in_flight = {task for task in self.in_flight if not task.done()}
            self._sweep_at = max(SWEEP_FROM, 2 * len(self.in_flight))

    def running(self) -> set[asyncio.Task[Any]]:
        """The requests' tasks still running."""
        return {task for task in self.in_flight if not task.done()}

    async def drain(self, limit: float) -> bool:
        """Stop taking requests and wait up to ``limit`` seconds for the ones in progress.

        Returns whether everything finished in time (what did not is cancelled by the close)."""
        self.accepting = False
        current = asyncio.current_task()
        deadline = time.monotonic() + limit
        while True:
            pending = self.running() - {current}
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


class _Request:
    """One message or interaction being parsed: its tasks and, once it starts one, its id.

    Also a task factory (for interactions): it makes tasks as ``previous`` (or the loop) would
    and notes each one."""

    __slots__ = ("_token", "as_factory", "previous", "spawned")

    def __init__(self) -> None:
        #: Set as the loop's task factory for the parse (then ``previous`` is the one it replaced).
        self.as_factory = False
        self.previous: Any = None
        self.spawned: list[asyncio.Task[Any]] = []
        self._token: contextvars.Token[str | None] | None = None

    def enter(self) -> None:
        """Before the request's first task: its id, which every task it starts inherits."""
        if self._token is None:
            self._token = request_id.set(new_error_id())

    def __call__(self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        self.enter()
        task: asyncio.Task[Any] = (self.previous(loop, coro, **kwargs) if self.previous is not None
                                   else asyncio.Task(coro, loop=loop, **kwargs))
        self.spawned.append(task)
        return task

    def close(self) -> None:
        """The parse is over: the request's id leaves the gateway's context."""
        if self._token is not None:
            request_id.reset(self._token)
            self._token = None


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
