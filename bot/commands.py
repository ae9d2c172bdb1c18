"""One command group per article, and the helpers cogs use to hang subcommands on it.

A group is built from an :class:`~bot.article.Article` alone, so adding a data file adds a
``!<command>`` / ``/<command>`` group with every subcommand and no code change.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.article import Article
from bot.errors import GuildOnly, NotAllowed, UserError

if TYPE_CHECKING:
    from bot.app import CommonFactorsBot
    from bot.context import Context

Callback = Callable[..., Coroutine[Any, Any, Any]]

def _description(text: str) -> str:
    return text if len(text) <= 100 else text[:99] + "…"


def unread_words(ctx: Context) -> list[str]:
    """What a prefix invocation typed that no parameter took. discord.py clears
    ``subcommand_passed`` before a group's callback and skips an optional argument it cannot
    convert, so the text left in the view is the only clue to a typo."""
    return ctx.view.buffer[ctx.view.index:].split() if ctx.interaction is None else []


class ArticleGroup(commands.HybridGroup[Any, ..., Any]):
    """``!commonfactors`` alone (``/commonfactors overview``) shows the overview card."""

    def __init__(self, article: Article) -> None:
        self.article = article

        async def overview(ctx: Context) -> None:
            from bot.views import send_overview

            extra = unread_words(ctx)
            if extra:
                raise UnknownSubcommand(extra[0], article, self)
            await send_overview(ctx, article)

        overview.__doc__ = _description(f"Overview of {article.title}")
        super().__init__(overview, name=article.command, description=_description(f"Discuss: {article.title}"),
                         fallback="overview", invoke_without_command=True, case_insensitive=True)
        self.moderation = ModeratorGroup(article)


class ModeratorGroup(commands.HybridGroup[Any, ..., Any]):
    """``/<article>-mod``: the article's moderator commands in a top-level group of their own.

    Discord honours ``default_member_permissions`` only on top-level commands, so this group is
    what hides moderator commands from members on the slash path; its commands are also reachable
    as ``!<article> <name>`` on the prefix path, where the same check runs.
    """

    def __init__(self, article: Article) -> None:
        self.article = article

        async def moderator_help(ctx: Context) -> None:
            from cogs.reading import help_for

            extra = unread_words(ctx)
            if extra:
                raise UnknownSubcommand(extra[0], article, self)
            group = ctx.bot.article_groups[article.command]
            await ctx.reply_private(embed=help_for(group, ctx.bot.prefix_for(ctx.guild),
                                                   slash=ctx.interaction is not None, moderators=True))

        moderator_help.__doc__ = "Moderator commands for this article"
        super().__init__(moderator_help, name=article.moderator_command,
                         description=_description(f"Moderate: {article.title}"), fallback="help",
                         invoke_without_command=True, case_insensitive=True)
        self.app_command.default_permissions = discord.Permissions(manage_messages=True)
        self.app_command.guild_only = True


class UnknownSubcommand(UserError):
    def __init__(self, passed: str, article: Article, group: commands.HybridGroup[Any, ..., Any]) -> None:
        from rapidfuzz import process

        names = sorted(c.name for c in group.commands)
        close = [name for name, score, _ in process.extract(passed, names, limit=3) if score >= 50]
        hint = f" Did you mean {', '.join(f'`{n}`' for n in close)}?" if close else ""
        shown = passed[:40].replace("`", "'")
        super().__init__(f"`{group.name}` has no command `{shown}`.{hint} "
                         f"Try `{group.name} help`.")


#: Discord allows 25 subcommands in a group; the fallback ``overview`` is one of them.
MAX_SUBCOMMANDS = 25


def add_subcommand(group: commands.HybridGroup[Any, ..., Any], callback: Callback, *, name: str, description: str,
                   usage: str = "", aliases: tuple[str, ...] = ()) -> commands.HybridCommand[Any, ..., Any]:
    """Wrap a closure as a hybrid subcommand of a group."""
    if group.app_command is not None and len(group.app_command.commands) >= MAX_SUBCOMMANDS:
        raise RuntimeError(f"/{group.name} already has {MAX_SUBCOMMANDS} subcommands, Discord's limit")
    command: commands.HybridCommand[Any, ..., Any] = commands.hybrid_command(
        name=name, description=_description(description), usage=usage or None, aliases=list(aliases)
    )(callback)
    group.add_command(command)
    return command


def add_prefix_alias(group: ArticleGroup, callback: Callback, *, name: str, description: str,
                     usage: str = "") -> commands.Command[Any, ..., Any]:
    """``!<article> <name>`` for a command whose slash form lives in the moderator group.

    A plain (prefix-only) command: it never reaches the slash tree, so the article group's slash
    form stays free of commands Discord could not hide. It shares the callback, so it shares the
    checks ``moderator_only()`` attached.
    """
    command: commands.Command[Any, ..., Any] = commands.Command(
        callback, name=name, description=_description(description), usage=usage or None)
    commands.Group.add_command(group, command)  # HybridGroup.add_command accepts hybrid commands only
    return command


def in_guild() -> Callable[[Callback], Callback]:
    """Takes belong to a server; in DMs the command says so instead of failing silently."""

    async def predicate(ctx: Context) -> bool:
        if ctx.guild is None:
            raise GuildOnly("Takes belong to a server's discussion, so this works in a server channel, not in DMs.")
        return True

    return commands.check(predicate)


def is_moderator_command(command: commands.Command[Any, ..., Any]) -> bool:
    return getattr(command.callback, "__moderator_only__", False)


def is_moderator(member: discord.abc.User, moderator_role_id: int | None = None, *, channel: Any = None) -> bool:
    """Manage Messages in the server, or the server's moderator role; with ``channel``, Manage
    Messages in that channel alone also counts (a channel's own moderators run its pinned summary
    and tidy its takes, but not the whole server's settings, exports or audit)."""
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_messages:
        return True
    if moderator_role_id is not None and any(r.id == moderator_role_id for r in member.roles):
        return True
    return (channel is not None and hasattr(channel, "permissions_for")
            and channel.permissions_for(member).manage_messages)


def moderator_only(*, channel_scope: bool = False) -> Callable[[Callback], Callback]:
    """One guard for both paths.

    The check runs for ``!`` and ``/`` invocations alike (Manage Messages in the server, or the
    guild's moderator role; with ``channel_scope``, Manage Messages in this channel is enough), and
    the mark makes :meth:`SubcommandCog.add` register the command in the article's
    :class:`ModeratorGroup`, which Discord hides from members without Manage Messages, plus a
    ``!<article> <name>`` prefix alias.
    """

    async def predicate(ctx: Context) -> bool:
        if ctx.guild is None:
            raise GuildOnly("Moderator commands work in a server channel.")
        settings = await ctx.store.get_guild_settings(ctx.guild.id)
        if not is_moderator(ctx.author, settings.moderator_role_id, channel=ctx.channel if channel_scope else None):
            raise NotAllowed("Only moderators (Manage Messages in this server, or the moderator role) can do that.")
        return True

    def decorator(func: Callback) -> Callback:
        func.__moderator_only__ = True  # type: ignore[attr-defined]  # read by SubcommandCog.add and help
        return commands.check(predicate)(func)

    return decorator


class SubcommandCog(commands.Cog):
    """A capability that hangs its subcommands on every article's group when it loads.

    Subclasses implement :meth:`register`, building closures over the group's article and
    adding them with :meth:`add`; unloading the cog removes exactly what it added.
    """

    def __init__(self, bot: CommonFactorsBot) -> None:
        self.bot = bot
        self._added: list[tuple[commands.HybridGroup[Any, ..., Any], str]] = []

    def register(self, group: ArticleGroup) -> None:
        raise NotImplementedError

    def add(self, group: ArticleGroup, callback: Callback, **options: Any) -> commands.HybridCommand[Any, ..., Any]:
        """Add a subcommand; one marked by :func:`moderator_only` goes to the moderator group
        (``/<article>-mod <name>``) and gets a ``!<article> <name>`` alias."""
        if getattr(callback, "__moderator_only__", False):
            command = add_subcommand(group.moderation, callback, **options)
            self._added.append((group.moderation, command.name))
            options.pop("aliases", None)
            add_prefix_alias(group, callback, **options)
            self._added.append((group, command.name))
            return command
        command = add_subcommand(group, callback, **options)
        self._added.append((group, command.name))
        return command

    async def cog_load(self) -> None:
        for group in self.bot.article_groups.values():
            self.register(group)

    async def cog_unload(self) -> None:
        for group, name in self._added:
            group.remove_command(name)
        self._added.clear()
