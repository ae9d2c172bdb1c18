"""Running for real: connect (retrying while Discord is out of reach), serve, stop cleanly.

* Discord unreachable at start (no network yet, DNS down, an outage): one line per attempt
  naming the host and the cause, retried with a capped exponential backoff, so a service
  started before the network comes up recovers by itself. A rejected token is not retried.
* The same for a PostgreSQL database that cannot be reached at start (the server still starting,
  a network outage): one line per attempt, the same backoff, before logging in to Discord. A
  refused login or a missing database is not retried.
* Discord lost after login: discord.py reconnects by itself, but its backoff grows to minutes
  (up to 17); :class:`CappedBackoff` keeps every wait under a minute, and the log has one line
  per attempt (:class:`bot.logs.ReconnectFilter`).
* SIGTERM (systemd, ``docker stop``) and SIGINT (Ctrl-C): stop taking commands, let the ones in
  progress finish (bounded, see ``bot.app.DRAIN_SECONDS``), close the connection and the
  database, exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from itertools import count
from urllib.parse import urlsplit

import aiohttp
import discord
import discord.client
import discord.shard
import yarl
from discord.backoff import ExponentialBackoff
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.app import create_bot
from bot.logs import describe_network_error
from bot.settings import Settings
from bot.storage import DatabaseUnreachable, StorageError, is_postgres_url, open_store

log = logging.getLogger("bot.runner")

PORTAL = "https://discord.com/developers/applications"
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 60.0

#: What "Discord is out of reach" looks like; anything else is a bug or a refusal.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    OSError, aiohttp.ClientError, asyncio.TimeoutError, discord.DiscordServerError, discord.GatewayNotFound,
)


class StartupError(Exception):
    """Printed as one line, then exit 1."""


def use_endpoints(settings: Settings) -> None:
    """Point discord.py at the configured REST API and gateway (Discord's unless changed)."""
    Route.BASE = settings.discord_api_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


class CappedBackoff(ExponentialBackoff[bool]):
    """discord.py's reconnect backoff (random, growing), but never more than a minute."""

    def delay(self) -> float:
        return min(float(super().delay()), RETRY_MAX_SECONDS)


def cap_reconnect_backoff() -> None:
    """Make discord.py's gateway reconnects (one shard or many) wait at most a minute."""
    discord.client.ExponentialBackoff = CappedBackoff  # type: ignore[misc, assignment]
    discord.shard.ExponentialBackoff = CappedBackoff  # type: ignore[misc, assignment]


def backoff_delays(first: float = RETRY_FIRST_SECONDS, cap: float = RETRY_MAX_SECONDS) -> Iterator[float]:
    """1, 2, 4, … seconds, never more than ``cap``."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, cap)


class Runner:
    def __init__(self, settings: Settings, *, retry_first: float = RETRY_FIRST_SECONDS,
                 retry_max: float = RETRY_MAX_SECONDS) -> None:
        self.settings = settings
        self.retry_first = retry_first
        self.retry_max = retry_max
        self.host = urlsplit(settings.discord_api_url).hostname or settings.discord_api_url
        self.stop_signal: str | None = None

    async def run(self) -> int:
        if not self.settings.token:
            raise StartupError("no Discord token: set DISCORD_TOKEN in .env, see .env.example")
        use_endpoints(self.settings)
        cap_reconnect_backoff()
        bot = create_bot(self.settings)
        stop = asyncio.Event()
        self._handle_signals(stop)
        serving = asyncio.create_task(self._serve(bot), name="serve")
        stopping = asyncio.create_task(stop.wait(), name="wait-for-signal")
        try:
            await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if stopping.done():
                log.info("received %s: stopping; commands in progress may finish first", self.stop_signal)
                await bot.close()
                serving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await serving
                log.info("stopped cleanly")
                return 0
            try:
                serving.result()  # raises what ended it
            except (StartupError, StorageError, asyncio.CancelledError):
                raise
            except Exception:
                log.critical("the bot stopped on an unexpected error; please report it", exc_info=True)
                return 1
            return 0
        finally:
            stopping.cancel()
            if not serving.done():
                serving.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await serving
            await bot.close()

    def _handle_signals(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            def on_signal(name: str = sig.name) -> None:
                if self.stop_signal is None:
                    self.stop_signal = name
                stop.set()

            with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows' default loop
                loop.add_signal_handler(sig, on_signal)

    async def _serve(self, bot: discord.Client) -> None:
        assert self.settings.token is not None
        await self._wait_for_database()
        await self._login(bot, self.settings.token)
        log.info("logged in as %s (application %s); connecting to the gateway", bot.user, bot.application_id)
        try:
            await bot.connect(reconnect=True)
        except discord.PrivilegedIntentsRequired:
            raise StartupError(f"the Message Content intent is not enabled: turn it on at {PORTAL} → your "
                               "application → Bot → Privileged Gateway Intents → Message Content Intent, or set "
                               "MESSAGE_CONTENT_INTENT=false to run on slash commands and mentions only") from None

    async def _login(self, bot: discord.Client, token: str) -> None:
        delays = backoff_delays(self.retry_first, self.retry_max)
        for attempt in count(1):
            try:
                await bot.login(token)
                return
            except discord.LoginFailure:
                raise StartupError(f"Discord rejected DISCORD_TOKEN: copy the bot's token again ({PORTAL} → your "
                                   "application → Bot → Reset Token) into .env") from None
            except NETWORK_ERRORS as exc:
                delay = next(delays)
                log.warning("cannot reach Discord at %s (%s); attempt %d failed, retrying in %.0f s",
                            self.host, describe_network_error(exc), attempt, delay)
                await self._reset_http(bot)
                await asyncio.sleep(delay)

    async def _wait_for_database(self) -> None:
        """Until a PostgreSQL database answers (the bot opens it for itself at login)."""
        settings = self.settings
        if not is_postgres_url(settings.database_url):
            return
        delays = backoff_delays(self.retry_first, self.retry_max)
        for attempt in count(1):
            try:
                store = await open_store(settings.database_url, pool_size=settings.database_pool_size,
                                         sslmode=settings.database_sslmode)
            except DatabaseUnreachable as exc:
                delay = next(delays)
                log.warning("%s; attempt %d failed, retrying in %.0f s", exc, attempt, delay)
                await asyncio.sleep(delay)
                continue
            await store.close()
            if attempt > 1:
                log.info("the database answers (attempt %d)", attempt)
            return

    @staticmethod
    async def _reset_http(bot: discord.Client) -> None:
        """A failed login leaves an HTTP session behind; close it so the next attempt starts afresh."""
        with contextlib.suppress(Exception):
            await bot.http.close()
        bot.http.connector = discord.utils.MISSING
