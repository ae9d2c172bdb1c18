"""What Discord (or a Discord-compatible server) sends that the bot cannot use: a payload
discord.py cannot read is skipped with one line, a late or duplicate interaction is one WARNING,
and reconnecting after a lost connection never waits more than a minute."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import discord
import discord.client
import pytest

from bot.runner import RETRY_MAX_SECONDS, CappedBackoff, cap_reconnect_backoff
from bot.settings import sqlite_url
from tests.conftest import World, saved_then_stopped
from tests.fake_discord import FakeDiscord, make_token
from tests.processes import BotProcess, bot_environment


async def test_a_payload_discord_py_cannot_read_is_skipped_with_one_line(
        tmp_path: Path, data_dir: Path, discord_server: FakeDiscord) -> None:
    bot = await BotProcess.start(env=bot_environment(
        DISCORD_TOKEN=make_token(), DISCORD_API_URL=discord_server.api_url,
        DISCORD_GATEWAY_URL=discord_server.gateway_url, DATA_DIR=str(data_dir),
        DATABASE_URL=sqlite_url(tmp_path / "bot.db")))
    try:
        await asyncio.wait_for(discord_server.identified.wait(), 30)
        await bot.wait_for_line("has connected to Gateway")
        direct = {**discord_server.message("!commonfactors take In a DM."), "guild_id": None}
        del direct["member"]
        for _ in range(3):  # a DM as some Discord-compatible servers send it
            await discord_server.dispatch("MESSAGE_CREATE", direct)
        await saved_then_stopped(discord_server, bot, "Still here.")
    finally:
        bot.kill()
    skipped = [line for line in bot.lines if "could not read" in line]
    assert len(skipped) == 1 and "skipped a MESSAGE_CREATE event" in skipped[0]
    assert "Traceback" not in "\n".join(bot.lines)


async def test_a_late_interaction_is_one_warning_not_an_error(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    world.env.inject_error("POST", "/interactions/*", status=404, code=10062, message="Unknown interaction")
    await world.alice.slash(world.channel, "commonfactors takes")
    world.env.errors.clear()  # the NotFound discord.py raised: the point of this test
    ours = [record for record in caplog.records if record.name.startswith("bot")]
    assert [record.levelname for record in ours] == ["WARNING"], [r.getMessage() for r in ours]
    assert "came too late or twice (Discord: Unknown interaction)" in ours[0].getMessage()
    assert ours[0].exc_info is None


def test_reconnecting_to_discord_never_waits_more_than_a_minute() -> None:
    backoff = CappedBackoff()
    delays = [backoff.delay() for _ in range(40)]
    assert max(delays) <= RETRY_MAX_SECONDS == 60
    default = discord.client.ExponentialBackoff
    try:
        cap_reconnect_backoff()
        assert discord.client.ExponentialBackoff is CappedBackoff
    finally:
        discord.client.ExponentialBackoff = default  # type: ignore[misc]
