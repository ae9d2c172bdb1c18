"""The database server going away under a running bot, and coming back: members are told the
truth in a plain line, the operator's log says it once (lost, back), and the bot recovers
without a restart. At start, an unreachable database is retried, one line per attempt."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from simcord import assert_error

from bot.errors import DatabaseUnavailable
from tests.conftest import World, saved_then_stopped
from tests.fake_discord import FakeDiscord, make_token
from tests.postgres_server import PostgresServer
from tests.processes import BotProcess, bot_environment

pytestmark = pytest.mark.database("postgresql")

ARTICLE = "commonfactors"


async def test_a_postgresql_outage_is_told_plainly_logged_once_and_recovered_from(
        world: World, postgres_server: PostgresServer, caplog: pytest.LogCaptureFixture) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} take Saved before the outage.")
    assert "Saved your take" in (world.channel.last_message.content if world.channel.last_message else "")
    await world.env.advance_time(60)

    caplog.set_level(logging.INFO)
    caplog.clear()
    await asyncio.to_thread(postgres_server.pause)
    try:
        await world.bob.send(world.channel, f"!{ARTICLE} take Written while the database was down.")
        assert_error(world.env, DatabaseUnavailable, contains="nothing was saved")
        refusal = world.channel.last_message
        assert refusal is not None and DatabaseUnavailable.WRITING in refusal.content
        result = await world.alice.slash(world.channel, f"{ARTICLE} take", text="A slash take during the outage.")
        assert_error(world.env, DatabaseUnavailable)
        assert result.response is not None and DatabaseUnavailable.WRITING in result.response.content

        await world.admin.send(world.channel, f"!{ARTICLE} settings cooldown 5m")  # a moderator command
        assert_error(world.env, DatabaseUnavailable)  # its check reads the moderator role: "nothing could be read"

        for reading in ("takes", "stats"):
            await world.bob.send(world.channel, f"!{ARTICLE} {reading}")
            assert_error(world.env, DatabaseUnavailable, contains="nothing could be read")
            answer = world.channel.last_message
            assert answer is not None and answer.content == DatabaseUnavailable.READING
    finally:
        await asyncio.to_thread(postgres_server.resume)

    await world.bob.send(world.channel, f"!{ARTICLE} take Written once it was back.")
    assert "Saved your take" in (world.channel.last_message.content if world.channel.last_message else "")
    contents = sorted(t.content for t in await world.bot.store.export_takes(world.guild.id, ARTICLE))
    assert contents == ["Saved before the outage.", "Written once it was back."]

    outage = [record for record in caplog.records if record.levelno >= logging.INFO
              and not record.name.startswith(("discord", "simcord"))]
    assert [record.levelname for record in outage] == ["WARNING", "INFO"], [r.getMessage() for r in outage]
    assert outage[0].getMessage().startswith("lost the connection to the PostgreSQL database")
    assert "answers again" in outage[1].getMessage()
    assert not any(record.exc_info for record in outage)


async def test_a_database_down_at_start_is_retried_one_line_per_attempt(
        postgres_server: PostgresServer, postgres_url: Callable[[], str], data_dir: Path,
        discord_server: FakeDiscord) -> None:
    url = postgres_url()
    await asyncio.to_thread(postgres_server.pause)
    try:
        bot = await BotProcess.start(env=bot_environment(
            DISCORD_TOKEN=make_token(), DISCORD_API_URL=discord_server.api_url,
            DISCORD_GATEWAY_URL=discord_server.gateway_url, DATA_DIR=str(data_dir), DATABASE_URL=url))
        try:
            await bot.wait_for(lambda lines: sum("attempt" in line for line in lines) >= 2)
        finally:
            await asyncio.to_thread(postgres_server.resume)
        try:
            await bot.wait_for_line("has connected to Gateway")
            await saved_then_stopped(discord_server, bot, "Once the database was up.")
        finally:
            bot.kill()
    finally:
        if not (postgres_server.data / "postmaster.pid").exists():
            await asyncio.to_thread(postgres_server.resume)
    attempts = [line for line in bot.lines if "attempt" in line and "failed" in line]
    assert attempts and "cannot connect to the PostgreSQL database" in attempts[0]
    assert "attempt 1 failed, retrying in 1 s" in attempts[0] and "attempt 2 failed, retrying in 2 s" in attempts[1]
    assert "Traceback" not in "\n".join(bot.lines)


def test_check_reads_the_postgresql_database_without_changing_it_and_fails_when_it_is_down(
        postgres_server: PostgresServer, postgres_url: Callable[[], str], data_dir: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.__main__ import main

    url = postgres_url()
    monkeypatch.setenv("DISCORD_TOKEN", make_token())
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["check"]) == 0
    assert "schema version 0 (not changed by check)" in capsys.readouterr().out
    assert postgres_server.psql("SELECT to_regclass('schema_migrations') IS NULL", url.rsplit("/", 1)[1]) == "t\n"

    monkeypatch.setenv("DATABASE_URL", url.replace(f":{postgres_server.port}/", ":1/"))
    assert main(["check"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("commonfactors-bot: cannot connect to the PostgreSQL database")
