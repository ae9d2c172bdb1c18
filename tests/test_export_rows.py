"""The database writes the export's lines; the files are byte for byte what the exporter wrote
when Python wrote every row (the reference: benchmarks/naive_export.py), on both backends, for
any takes, hostile ones included (formula starts behind spaces and invisible characters, quotes,
commas, line breaks, any Unicode, times with and without microseconds, edited or not)."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.naive_export import write_csv, write_json
from bot.export import pack_stream
from bot.storage import ExportChunk, NewTake, Store
from bot.storage.postgres import PostgresStore
from bot.storage.sqlite import SqliteStore

ARTICLE = "commonfactors"
_guilds = itertools.count(811_111_111_111_111_111)
_databases: dict[str, str] = {}

#: Text a hostile member could type: every code point PostgreSQL can hold (no NUL, no lone
#: surrogates), weighted towards what a spreadsheet or a CSV reader cares about.
HOSTILE = st.text(alphabet=st.one_of(
    st.sampled_from(list("=+-@\t\r\n ,\"'\u200b\u00a0\u3000\ufeff\uff1d\uff0b\uff0d\uff20\u2028\x01\x7f\\")),
    st.characters(codec="utf-8", exclude_characters="\x00")), max_size=12)
PLAIN = st.text(alphabet="abcXYZ019 ,\"\n", min_size=1, max_size=12).map(lambda s: "a" + s)
TIMES = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2200, 1, 1),
                     timezones=st.just(dt.UTC)).map(
    lambda t: t.replace(microsecond=0) if t.microsecond % 3 == 0 else t)
TAKE = st.fixed_dictionaries({
    "author_id": st.integers(min_value=1, max_value=2**63 - 1),
    "author_name": HOSTILE | PLAIN,
    "content": HOSTILE | PLAIN,
    "source": st.sampled_from(["command", "modal", "reply", "button"]),
    "message_url": st.none() | st.just("https://discord.com/channels/1/2/3") | HOSTILE,
    "created_at": TIMES,
    "edited": st.none() | TIMES,
})


async def _open(backend: str, url: str | None) -> Store:
    return await PostgresStore.open(url) if url else await SqliteStore.open(":memory:")


async def _files(chunks: Any) -> tuple[bytes, bytes]:
    with await pack_stream(chunks, "export", limit=1 << 30) as packed:
        [[(csv_name, csv_path), (json_name, json_path)]] = packed.messages
        assert (csv_name, json_name) == ("export.csv", "export.json")
        return csv_path.read_bytes(), json_path.read_bytes()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(takes=st.lists(TAKE, max_size=8), chunk_size=st.integers(min_value=1, max_value=4))
def test_exports_are_byte_for_byte_the_reference(
    backend: str, request: pytest.FixtureRequest, takes: list[dict[str, Any]], chunk_size: int
) -> None:
    url = None
    if backend == "postgresql":
        url = _databases.setdefault(request.node.nodeid, request.getfixturevalue("postgres_url")())
    guild = next(_guilds)

    async def scenario() -> None:
        store = await _open(backend, url)
        try:
            for drawn in takes:
                saved = await store.add_take(NewTake(
                    guild_id=guild, channel_id=900_000_000_000_000_001, article=ARTICLE, author_id=drawn["author_id"],
                    author_name=drawn["author_name"], content=drawn["content"], source=drawn["source"],
                    created_at=drawn["created_at"], message_url=drawn["message_url"]))
                if drawn["edited"] is not None:
                    await store.edit_take(guild, saved.id, drawn["content"], drawn["edited"])
            reference = await store.export_takes(guild, ARTICLE)
            exported = await _files(store.iter_export(guild, article=ARTICLE, chunk_size=chunk_size))
            assert exported == (write_csv(reference), write_json(reference))

            member = takes[0]["author_id"] if takes else 1
            mine = await store.member_takes(member, guild_id=guild)
            assert await _files(store.iter_export(guild, author_id=member, chunk_size=chunk_size)) == (
                write_csv(mine), write_json(mine))
        finally:
            await store.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_database_writes_plain_takes_and_leaves_hostile_ones_to_python(
    backend: str, request: pytest.FixtureRequest
) -> None:
    store = await _open(backend, request.getfixturevalue("postgres_url")() if backend == "postgresql" else None)
    try:
        guild = next(_guilds)
        saved = []
        for n, text in enumerate(["Plain words, with a comma.", "=1+1", "  @SUM(A1)", "\u200b-2", "Fine"]):
            saved.append(await store.add_take(NewTake(guild_id=guild, channel_id=1, article=ARTICLE, author_id=7,
                                         author_name="Dr. Ng", content=text, source="command",
                                         created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=n),
                                         message_url=None)))
        first = saved[0]
        chunks: list[ExportChunk] = [chunk async for chunk in store.iter_export(guild, article=ARTICLE)]
        [chunk] = chunks
        assert sorted(chunk.takes) == [1, 2, 3]  # the formula-looking ones: written by Python
        assert chunk.csv_lines[0] == (f"{first.id},commonfactors,{guild},1,7,Dr. Ng,2026-01-01T00:00:00+00:00,,"
                                      'command,,"Plain words, with a comma."\r\n')
        assert chunk.json_elements[4] is not None and '"text": "Fine"' in chunk.json_elements[4]
        csv_bytes, _ = await _files(store.iter_export(guild, article=ARTICLE))
        assert b"'=1+1" in csv_bytes and b"'  @SUM(A1)" in csv_bytes and "'\u200b-2".encode() in csv_bytes
    finally:
        await store.close()


def test_a_store_without_the_sql_exports_the_same(tmp_path: Path) -> None:
    """The interface's default (every take written by Python) gives the same files."""
    async def scenario() -> None:
        store = await SqliteStore.open(":memory:")
        try:
            for n in range(5):
                await store.add_take(NewTake(guild_id=1, channel_id=1, article=ARTICLE, author_id=n, author_name="x",
                                             content=f"=take {n}" if n % 2 else f"take, {n}", source="command",
                                             created_at=dt.datetime(2026, 1, 1, n, tzinfo=dt.UTC)))
            fast = await _files(store.iter_export(1, article=ARTICLE, chunk_size=2))
            slow = await _files(Store.iter_export(store, 1, article=ARTICLE, chunk_size=2))
            assert fast == slow
        finally:
            await store.close()

    asyncio.run(scenario())
