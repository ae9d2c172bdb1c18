"""How a request starts and how the bot stops: the gate on discord.py's parsers, draining, and
the database waiting for the write in progress before it closes."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.lifecycle import SWEEP_FROM, WANTS, EventGate, listens_when, sync_failure_message, wanted
from bot.request_ids import current_request_id
from bot.storage import NewTake, SqliteStore
from tests.conftest import World


def client_with(parse: Any) -> Any:
    return SimpleNamespace(_connection=SimpleNamespace(
        parsers={"MESSAGE_CREATE": parse, "INTERACTION_CREATE": parse, "READY": parse}))


async def test_each_request_gets_an_id_its_tasks_inherit_and_a_stop_waits_for_them() -> None:
    release = asyncio.Event()
    seen: list[str | None] = []

    async def handler() -> None:
        seen.append(current_request_id())
        await release.wait()
        seen.append(current_request_id())

    def parse(data: Any) -> None:  # as discord.py's dispatch starts a listener: through the bot's _schedule_event
        gate.spawn(lambda: asyncio.get_running_loop().create_task(handler()))

    client = client_with(parse)
    gate = EventGate(client)
    client._connection.parsers["MESSAGE_CREATE"]({})
    client._connection.parsers["MESSAGE_CREATE"]({})
    await asyncio.sleep(0)
    assert len(gate.running()) == 2 and current_request_id() is None
    assert len(set(seen)) == 2 and all(i and i.startswith("E-") for i in seen)

    draining = asyncio.create_task(gate.drain(30))
    await asyncio.sleep(0)
    client._connection.parsers["MESSAGE_CREATE"]({})  # stopping: not taken any more
    assert not draining.done() and len(gate.running()) == 2
    release.set()
    assert await draining is True
    assert seen[2:] == seen[:2]  # each kept its own id to the end
    parsed = len(seen)
    client._connection.parsers["READY"]({})  # only messages and interactions are gated: READY still parses
    await asyncio.sleep(0)
    assert len(seen) == parsed + 2


async def test_an_interaction_tracks_only_its_own_tasks_and_keeps_the_loops_task_factory() -> None:
    # An interaction's tasks are started by the command tree and the view store too, not only
    # through the bot's _schedule_event: a task factory set for the parse sees them all.
    loop = asyncio.get_running_loop()
    made: list[asyncio.Task[Any]] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        task = asyncio.Task(coro, loop=loop, **kwargs)
        made.append(task)
        return task

    release = asyncio.Event()
    other = loop.create_task(release.wait())  # started before the request: not its own
    ids: list[str | None] = []

    async def handler() -> None:
        ids.append(current_request_id())
        await release.wait()

    client = client_with(lambda data: (loop.create_task(handler()), gate.spawn(lambda: loop.create_task(handler()))))
    gate = EventGate(client)
    loop.set_task_factory(factory)
    try:
        client._connection.parsers["INTERACTION_CREATE"]({})
        assert loop.get_task_factory() is factory  # put back after the parse
    finally:
        loop.set_task_factory(None)
    assert len(made) == 2 and gate.running() == set(made) and other not in gate.in_flight
    await asyncio.sleep(0)
    assert len(set(ids)) == 1 and ids[0] is not None and current_request_id() is None  # one request, one id
    release.set()
    await asyncio.gather(other, *made)
    assert not gate.running()


async def test_a_message_that_starts_nothing_gets_no_id_and_finished_requests_are_let_go() -> None:
    loop = asyncio.get_running_loop()
    ids: list[str | None] = []
    start = True

    async def handler() -> None:
        ids.append(current_request_id())

    def parse(data: Any) -> None:
        if start:
            gate.spawn(lambda: loop.create_task(handler()))

    client = client_with(parse)
    gate = EventGate(client)
    for _ in range(3 * SWEEP_FROM):
        client._connection.parsers["MESSAGE_CREATE"]({})
        await asyncio.sleep(0)
    assert len(set(ids)) == 3 * SWEEP_FROM  # an id each
    assert len(gate.in_flight) < SWEEP_FROM and not gate.running()  # swept: no task kept for ever
    start = False
    client._connection.parsers["MESSAGE_CREATE"]({})
    assert current_request_id() is None and not gate.running()


def test_a_listener_is_asked_before_it_is_started_and_again_when_called() -> None:
    class Cog:
        def __init__(self) -> None:
            self.handled: list[str] = []

        def wants(self, word: str) -> bool:
            return word.startswith("take")

        @listens_when(wants)
        async def on_word(self, word: str) -> None:
            self.handled.append(word)

    cog = Cog()
    assert wanted(cog.on_word, ("take one",), {}) and not wanted(cog.on_word, ("hello",), {})
    assert wanted(Cog.wants, ("anything",), {})  # an ordinary listener: always started
    asyncio.run(cog.on_word("hello"))
    asyncio.run(cog.on_word("take two"))
    assert cog.handled == ["take two"]


async def test_the_bots_own_answer_starts_no_task_for_the_take_listeners(world: World) -> None:
    listeners = world.bot.extra_events["on_message"]
    assert listeners and all(getattr(listener, WANTS, None) for listener in listeners)
    await world.alice.send(world.channel, "!commonfactors summary")
    answer = world.channel.last_message
    assert answer is not None and answer.author.bot
    assert not any(wanted(listener, (answer,), {}) for listener in listeners)


async def test_a_payload_that_cannot_be_read_is_skipped_and_said_once(caplog: pytest.LogCaptureFixture) -> None:
    def parse(data: Any) -> None:
        raise KeyError("guild_id")

    client = client_with(parse)
    EventGate(client)
    for _ in range(3):
        assert client._connection.parsers["MESSAGE_CREATE"]({}) is None
    client._connection.parsers["READY"]({})
    lines = [record.getMessage() for record in caplog.records if record.name == "bot.lifecycle"]
    assert lines == ["skipped a MESSAGE_CREATE event discord.py could not read (KeyError: 'guild_id'); later ones "
                     "of this type are skipped without a word",
                     "skipped a READY event discord.py could not read (KeyError: 'guild_id'); later ones "
                     "of this type are skipped without a word"]


async def test_a_stop_does_not_wait_forever() -> None:
    def parse(data: Any) -> None:
        gate.spawn(lambda: asyncio.get_running_loop().create_task(asyncio.Event().wait()))

    client = client_with(parse)
    gate = EventGate(client)
    client._connection.parsers["MESSAGE_CREATE"]({})
    assert await gate.drain(0.01) is False
    for task in gate.in_flight:
        task.cancel()


async def test_closing_the_database_waits_for_the_write_in_progress(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "db.sqlite")
    take = NewTake(guild_id=1, channel_id=2, article="a", author_id=3, author_name="alice", content="kept",
                   source="command", created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    writing = asyncio.create_task(store.add_take(take))
    await asyncio.sleep(0)  # the write has started
    await store.close()
    saved = await writing
    reopened = await SqliteStore.open(tmp_path / "db.sqlite")
    try:
        assert [t.content for t in await reopened.export_takes(1, "a")] == ["kept"] and saved.id == 1
    finally:
        await reopened.close()


def test_sync_failures_say_what_to_check() -> None:
    import discord
    from aiohttp import ClientConnectorError
    from aiohttp.client_reqrep import ConnectionKey

    response = SimpleNamespace(status=403, reason="Forbidden")
    forbidden = discord.Forbidden(response, {"message": "Missing Access", "code": 50001})  # type: ignore[arg-type]
    assert sync_failure_message(forbidden, None) == (
        "Discord refused to sync slash commands globally (403 Missing Access): check that DISCORD_TOKEN belongs "
        "to this application; prefix commands keep working; fix it and restart, or run !sync force")
    bad = discord.HTTPException(SimpleNamespace(status=400, reason="Bad Request"),  # type: ignore[arg-type]
                                {"message": "Invalid Form Body", "code": 50035})
    assert "rejected a command's definition" in (sync_failure_message(bad, 5) or "")
    offline = ClientConnectorError(ConnectionKey("discord.com", 443, True, True, None, None, None),
                                   ConnectionRefusedError(111, "refused"))
    assert sync_failure_message(offline, None) == (
        "could not reach Discord to sync slash commands (connection refused); they will be synced at the next "
        "start, or run !sync")
    assert sync_failure_message(RuntimeError("a bug"), None) is None
