"""The bot factory: ``create_bot(Settings(...))`` builds a configured bot without connecting.

Nothing here is global: the settings, the articles, the store and the command groups all hang
off the bot instance, so tests (and, later, several shard processes) can build as many as they
like side by side.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import secrets
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.article import Article, load_articles
from bot.clock import Clock
from bot.commands import ArticleGroup, ArticleGroups
from bot.context import Context
from bot.errors import report_unexpected
from bot.lifecycle import EventGate, sync_failure_message, wanted
from bot.services import Services, build_services
from bot.settings import Settings
from bot.signing import load_signer
from bot.storage import Store, open_store
from bot.ui.reporting import handle_interaction_error
from bot.ui.views import register_persistent_items

log = logging.getLogger("bot")

#: Loaded in order by ``setup_hook``; each is a discord.py extension with ``async def setup(bot)``.
EXTENSIONS: tuple[str, ...] = (
    "cogs.events",
    "cogs.reading",
    "cogs.takes",
    "cogs.moderation",
    "cogs.meetings",
    "cogs.admin",
)

TREE_HASH_KEY = "command_tree_hash"
#: How long a stopping bot waits for the commands in progress before it closes anyway.
DRAIN_SECONDS = 10.0


def build_intents(settings: Settings) -> discord.Intents:
    intents = discord.Intents.default()
    intents.message_content = settings.message_content_intent
    intents.presences = False
    intents.members = False
    return intents


class AppTree(app_commands.CommandTree["CommonFactorsBot"]):
    async def on_error(self, interaction: discord.Interaction[CommonFactorsBot],
                       error: app_commands.AppCommandError, /) -> None:
        name = interaction.command.qualified_name if interaction.command else "?"
        await handle_interaction_error(interaction, error, where=f"slash {name}")


class CommonFactorsBot(commands.Bot):
    def __init__(self, settings: Settings, articles: list[Article], *, extensions: tuple[str, ...] = EXTENSIONS,
                 clock: Clock = discord.utils.utcnow):
        super().__init__(
            command_prefix=self._resolve_prefix,
            intents=build_intents(settings),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            case_insensitive=True,
            strip_after_prefix=True,
            tree_cls=AppTree,
            owner_ids=set(settings.owner_ids) or None,
            **shard_options(settings),
        )
        self.settings = settings
        self.articles: dict[str, Article] = {a.command: a for a in articles}
        self.extension_names = extensions
        self.failed_extensions: dict[str, BaseException] = {}
        self.clock = clock
        self._store: Store | None = None
        self._services: Services | None = None
        self.synced_commands = False
        #: Identifies this process in transient custom ids, so clicks from before a restart are told apart.
        self.boot_id = secrets.token_hex(4)
        #: Request ids, the requests in progress, and not taking new ones once stopping.
        self.events = EventGate(self)
        #: Each prefix with the mentions of the bot that also work as one (see :meth:`_resolve_prefix`).
        self._prefixes: dict[str, tuple[str, ...]] = {}

    # -- what the core builds in setup_hook ---------------------------------------------------
    @property
    def store(self) -> Store:
        """The database, for start-up, sync bookkeeping and tests; commands use :attr:`services`."""
        if self._store is None:
            raise RuntimeError("the store is opened in setup_hook; the bot has not started")
        return self._store

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the services are built in setup_hook; the bot has not started")
        return self._services

    @property
    def article_groups(self) -> dict[str, ArticleGroup]:
        """Each article's command group, by article command."""
        cog = self.get_cog("Articles")
        return cog.groups if isinstance(cog, ArticleGroups) else {}

    def _resolve_prefix(self, bot: commands.Bot, message: discord.Message) -> tuple[str, ...]:
        """The server's prefix, then a mention of the bot (discord.py copies what this returns).

        The prefix comes first, as it is what members type; after the mentions only if a
        mention begins with it (a prefix ``<`` must not take ``<@bot> faq`` for a command)."""
        prefix = self.prefix_for(message.guild)
        prefixes = self._prefixes.get(prefix)
        if prefixes is None:  # a few per process: one per prefix in use
            mentions = tuple(commands.when_mentioned(bot, message))
            shadows = any(mention.startswith(prefix) for mention in mentions)
            prefixes = self._prefixes[prefix] = (*mentions, prefix) if shadows else (prefix, *mentions)
        return prefixes

    async def get_prefix(self, message: discord.Message, /) -> list[str]:
        return list(self._resolve_prefix(self, message))

    def prefix_for(self, guild: discord.abc.Snowflake | None) -> str:
        if self._services is None:
            return self.settings.prefix
        return self._services.guild_settings.prefix_for(guild.id if guild else None)

    async def get_context(self, origin: Any, /, *, cls: type[commands.Context[Any]] = Context) -> Any:
        return await super().get_context(origin, cls=cls)

    def _schedule_event(  # type: ignore[override]
            self, coro: Callable[..., Coroutine[Any, Any, Any]], event_name: str, *args: Any, **kwargs: Any,
    ) -> asyncio.Task[Any] | None:
        """No task for a listener that does not want this event (:func:`bot.lifecycle.listens_when`);
        the others belong to the request being parsed, if any (:meth:`bot.lifecycle.EventGate.spawn`)."""
        if not wanted(coro, args, kwargs):
            return None
        return self.events.spawn(functools.partial(super()._schedule_event, coro, event_name, *args, **kwargs))

    # -- start-up -------------------------------------------------------------------------
    async def setup_hook(self) -> None:
        self._store = await open_store(self.settings.database_url, pool_size=self.settings.database_pool_size,
                                       sslmode=self.settings.database_sslmode)
        self._services = build_services(self._store, self.settings, self.clock,
                                        signer=await load_signer(self._store))
        await self._services.guild_settings.load()
        await self.add_cog(ArticleGroups(self))
        register_persistent_items(self)
        for name in self.extension_names:
            try:
                await self.load_extension(name)
            except Exception as exc:  # one broken cog must not take the others down
                self.failed_extensions[name] = exc
                log.exception("extension %s failed to load", name)
        try:
            await self.sync_commands_if_changed()
        except Exception as exc:  # a refused sync must not stop the bot: prefix commands still work
            message = sync_failure_message(exc, self.settings.dev_guild_id)
            if message is None:
                raise
            log.error("%s", message)

    def command_tree_payload(self) -> list[dict[str, Any]]:
        return sorted((c.to_dict(self.tree) for c in self.tree.get_commands()), key=lambda c: c["name"])

    def command_tree_hash(self) -> str:
        payload = json.dumps(self.command_tree_payload(), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    async def sync_commands_if_changed(self, *, force: bool = False) -> bool:
        """Sync slash commands only when the tree differs from what was last synced from this
        database (or when an owner forces it): syncing on every start gets rate limited."""
        if not force and not self.settings.syncs_commands:
            log.info("slash commands are synced by the process running shard 0, not by this one (shards %s)",
                     ",".join(map(str, self.settings.shard_ids or ())))
            return False
        digest = self.command_tree_hash()
        # Per application and target: another token (application) on this database syncs afresh.
        key = f"{TREE_HASH_KEY}:app:{self.application_id}"
        if self.settings.dev_guild_id is not None:
            key += f":guild:{self.settings.dev_guild_id}"
        if not force and await self.store.get_meta(key) == digest:
            log.info("slash commands unchanged since the last sync; not syncing")
            return False
        if self.settings.dev_guild_id is not None:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()
        await self.store.set_meta(key, digest)
        self.synced_commands = True
        log.info("slash commands synced")
        return True

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        error = sys.exc_info()[1]
        if error is not None:
            report_unexpected(error, where=f"event {event_method}", context={})

    async def close(self) -> None:
        """Stop taking commands, let those in progress finish (bounded), then disconnect and
        close the database (which waits for the write in progress)."""
        try:
            if not self.is_closed():
                await self.events.drain(DRAIN_SECONDS)
            await super().close()
        finally:
            if self._store is not None:
                await self._store.close()
                self._store = None
                self._services = None


def shard_options(settings: Settings) -> dict[str, Any]:
    """Keywords for the client: which shards this process runs, when the bot is sharded."""
    if not settings.sharded:
        return {}
    return {"shard_count": settings.shard_count,
            "shard_ids": list(settings.shard_ids) if settings.shard_ids is not None else None}


class ShardedCommonFactorsBot(CommonFactorsBot, commands.AutoShardedBot):
    """The same bot, running the shards ``SHARD_IDS`` of ``SHARD_COUNT`` (several processes split
    an application's shards; each keeps its guilds' events, all share one PostgreSQL database)."""


def create_bot(settings: Settings | None = None, *, articles: list[Article] | None = None,
               extensions: tuple[str, ...] = EXTENSIONS, clock: Clock = discord.utils.utcnow) -> CommonFactorsBot:
    """Build the bot: read and validate every article file, wire the settings. No network.

    The clock defaults to discord.py's, which a simulated Discord (tests, the try-out) controls."""
    settings = settings or Settings()
    if articles is None:
        articles = load_articles(settings.data_dir)
    cls = ShardedCommonFactorsBot if settings.sharded else CommonFactorsBot
    return cls(settings, articles, extensions=extensions, clock=clock)

