"""The command layer: one group per article, and cogs whose methods hang in every group.

A capability's commands are methods of its cog, declared once with :func:`article_command` or
:func:`moderator_command`. When the cog loads, :class:`ArticleCog` registers a command for each
method in every article's group (``!<article> <name>`` / ``/<article> <name>``); a moderator
command goes to the article's moderator group (``/<article>-mod <name>``), which Discord hides
from members without Manage Messages, plus a ``!<article> <name>`` prefix form. Every command
object belongs to its cog, so ``cog_check``, ``cog_command_error`` and the other cog hooks apply
on both paths, and unloading the cog removes its commands from every group.

The groups themselves are built by the core from the articles in ``data/``
(:class:`ArticleGroups`), so adding a data file adds a group with every command and no code.

Core refusals (:class:`~bot.errors.UserError`) raised by checks are mapped here to discord.py's
check failure (:class:`~bot.ui.reporting.Refused`), the edge between our rules and the framework.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

import discord
from discord.ext import commands
from rapidfuzz import process

from bot.article import Article
from bot.errors import DatabaseUnavailable, GuildOnly, NotAllowed, UserError
from bot.permissions import is_moderator
from bot.storage import DatabaseUnreachable
from bot.takes import GUILD_ONLY
from bot.ui.help import MODERATOR, help_for
from bot.ui.reporting import Refused, RefusedCheck
from bot.ui.views import send_overview

if TYPE_CHECKING:
    from bot.app import CommonFactorsBot
    from bot.context import Context

Callback = Callable[..., Coroutine[Any, Any, Any]]
F = TypeVar("F", bound=Callback)

#: Discord allows 25 subcommands in a group; the fallback ``overview`` is one of them.
MAX_SUBCOMMANDS = 25
#: ``extras`` key: Manage Messages in the invoking channel alone is enough for this command.
CHANNEL_SCOPE = "channel_scope"
SPEC_ATTRIBUTE = "__article_command__"


def _description(text: str) -> str:
    return text if len(text) <= 100 else text[:99] + "…"


def unread_words(ctx: commands.Context[Any]) -> list[str]:
    """What a prefix invocation typed that no parameter took. discord.py clears
    ``subcommand_passed`` before a group's callback and skips an optional argument it cannot
    convert, so the text left in the view is the only clue to a typo."""
    return ctx.view.buffer[ctx.view.index:].split() if ctx.interaction is None else []


class UnknownSubcommand(UserError):
    def __init__(self, passed: str, group: commands.Group[Any, ..., Any]) -> None:
        names = sorted(c.name for c in group.commands)
        close = [name for name, score, _ in process.extract(passed, names, limit=3) if score >= 50]
        hint = f" Did you mean {', '.join(f'`{n}`' for n in close)}?" if close else ""
        shown = passed[:40].replace("`", "'")
        super().__init__(f"`{group.name}` has no command `{shown}`.{hint} Try `{group.name} help`.")


# -- checks: core refusals mapped to discord.py's check failure ---------------------------------

def check(predicate: Callable[[Context], Coroutine[Any, Any, bool]]) -> Callable[[F], F]:
    """``commands.check`` for predicates that refuse with a core :class:`UserError`."""

    async def mapped(ctx: Context) -> bool:
        try:
            return await predicate(ctx)
        except UserError as error:
            raise RefusedCheck(error) from error
        except DatabaseUnreachable as error:
            raise RefusedCheck(DatabaseUnavailable(DatabaseUnavailable.READING)) from error

    return commands.check(mapped)


def guild_only() -> Callable[[F], F]:
    """Takes belong to a server; in DMs the command says so instead of failing silently.
    Annotate such a command's context as :class:`~bot.context.GuildContext`."""

    async def predicate(ctx: Context) -> bool:
        if ctx.guild is None:
            raise GuildOnly(GUILD_ONLY)
        return True

    return check(predicate)


async def require_moderator(ctx: Context) -> bool:
    """Manage Messages in the server or the moderator role; with the command's channel scope,
    Manage Messages in this channel is enough. Raises :class:`RefusedCheck` otherwise."""
    try:
        if ctx.guild is None:
            raise GuildOnly("Moderator commands work in a server channel.")
        scoped = bool(ctx.command is not None and ctx.command.extras.get(CHANNEL_SCOPE, False))
        settings = await ctx.guild_settings.get(ctx.guild.id)
        if not is_moderator(ctx.author, settings.moderator_role_id, channel=ctx.channel if scoped else None):
            raise NotAllowed("Only moderators (Manage Messages in this server, or the moderator role) can do that.")
    except UserError as error:
        raise RefusedCheck(error) from error
    except DatabaseUnreachable as error:  # the moderator role is in the settings, out of reach
        raise RefusedCheck(DatabaseUnavailable(DatabaseUnavailable.READING)) from error
    return True


def at_the_edge(func: F) -> F:
    """A command callback whose core refusals reach discord.py as its own error type
    (:class:`Refused`), so both paths dispatch them unwrapped to the one error handler."""

    @functools.wraps(func)
    async def callback(*args: Any, **kwargs: Any) -> Any:
        try:
            return await func(*args, **kwargs)
        except UserError as error:
            raise Refused(error) from error
        except DatabaseUnreachable as error:  # a read during an outage (writes say so themselves)
            raise Refused(DatabaseUnavailable(DatabaseUnavailable.READING)) from error

    return cast(F, callback)


# -- declaring commands -------------------------------------------------------------------------

#: A command's free-text argument: the rest of the message, as typed.
_TEXT_ANNOTATIONS: tuple[Any, ...] = (str, str | None)  # (``Optional[str]`` equals ``str | None``)


class ArticleCommand(commands.HybridCommand[Any, ..., Any]):
    """A hybrid command whose free-text argument is read without a converter.

    For a keyword-only ``str`` parameter (the rest of the message) this gives what discord.py's
    ``transform`` gives, the rest stripped, without its converter lookup: for ``str`` that lookup
    is a runtime-protocol ``isinstance`` (``Converter``) that costs more on Python 3.11 than the
    rest of the argument parsing. With nothing left to read it defers to discord.py (the default,
    or the missing-argument error). A property test holds the two equal."""

    #: The article is its group's (:attr:`bot.context.Context.article` looks up the parents).
    article: Article | None = None

    async def transform(self, ctx: commands.Context[Any], param: commands.Parameter, attachments: Any) -> Any:
        if param.kind is param.KEYWORD_ONLY and not self.rest_is_raw and param.converter in _TEXT_ANNOTATIONS:
            view = ctx.view
            before = view.index, view.previous
            view.skip_ws()
            if not view.eof:
                previous = view.index
                ctx.current_argument = argument = view.read_rest().strip()
                view.previous = previous
                return argument
            view.index, view.previous = before  # discord.py reads it again, from where it was
        return await super().transform(ctx, param, attachments)


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    description: str
    usage: str = ""
    moderator: bool = False
    channel_scope: bool = False

    @property
    def extras(self) -> dict[str, Any]:
        return {MODERATOR: self.moderator, CHANNEL_SCOPE: self.channel_scope}


def article_command(*, name: str, description: str, usage: str = "") -> Callable[[F], F]:
    """Declare a cog method as a command of every article's group."""

    def decorator(func: F) -> F:
        setattr(func, SPEC_ATTRIBUTE, CommandSpec(name, _description(description), usage))
        return func

    return decorator


def moderator_command(*, name: str, description: str, usage: str = "", channel_scope: bool = False
                      ) -> Callable[[F], F]:
    """Declare a cog method as a moderator command of every article: ``/<article>-mod <name>`` and
    ``!<article> <name>``. The cog guards it (see :func:`require_moderator`) on both paths."""

    def decorator(func: F) -> F:
        setattr(func, SPEC_ATTRIBUTE, CommandSpec(name, _description(description), usage, moderator=True,
                                                  channel_scope=channel_scope))
        return func

    return decorator


# -- the groups ---------------------------------------------------------------------------------

class ArticleGroup(commands.HybridGroup[Any, ..., Any]):
    """``!commonfactors`` alone (``/commonfactors overview``) shows the overview card."""

    def __init__(self, article: Article, owner: ArticleGroups) -> None:
        self.article = article
        super().__init__(at_the_edge(ArticleGroups.overview), name=article.command,
                         description=_description(f"Discuss: {article.title}"),
                         fallback="overview", invoke_without_command=True, case_insensitive=True)
        self.cog = owner
        self.moderation = ModeratorGroup(article, owner)


class ModeratorGroup(commands.HybridGroup[Any, ..., Any]):
    """``/<article>-mod``: the article's moderator commands in a top-level group of their own.

    Discord honours ``default_member_permissions`` only on top-level commands, so this group is
    what hides moderator commands from members on the slash path; its commands are also reachable
    as ``!<article> <name>`` on the prefix path, where the same check runs.
    """

    def __init__(self, article: Article, owner: ArticleGroups) -> None:
        self.article = article
        super().__init__(at_the_edge(ArticleGroups.moderator_help), name=article.moderator_command,
                         description=_description(f"Moderate: {article.title}"), fallback="help",
                         invoke_without_command=True, case_insensitive=True)
        self.app_command.default_permissions = discord.Permissions(manage_messages=True)
        self.app_command.guild_only = True
        self.cog = owner


class ArticleGroups(commands.Cog, name="Articles"):
    """The core's own cog: one command group (and one moderator group) per article file."""

    def __init__(self, bot: CommonFactorsBot) -> None:
        self.bot = bot
        self.groups: dict[str, ArticleGroup] = {}

    async def cog_load(self) -> None:
        for article in self.bot.articles.values():
            group = ArticleGroup(article, self)
            self.bot.add_command(group)
            self.bot.add_command(group.moderation)
            self.groups[article.command] = group

    async def cog_unload(self) -> None:
        for group in self.groups.values():
            self.bot.remove_command(group.moderation.name)
            self.bot.remove_command(group.name)
        self.groups.clear()

    def get_commands(self) -> list[commands.Command[Any, ..., Any]]:
        return [c for g in self.groups.values() for c in (g, g.moderation)]

    async def overview(self, ctx: Context) -> None:
        group = ctx.command
        extra = unread_words(ctx)
        if extra and isinstance(group, commands.Group):
            raise UnknownSubcommand(extra[0], group)
        await send_overview(ctx, ctx.article)

    async def moderator_help(self, ctx: Context) -> None:
        group = ctx.command
        extra = unread_words(ctx)
        if extra and extra[0].casefold() == "help":  # `!<article>-mod help`, as the slash form names it
            extra = extra[1:]
        if extra and isinstance(group, commands.Group):
            raise UnknownSubcommand(extra[0], group)
        article = ctx.article
        await ctx.reply_private(embed=help_for(article, self.groups[article.command], ctx.bot.prefix_for(ctx.guild),
                                               slash=ctx.interaction is not None, moderators=True))


class ArticleCog(commands.Cog):
    """A capability whose commands are its methods, registered in every article's group on load.

    The methods are declared with :func:`article_command` / :func:`moderator_command`; the
    commands built from them belong to this cog, so its hooks apply on both paths.
    """

    def __init__(self, bot: CommonFactorsBot) -> None:
        self.bot = bot
        self._installed: list[tuple[commands.Group[Any, ..., Any], commands.Command[Any, ..., Any]]] = []

    def article_command_specs(self) -> Iterator[tuple[CommandSpec, Callback]]:
        """The declared commands, in the order the class defines them (the order help lists)."""
        seen: set[str] = set()
        for klass in reversed(type(self).__mro__):
            for name, value in vars(klass).items():
                spec = getattr(value, SPEC_ATTRIBUTE, None)
                if isinstance(spec, CommandSpec) and name not in seen:
                    seen.add(name)
                    yield spec, value

    async def cog_load(self) -> None:
        try:
            for group in self.bot.article_groups.values():
                self.install(group)
        except Exception:
            self._uninstall()
            raise

    async def cog_unload(self) -> None:
        self._uninstall()

    def install(self, group: ArticleGroup) -> None:
        for spec, method in self.article_command_specs():
            func = at_the_edge(method)
            target = group.moderation if spec.moderator else group
            if target.app_command is not None and len(target.app_command.commands) >= MAX_SUBCOMMANDS:
                raise RuntimeError(f"/{target.name} already has {MAX_SUBCOMMANDS} subcommands, Discord's limit")
            command = ArticleCommand(func, name=spec.name, description=spec.description, usage=spec.usage or None,
                                     extras=spec.extras)
            command.cog = self
            target.add_command(command)
            self._installed.append((target, command))
            if spec.moderator:
                # The prefix form, ``!<article> <name>``: a plain command, so the article group's slash
                # form stays free of commands Discord could not hide. It shares the checks and the cog.
                alias: commands.Command[Any, ..., Any] = commands.Command(
                    func, name=spec.name, description=spec.description, usage=spec.usage or None,
                    extras=spec.extras)
                alias.cog = self
                commands.Group.add_command(group, alias)  # HybridGroup.add_command takes hybrid commands only
                self._installed.append((group, alias))

    def _uninstall(self) -> None:
        for group, command in reversed(self._installed):
            if group.all_commands.get(command.name) is command:
                group.remove_command(command.name)
        self._installed.clear()

    def get_commands(self) -> list[commands.Command[Any, ..., Any]]:
        """Every command this cog registered, in every article's group."""
        return [command for _, command in self._installed]

    def walk_commands(self) -> Generator[commands.Command[Any, ..., Any], None, None]:
        yield from self.get_commands()
