"""The help card: every command of an article's group, as the member can type it."""

from __future__ import annotations

from typing import Any

import discord
from discord.ext import commands

from bot.article import Article
from bot.ui import rendering

#: Set in a command's ``extras`` by the command layer: the command belongs to moderators.
MODERATOR = "moderator"


def is_moderator_command(command: commands.Command[Any, ..., Any]) -> bool:
    return bool(command.extras.get(MODERATOR, False))


def help_for(article: Article, group: commands.Group[Any, ..., Any], prefix: str, *, slash: bool = False,
             moderators: bool = False) -> discord.Embed:
    """``group`` is the article's group; its moderator commands are listed under their own heading."""
    entries: list[tuple[str, str, bool]] = [("", "The overview card with buttons (slash: `overview`)", False)]
    seen: set[str] = set()
    for command in group.all_commands.values():
        if command.name in seen:
            continue
        seen.add(command.name)
        usage = f"{command.name} {command.usage}" if command.usage else command.name
        entries.append((usage, command.description, is_moderator_command(command)))
    return rendering.help_embed(article, entries, prefix, slash=slash, moderators_only=moderators)
