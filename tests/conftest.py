"""Shared fixtures: a real bot from ``create_bot`` on a temporary database, and a guild with a
member, a second member and a moderator, as SimCord simulates them."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest
import pytest_asyncio
from simcord import ChannelHandle, Env, GuildHandle, MemberActor

from bot import Settings, create_bot
from bot.app import CommonFactorsBot
from bot.settings import DEFAULT_DATA_DIR, sqlite_url
from tests import fuzz  # noqa: F401  (loads the hypothesis profile named by HYPOTHESIS_PROFILE)

TEST_DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The shipped articles plus the small test article, as a moderator would lay them out."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for source in [*DEFAULT_DATA_DIR.glob("*.toml"), *TEST_DATA.glob("*.toml")]:
        shutil.copy(source, folder / source.name)
    return folder


@pytest.fixture
def settings(tmp_path: Path, data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, database_url=sqlite_url(tmp_path / "takes.db"))


@pytest.fixture
def bots() -> list[CommonFactorsBot]:
    """Every bot a test builds, so its database is closed afterwards (SimCord does not call
    ``bot.close()``, and an open aiosqlite connection keeps the interpreter from exiting)."""
    return []


@pytest_asyncio.fixture(autouse=True)
async def _close_stores(bots: list[CommonFactorsBot]) -> AsyncIterator[None]:
    yield
    for bot in bots:
        if bot._store is not None:
            await bot._store.close()
            bot._store = None


@pytest.fixture
def simcord_bot(settings: Settings, bots: list[CommonFactorsBot]) -> CommonFactorsBot:
    bot = create_bot(settings)
    bots.append(bot)
    return bot


@dataclass
class World:
    env: Env
    guild: GuildHandle
    channel: ChannelHandle
    alice: MemberActor
    bob: MemberActor
    mod: MemberActor
    #: Manage Server as well: decides who moderates and the prefix.
    admin: MemberActor
    bots: list[CommonFactorsBot]

    async def restart(self) -> None:
        """A new bot process on the same database and the same (simulated) Discord."""
        bot = create_bot(self.bot.settings)
        self.bots.append(bot)
        await self.env.restart_bot(bot)

    @property
    def bot(self) -> CommonFactorsBot:
        bot = self.env.bot
        assert isinstance(bot, CommonFactorsBot)
        return bot


def make_world(env: Env, name: str = "Clinic", bots: list[CommonFactorsBot] | None = None) -> World:
    guild = env.create_guild(name)
    channel = guild.create_text_channel("journal-club")
    mods = guild.create_role("Moderators", permissions=discord.Permissions(manage_messages=True))
    alice = guild.add_member(env.create_user(f"alice-{name.lower()}"))
    bob = guild.add_member(env.create_user(f"bob-{name.lower()}"))
    mod = guild.add_member(env.create_user(f"mod-{name.lower()}"), roles=[mods])
    admins = guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True, manage_messages=True))
    admin = guild.add_member(env.create_user(f"admin-{name.lower()}"), roles=[admins])
    return World(env, guild, channel, alice, bob, mod, admin, bots if bots is not None else [])


@pytest.fixture
def world(simcord_env: Env, bots: list[CommonFactorsBot]) -> World:
    return make_world(simcord_env, bots=bots)
