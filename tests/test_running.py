"""The real ``python -m bot`` process: Discord out of reach at start, a rejected token, a refused
slash sync, the sync record per application, SIGTERM in the middle of a command, JSON logs with
request ids, and the token never in a log line.

SimCord runs a bot in-process only, so these tests give the real process a small
Discord-compatible server (tests/fake_discord.py) on 127.0.0.1, or an address that refuses.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from bot.settings import sqlite_url
from tests.fake_discord import FakeDiscord, make_token
from tests.processes import BotProcess, bot_environment

TOKEN = make_token()


def refusing_port() -> int:
    """A local port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest_asyncio.fixture
async def discord_server() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(token=TOKEN)
    await server.start()
    yield server
    await server.stop()


def environment(server: FakeDiscord | None, tmp_path: Path, data_dir: Path, **extra: str) -> dict[str, str]:
    api = server.api_url if server else f"http://127.0.0.1:{refusing_port()}/api/v10"
    gateway = server.gateway_url if server else "ws://127.0.0.1:9/gateway"
    return bot_environment(DISCORD_TOKEN=extra.pop("DISCORD_TOKEN", TOKEN), DISCORD_API_URL=api,
                           DISCORD_GATEWAY_URL=gateway, DATA_DIR=str(data_dir),
                           DATABASE_URL=sqlite_url(tmp_path / "bot.db"), **extra)


def assert_clean_log(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert "Traceback" not in text, text
    assert TOKEN not in text and TOKEN.split(".")[-1] not in text, "the token reached the log"
    assert "PyNaCl" not in text and "davey" not in text  # no voice warnings for a text-only bot


async def test_unreachable_discord_is_one_line_per_attempt_then_a_clean_stop(tmp_path: Path, data_dir: Path) -> None:
    bot = await BotProcess.start(env=environment(None, tmp_path, data_dir))
    try:
        lines = await bot.wait_for(lambda lines: sum("cannot reach Discord" in line for line in lines) >= 3)
        attempts = [line for line in lines if "cannot reach Discord" in line]
        assert lines[:3] == attempts[:3]  # one line per attempt, nothing else
        assert ("cannot reach Discord at 127.0.0.1 (connection refused); attempt 1 failed, retrying in 1 s"
                in attempts[0])
        assert "attempt 2 failed, retrying in 2 s" in attempts[1]
        assert "attempt 3 failed, retrying in 4 s" in attempts[2]

        bot.process.send_signal(signal.SIGTERM)  # systemd stopping a bot that never got through
        assert await bot.finish() == 0
    finally:
        bot.kill()
    assert any("received SIGTERM: stopping" in line for line in bot.lines)
    assert_clean_log(bot.lines)


async def test_a_rejected_token_exits_at_once_with_one_line(
        tmp_path: Path, data_dir: Path, discord_server: FakeDiscord) -> None:
    bot = await BotProcess.start(env=environment(discord_server, tmp_path, data_dir,
                                                 DISCORD_TOKEN=make_token(999999999999999999)))
    try:
        assert await bot.finish() == 1
    finally:
        bot.kill()
    assert bot.lines[-1].startswith("commonfactors-bot: Discord rejected DISCORD_TOKEN")
    assert not any("cannot reach" in line for line in bot.lines)
    assert "Traceback" not in "\n".join(bot.lines)


async def start_connected(server: FakeDiscord, env: dict[str, str]) -> BotProcess:
    bot = await BotProcess.start(env=env)
    await asyncio.wait_for(server.identified.wait(), 30)
    await bot.wait_for_line("has connected to Gateway")
    return bot


async def stop(bot: BotProcess) -> int:
    bot.process.send_signal(signal.SIGTERM)
    return await bot.finish()


async def test_sigterm_mid_command_lets_it_finish_closes_the_database_and_exits_0(
        tmp_path: Path, data_dir: Path, discord_server: FakeDiscord) -> None:
    discord_server.hold_messages = asyncio.Event()
    bot = await start_connected(discord_server, environment(discord_server, tmp_path, data_dir, LOG_FORMAT="json"))
    try:
        await discord_server.member_says("!commonfactors take Said before the stop.")
        await asyncio.wait_for(discord_server.message_arrived.wait(), 30)  # the command is in flight

        bot.process.send_signal(signal.SIGTERM)
        await bot.wait_for_line("received SIGTERM")
        await discord_server.member_says("!commonfactors take Said after the stop.")  # no longer taken
        discord_server.hold_messages.set()  # the in-flight reply goes through

        assert await bot.finish() == 0
    finally:
        bot.kill()

    # The member was told, and the take is in a database that was closed properly.
    assert [m["content"] for m in discord_server.sent_messages if "Saved your take" in m["content"]]
    assert len(discord_server.sent_messages) == 1
    with sqlite3.connect(tmp_path / "bot.db") as db:
        assert [row[0] for row in db.execute("SELECT content FROM takes")] == ["Said before the stop."]
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not (tmp_path / "bot.db-wal").exists() or (tmp_path / "bot.db-wal").stat().st_size == 0

    # JSON lines, all of them; the command's lines share one request id; the token is nowhere.
    entries = [json.loads(line) for line in bot.lines]
    messages = [e["message"] for e in entries]
    assert "waiting for 1 request(s) in progress" in messages  # the stop waited for the command
    assert messages.index("waiting for 1 request(s) in progress") < messages.index("stopped cleanly")
    assert {"time", "level", "logger", "message", "request_id"} <= set(entries[0])
    assert any(e["message"] == "stopped cleanly" for e in entries)
    assert_clean_log(bot.lines)


async def test_a_lost_connection_is_one_line_and_the_bot_carries_on(
        tmp_path: Path, data_dir: Path, discord_server: FakeDiscord) -> None:
    bot = await start_connected(discord_server, environment(discord_server, tmp_path, data_dir))
    try:
        await discord_server.go_down()
        lost = await bot.wait_for_line("lost the connection to Discord")
        assert "lost the connection to Discord (the gateway refused the connection (503)); reconnecting in" in lost
        discord_server.gateway_down = False  # back up: the bot gets in again by itself
        await asyncio.wait_for(discord_server.resumed.wait(), 30)

        await discord_server.member_says("!commonfactors take After the blip.")
        [saved] = await discord_server.wait_for_messages(1)
        assert "Saved your take" in saved["content"]
        assert await stop(bot) == 0
    finally:
        bot.kill()
    assert_clean_log(bot.lines)


async def test_a_refused_slash_sync_is_one_line_and_prefix_commands_keep_working(
        tmp_path: Path, data_dir: Path, discord_server: FakeDiscord) -> None:
    discord_server.refuse_sync = (403, 50001, "Missing Access")
    bot = await start_connected(discord_server,
                                environment(discord_server, tmp_path, data_dir, DEV_GUILD_ID="222222222222222222"))
    try:
        refusal = await bot.wait_for_line("refused to sync slash commands")
        assert "to the server DEV_GUILD_ID=222222222222222222 (403 Missing Access)" in refusal
        assert "applications.commands scope" in refusal and "prefix commands keep working" in refusal

        await discord_server.member_says("!commonfactors take Prefix still works.")
        [saved] = await discord_server.wait_for_messages(1)
        assert "Saved your take" in saved["content"]

        # The owner (the application's owner) forcing a sync hears the same, not an error id.
        await discord_server.member_says("!sync force")
        answer = (await discord_server.wait_for_messages(2))[1]["content"]
        assert answer.startswith("Discord refused to sync slash commands to the server DEV_GUILD_ID=")
        assert await stop(bot) == 0
    finally:
        bot.kill()
    assert_clean_log(bot.lines)
    with sqlite3.connect(tmp_path / "bot.db") as db:  # not recorded as synced: the next start tries again
        assert db.execute("SELECT COUNT(*) FROM bot_meta WHERE key LIKE 'command_tree_hash%'").fetchone()[0] == 0


async def test_the_sync_record_is_per_application(tmp_path: Path, data_dir: Path) -> None:
    def syncs(server: FakeDiscord) -> int:
        return sum(1 for r in server.requests if r.method == "PUT" and r.path.endswith("/commands"))

    async def run_once(application_id: int) -> int:
        server = FakeDiscord(token=make_token(application_id), application_id=application_id)
        await server.start()
        try:
            bot = await start_connected(server, environment(server, tmp_path, data_dir,
                                                            DISCORD_TOKEN=make_token(application_id)))
            try:
                assert await stop(bot) == 0
            finally:
                bot.kill()
        finally:
            await server.stop()
        return syncs(server)

    assert await run_once(111111111111111111) == 1
    assert await run_once(111111111111111111) == 0  # unchanged, same application: not synced again
    assert await run_once(555555555555555555) == 1  # another application on the same database: synced
