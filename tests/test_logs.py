"""Logs: one request id per command, shared by its log lines and the error id the member sees;
the token masked wherever it would appear; discord.py's reconnect tracebacks as one line."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from bot import logs
from tests.conftest import World

TOKEN = "MTExMTExMTExMTExMTExMTEx.GfAkE0.abcdefghijklmnopqrstuvwxyz0123456789ABCD"


@pytest.fixture
def captured() -> Iterator[list[logging.LogRecord]]:
    """Records as the operator's handler sees them (with the request id stamped)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(logs.RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield records
    root.removeHandler(handler)


async def test_the_error_id_a_member_sees_is_the_request_id_of_every_line_of_that_command(
        world: World, monkeypatch: pytest.MonkeyPatch, captured: list[logging.LogRecord]) -> None:
    async def broken(*args: object, **kwargs: object) -> AsyncIterator[list[object]]:
        logging.getLogger("bot.takes").warning("about to fail")
        raise RuntimeError("database gone")
        yield []  # an async generator, as the store's chunked export read is

    monkeypatch.setattr(world.bot.store, "iter_export", broken)
    result = await world.mod.slash(world.channel, "commonfactors-mod export")

    assert [type(e).__name__ for e in world.env.errors] == ["HybridCommandError"]  # seen, and expected
    assert result.response is not None
    shown = re.search(r"error id `(E-[A-Z0-9]{6})`", result.response.content)
    assert shown is not None
    mine = [r for r in captured if r.getMessage() == "about to fail" or "unexpected error" in r.getMessage()]
    assert len(mine) == 2 and {r.request_id for r in mine} == {shown.group(1)}  # type: ignore[attr-defined]

    await world.alice.send(world.channel, "!commonfactors")  # the next request has its own id
    assert logs.current_request_id() is None


def test_json_lines_carry_the_request_id_and_never_the_token() -> None:
    stream = io.StringIO()
    handler = logs.configure(level="INFO", fmt="json", secrets=[TOKEN], stream=stream)
    try:
        token = logs.request_id.set("E-ABCDEF")
        try:
            logging.getLogger("bot.test").info("connecting with %s", TOKEN)
            try:
                raise RuntimeError(f"refused {TOKEN}")
            except RuntimeError:
                logging.getLogger("bot.test").exception("failed")
        finally:
            logs.request_id.reset(token)
        logging.getLogger("bot.test").info("outside")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = stream.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["request_id"] for e in entries] == ["E-ABCDEF", "E-ABCDEF", None]
    assert entries[0]["message"] == "connecting with [token hidden]"
    assert "RuntimeError: refused [token hidden]" in entries[1]["exception"]
    assert TOKEN not in stream.getvalue()


def test_text_lines_are_readable() -> None:
    stream = io.StringIO()
    handler = logs.configure(level="INFO", fmt="text", stream=stream)
    try:
        logging.getLogger("bot.test").info("hello")
    finally:
        logging.getLogger().removeHandler(handler)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO    bot\.test \[-\] hello\n", stream.getvalue())


def test_discord_reconnect_tracebacks_become_one_line() -> None:
    stream = io.StringIO()
    handler = logs.configure(level="INFO", fmt="text", stream=stream)
    try:
        try:
            raise aiohttp.ClientConnectorDNSError(aiohttp.client_reqrep.ConnectionKey(
                "gateway.discord.gg", 443, True, True, None, None, None), OSError(-3, "Temporary failure"))
        except OSError as exc:
            logging.getLogger("discord.client").exception("Attempting a reconnect in %.2fs", 8.5)
            logging.getLogger("discord.shard").error("Attempting a reconnect for shard ID %s in %.2fs", 3, 41.2,
                                                     exc_info=exc)
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert "Traceback" not in text and len(text.splitlines()) == 2
    assert "lost the connection to Discord (the name does not resolve (DNS)); reconnecting in 8 s" in text
    assert "lost the connection to Discord (shard 3) (the name does not resolve (DNS)); reconnecting in 41 s" in text


def test_an_unknown_log_format_is_refused() -> None:
    from bot.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="LOG_FORMAT must be text or json"):
        Settings(log_format="xml")


def test_the_voice_warnings_are_silenced() -> None:
    from discord.voice_client import VoiceClient

    logs.silence_voice_warnings()
    assert not VoiceClient.warn_nacl and not VoiceClient.warn_dave
