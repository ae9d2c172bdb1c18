"""The shape of the core, as the architecture promises it (see ARCHITECTURE.md).

Commands are cog methods registered in every article's group and owned by their cog; the cog's
hooks run on both paths; unloading a cog takes its commands out of every group; rules modules
load without the bot class or discord.py's command framework; and the slash command tree
Discord sees is exactly the one pinned in ``tests/data/command_tree.json``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from discord import app_commands
from discord.ext import commands
from simcord import assert_error

from bot.commands import ArticleCog
from bot.errors import NotAllowed
from tests.conftest import World

ROOT = Path(__file__).resolve().parent.parent
PINNED_TREE = Path(__file__).parent / "data" / "command_tree.json"

#: Rules and foundation modules: none may load the bot class or discord.py's command framework.
RULES_MODULES = ["bot.takes", "bot.pins", "bot.guild_settings", "bot.audit", "bot.permissions", "bot.export",
                 "bot.citations", "bot.faq", "bot.services", "bot.storage", "bot.article", "bot.settings",
                 "bot.errors", "bot.clock", "bot.locks"]
#: Of those, the ones that need nothing of discord.py at all.
PURE_MODULES = ["bot.citations", "bot.faq", "bot.export", "bot.storage", "bot.article", "bot.settings",
                "bot.errors", "bot.clock", "bot.locks"]


async def test_the_slash_command_tree_is_the_pinned_one(world: World) -> None:
    """What Discord registers did not change with the code's shape. (After a deliberate change
    to a command, regenerate the file from ``bot.command_tree_payload()`` and review the diff.)"""
    payload = json.loads(json.dumps(world.bot.command_tree_payload(), sort_keys=True, default=str))
    assert payload == json.loads(PINNED_TREE.read_text(encoding="utf-8"))


async def test_every_command_belongs_to_a_cog(world: World) -> None:
    bot = world.bot
    prefix_commands = list(bot.walk_commands())
    assert len(prefix_commands) > 40  # two articles' groups, their moderator groups and every command in them
    for command in prefix_commands:
        assert command.cog is not None, f"{command.qualified_name} has no cog"
        assert command in command.cog.get_commands() or command.parent is not None or isinstance(
            command, commands.Group)
    for app_command in bot.tree.walk_commands():
        if isinstance(app_command, app_commands.Command):
            assert app_command.binding is not None, f"/{app_command.qualified_name} is bound to no cog"
    # A capability's commands are found in its cog, in every article's group.
    takes = bot.get_cog("Takes")
    assert isinstance(takes, ArticleCog)
    takes_commands = takes.get_commands()
    assert {c.full_parent_name for c in takes_commands if c.name == "take"} == {"commonfactors", "placebo"}
    assert all(c.cog is takes for c in takes_commands)
    assert callable(type(takes).take)


@pytest.mark.parametrize("how", ["prefix", "slash"])
async def test_a_cogs_check_runs_on_both_paths(world: World, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    moderation = world.bot.get_cog("Moderation")
    assert moderation is not None
    seen: list[str] = []
    original = type(moderation).cog_check

    async def spy(self: Any, ctx: Any) -> bool:
        seen.append(f"{'slash' if ctx.interaction else 'prefix'} {ctx.command.qualified_name}")
        return await original(self, ctx)

    monkeypatch.setattr(type(moderation), "cog_check", spy)
    if how == "prefix":
        await world.alice.send(world.channel, "!commonfactors pin")
        assert seen == ["prefix commonfactors pin"]
    else:
        # An admin allowed members on /commonfactors-mod in Integrations: the cog still says no.
        [command] = [c for c in await world.bot.tree.fetch_commands() if c.name == "commonfactors-mod"]
        world.guild.set_command_permissions(command, {world.alice: True})
        result = await world.alice.slash(world.channel, "commonfactors-mod pin")
        assert result.ephemeral and result.response is not None
        assert "Only moderators" in result.response.content
        assert seen == ["slash commonfactors-mod pin"]
    assert_error(world.env, NotAllowed, contains="Only moderators")
    assert await world.bot.store.get_pin(world.guild.id, world.channel.id, "commonfactors") is None


async def test_ctx_article_is_the_invoked_groups_article(world: World) -> None:
    await world.mod.send(world.channel, "!placebo pin")
    record = await world.bot.store.get_pin(world.guild.id, world.channel.id, "placebo")
    assert record is not None
    assert await world.bot.store.get_pin(world.guild.id, world.channel.id, "commonfactors") is None


async def test_unloading_a_cog_removes_its_commands_from_every_group(world: World) -> None:
    bot = world.bot
    groups = bot.article_groups
    assert all("take" in g.all_commands and "pin" in g.all_commands for g in groups.values())

    await bot.unload_extension("cogs.takes")
    for group in groups.values():
        assert "take" not in group.all_commands and "mytakes" not in group.all_commands
        assert group.app_command is not None and "take" not in {c.name for c in group.app_command.commands}
        assert "summary" in group.all_commands  # other cogs' commands stay
    await world.alice.send(world.channel, "!commonfactors take Gone with the cog.")
    assert await bot.store.export_takes(world.guild.id, "commonfactors") == []
    assert_error(world.env, BaseException, contains="take")

    await bot.load_extension("cogs.takes")
    assert all("take" in g.all_commands for g in groups.values())
    await world.alice.send(world.channel, "!commonfactors take Back with the cog.")
    assert [t.content for t in await bot.store.export_takes(world.guild.id, "commonfactors")] == ["Back with the cog."]


@pytest.mark.parametrize("module", RULES_MODULES)
def test_a_rules_module_loads_without_the_bot_or_the_command_framework(module: str) -> None:
    probe = (f"import sys, {module}; "
             "print(sorted(m for m in ('bot.app', 'discord.ext.commands', 'cogs', 'bot.ui', 'discord') "
             "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(eval(result.stdout))  # a list literal we printed ourselves
    assert not loaded & {"bot.app", "discord.ext.commands", "cogs", "bot.ui"}, loaded
    if module in PURE_MODULES:
        assert "discord" not in loaded
