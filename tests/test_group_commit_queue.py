"""The group commit's queue on its own (bot/storage/group_commit.py), with a commit function
that waits for the test: a lone take is committed by its own caller, without a task; takes sent
in the same turn of the event loop are one group, the task's; what arrives during a commit waits
for the task; a cancelled lone caller leaves the queue working; closing waits for a lone commit."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import asyncpg
import pytest

from bot.storage import NewTake, Take
from bot.storage.base import StorageError
from bot.storage.group_commit import GroupCommitQueue, Pending
from bot.storage.postgres import PostgresStore

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def new(n: int) -> NewTake:
    return NewTake(guild_id=1, channel_id=2, article="a", author_id=n, author_name=f"m{n}", content=f"take {n}",
                   source="command", created_at=T0)


class Recorder:
    """A commit function: records each group and the task that committed it, and waits for
    ``gate`` (set by default) before saving."""

    def __init__(self) -> None:
        self.groups: list[tuple[list[int], str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()

    async def __call__(self, group: list[Pending]) -> None:
        task = asyncio.current_task()
        self.groups.append(([p.take.author_id for p in group], task.get_name() if task else ""))
        self.entered.set()
        await self.gate.wait()
        for n, pending in enumerate(group):
            pending.outcome = Take(id=len(self.groups) * 1000 + n, edited_at=None, guild_id=1, channel_id=2,
                                   article="a", author_id=pending.take.author_id, author_name="m", content="c",
                                   source="command", created_at=T0, message_url=None)


async def test_a_lone_take_is_committed_by_its_caller_without_a_task() -> None:
    recorder = Recorder()
    queue = GroupCommitQueue(recorder, max_group=100)
    caller = asyncio.current_task()
    assert caller is not None
    saved = await queue.submit(new(1), None)
    assert saved.author_id == 1
    assert recorder.groups == [([1], caller.get_name())]


async def test_takes_sent_together_are_one_group_committed_by_the_task() -> None:
    recorder = Recorder()
    queue = GroupCommitQueue(recorder, max_group=100)
    saved = await asyncio.gather(*(queue.submit(new(n), None) for n in (1, 2, 3)))
    assert [t.author_id for t in saved] == [1, 2, 3]
    assert recorder.groups == [([1, 2, 3], "db-group-commit")]


async def test_takes_arriving_during_a_lone_commit_wait_and_are_committed_together_after_it() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    queue = GroupCommitQueue(recorder, max_group=100)
    first = asyncio.create_task(queue.submit(new(1), None), name="first")
    await recorder.entered.wait()
    later = [asyncio.create_task(queue.submit(new(n), None)) for n in (2, 3)]
    await asyncio.sleep(0)
    assert len(recorder.groups) == 1  # nothing else commits while the lone take does
    recorder.gate.set()
    assert (await first).author_id == 1
    assert [(await t).author_id for t in later] == [2, 3]
    assert recorder.groups == [([1], "first"), ([2, 3], "db-group-commit")]


async def test_a_cancelled_lone_caller_leaves_the_takes_behind_it_committed() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    queue = GroupCommitQueue(recorder, max_group=100)
    first = asyncio.create_task(queue.submit(new(1), None))
    await recorder.entered.wait()
    second = asyncio.create_task(queue.submit(new(2), None))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    recorder.gate.set()
    assert (await second).author_id == 2
    assert [group for group, _ in recorder.groups] == [[1], [2]]


async def test_a_failed_lone_commit_tells_its_caller_nothing_was_saved() -> None:
    async def refuse(group: list[Pending]) -> None:
        raise OSError("disk full")

    queue = GroupCommitQueue(refuse, max_group=100)
    with pytest.raises(StorageError, match="nothing was saved"):
        await queue.submit(new(1), None)


async def test_drain_waits_for_a_lone_commit_in_flight() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    queue = GroupCommitQueue(recorder, max_group=100)
    first = asyncio.create_task(queue.submit(new(1), None))
    await recorder.entered.wait()
    draining = asyncio.create_task(queue.drain())
    await asyncio.sleep(0)
    assert not draining.done()
    recorder.gate.set()
    await draining
    assert first.done() and first.result().author_id == 1


async def test_postgresqls_kept_commit_connection_is_replaced_when_the_server_drops_it(postgres_url: Any) -> None:
    """The group commit keeps its connection between groups; a connection the server ended
    (a restart, an administrator) is not used again: the next take is saved on a fresh one."""
    url = postgres_url()
    store = await PostgresStore.open(url)
    admin = await asyncpg.connect(url)
    try:
        await store.add_take(new(1))
        writer = store._writer
        assert writer is not None
        ended = asyncio.Event()
        writer.add_termination_listener(lambda _: ended.set())
        pid = writer.get_server_pid()
        await store.add_take(new(2))
        assert store._writer is writer  # kept between takes
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        await asyncio.wait_for(ended.wait(), timeout=30)
        saved = await store.add_take(new(3))
        assert saved.author_id == 3
        assert store._writer is not None and store._writer is not writer
        assert await store.count_takes(1, "a") == 3
    finally:
        await admin.close()
        await store.close()
