"""The database failing under a running bot: locked by another process, read-only, or full. The
member is told the take was **not** saved (and gets their words back), reading keeps working, and
once the fault clears the next take is saved, without a restart."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from simcord import assert_error

from bot.errors import NotSaved
from bot.storage import SqliteStore
from tests.conftest import World

#: These are the SQLite file's own faults (its lock, a read-only mount, a full disk), so they run on
#: SQLite in the PostgreSQL pass too; a PostgreSQL that refuses writes is tested through
#: ``refuse_writes`` (tests/conftest.py) by the take tests, which run on both.
pytestmark = pytest.mark.database("sqlite")

ARTICLE = "commonfactors"
KEPT = "A take saved before anything went wrong."


def connection(world: World) -> Any:
    store = world.bot.store
    assert isinstance(store, SqliteStore)
    return store._connection()


@contextlib.asynccontextmanager
async def locked(world: World) -> AsyncIterator[None]:
    """Another process holds the write lock (a backup tool, a second bot on the same file)."""
    store = world.bot.store
    assert isinstance(store, SqliteStore)
    await connection(world).execute("PRAGMA busy_timeout = 0")  # fail at once instead of waiting 5 s
    other = sqlite3.connect(Path(store.path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@contextlib.asynccontextmanager
async def read_only(world: World) -> AsyncIterator[None]:
    """The file cannot be written (a read-only mount or permissions, as the connection sees it)."""
    await connection(world).execute("PRAGMA query_only = ON")
    try:
        yield
    finally:
        await connection(world).execute("PRAGMA query_only = OFF")


@contextlib.asynccontextmanager
async def full(world: World) -> AsyncIterator[None]:
    """The disk is full: the database may not grow by a single page."""
    conn = connection(world)
    [(pages,)] = list(await conn.execute_fetchall("PRAGMA page_count"))
    [(before,)] = list(await conn.execute_fetchall("PRAGMA max_page_count"))
    await conn.execute(f"PRAGMA max_page_count = {pages}")
    try:
        yield
    finally:
        await conn.execute(f"PRAGMA max_page_count = {before}")


FAULTS: dict[str, Callable[[World], contextlib.AbstractAsyncContextManager[None]]] = {
    "locked": locked, "read-only": read_only, "full": full}
#: More bytes than a database page (4 KiB) holds, so saving it needs a new page in any database;
#: under the default limit of 1500 characters.
LONG = "Written at length while the disk was full: " + "🧠" * 1400


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_failing_database_says_not_saved_keeps_reading_and_recovers(world: World, fault: str) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} take {KEPT}")
    await world.env.advance_time(60)

    async with FAULTS[fault](world):
        await world.bob.send(world.channel, f"!{ARTICLE} take {LONG}")
        assert_error(world.env, NotSaved, contains="not saved")
        refusal = world.channel.last_message
        assert refusal is not None and "**not saved**" in refusal.content  # their words stay in their message
        result = await world.alice.slash(world.channel, f"{ARTICLE} take", text=LONG)
        assert_error(world.env, NotSaved)
        assert result.response is not None and "**not saved**" in result.response.content
        # A slash command's text is gone once sent: it is handed back, so nothing is lost.
        assert result.response.attachments or "Your text" in result.response.content

        # Reading keeps working while writes fail.
        cursor = world.env.error_cursor
        await world.bob.send(world.channel, f"!{ARTICLE} takes")
        listing = world.channel.last_message
        assert listing is not None and listing.embeds and KEPT in (listing.embeds[0].description or "")
        await world.bob.send(world.channel, f"!{ARTICLE} summary")
        assert not world.env.errors_since(cursor)
        world.env.errors.clear()  # the two NotSaved refusals, asserted above

    # The fault cleared: the same bot saves again.
    await world.bob.send(world.channel, f"!{ARTICLE} take {LONG}")
    assert "Saved your take" in (world.channel.last_message.content if world.channel.last_message else "")
    contents = [t.content for t in await world.bot.store.export_takes(world.guild.id, ARTICLE)]
    assert sorted(contents) == sorted([KEPT, LONG])
