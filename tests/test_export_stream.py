"""Exports stream: read from the store in chunks, written straight into zip parts on disk, so
memory stays bounded whatever the size, and the files are the ones a moderator expects."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.data import MEMBERS, bulk_load
from bot.export import (
    FILES_PER_MESSAGE,
    ExportPacker,
    _json_element,
    _row,
    pack_stream,
    takes_to_csv,
    takes_to_json,
)
from bot.storage import Take
from bot.storage.sqlite import SqliteStore

GUILD = 811_111_111_111_111_111
ARTICLE = "commonfactors"
T0 = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)
chars = st.characters(blacklist_categories=("Cs",))


def take(n: int, content: str, *, name: str = "Dr. Ng", edited: bool = False, url: str | None = None) -> Take:
    return Take(id=n, guild_id=GUILD, channel_id=2, article=ARTICLE, author_id=n % 7, author_name=name,
                content=content, source="command", created_at=T0 + dt.timedelta(seconds=n),
                edited_at=T0 if edited else None, message_url=url)


def read_back(messages: list[list[tuple[str, Path]]]) -> tuple[list[dict[str, Any]], list[bytes]]:
    """Every take the files carry (from the JSON), and every CSV's bytes, as a moderator opens them."""
    rows: list[dict[str, Any]] = []
    csvs: list[bytes] = []
    for batch in messages:
        for name, path in batch:
            data = path.read_bytes()
            if name.endswith(".json"):
                rows += json.loads(data)
            elif name.endswith(".csv"):
                csvs.append(data)
            else:
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    assert archive.testzip() is None  # every CRC right
                    for inner in sorted(archive.namelist()):
                        if inner.endswith(".json"):
                            rows += json.loads(archive.read(inner))
                        else:
                            csvs.append(archive.read(inner))
    return rows, csvs


@given(st.text(chars, max_size=200), st.text(chars, max_size=40), st.booleans(),
       st.one_of(st.none(), st.text(chars, max_size=30)))
def test_a_streamed_json_element_is_exactly_what_json_dumps_writes(content: str, name: str, edited: bool,
                                                                   url: str | None) -> None:
    one = take(5, content, name=name, edited=edited, url=url)
    assert "[\n" + _json_element(_row(one)) + "\n]" == takes_to_json([one]).decode("utf-8")


def test_a_small_export_streams_into_the_same_two_files_as_before(tmp_path: Path) -> None:
    takes = [take(n, f"=take {n}, with \"quotes\"\nand lines") for n in range(1, 30)]
    with ExportPacker("takes-a", limit=10 * 1024 * 1024) as packer:
        packer.add(takes[:10])
        packer.add(takes[10:])
        [[(csv_name, csv_path), (json_name, json_path)]] = packer.finish()
        assert (csv_name, json_name) == ("takes-a.csv", "takes-a.json")
        assert csv_path.read_bytes() == takes_to_csv(takes)
        assert json_path.read_bytes() == takes_to_json(takes)
        assert (packer.takes, packer.members) == (29, 7)


def test_an_empty_export_is_an_empty_list_and_a_header() -> None:
    with ExportPacker("t", limit=10 * 1024 * 1024) as packer:
        [[(_, csv_path), (_, json_path)]] = packer.finish()
        assert json.loads(json_path.read_bytes()) == []
        assert csv_path.read_bytes() == takes_to_csv([])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(chars, min_size=1, max_size=3000), min_size=1, max_size=80),
       st.integers(min_value=20_000, max_value=300_000), st.integers(1, 50))
def test_streamed_parts_fit_the_limit_keep_order_and_lose_nothing(contents: list[str], limit: int,
                                                                  chunk: int) -> None:
    takes = [take(n, c) for n, c in enumerate(contents, start=1)]
    with ExportPacker("takes-a", limit=limit) as packer:
        for start in range(0, len(takes), chunk):
            packer.add(takes[start:start + chunk])
        messages = packer.finish()
        for batch in messages:
            assert 1 <= len(batch) <= FILES_PER_MESSAGE
            assert sum(path.stat().st_size for _, path in batch) <= limit
        rows, csvs = read_back(messages)
        names = [name for batch in messages for name, _ in batch]
    assert [(r["id"], r["text"]) for r in rows] == [(t.id, t.content) for t in takes]
    assert all(data.startswith(b"\xef\xbb\xbf") for data in csvs)
    assert len(set(names)) == len(names)
    if len(names) > 1 and names[0].endswith(".zip"):
        assert names == [f"takes-a-part{n:02d}-of-{len(names):02d}.zip" for n in range(1, len(names) + 1)]


def test_the_packers_folder_is_gone_when_it_closes() -> None:
    with ExportPacker("t", limit=10 * 1024 * 1024) as packer:
        packer.add([take(1, "hello")])
        packer.finish()
        folder = packer.folder
        assert folder.exists()
    assert not folder.exists()


async def test_an_export_of_200k_takes_stays_under_a_memory_bound(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    store = await SqliteStore.open(path)  # created and migrated, then filled behind its back
    await store.close()
    await asyncio.to_thread(bulk_load, path, 200_000, guild_id=GUILD, article=ARTICLE)
    store = await SqliteStore.open(path)
    try:
        tracemalloc.start()
        try:
            packed = await pack_stream(store.iter_export(GUILD, article=ARTICLE), "big", limit=10 * 1024 * 1024)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        with packed:
            raw = sum(zipfile.ZipFile(p).infolist()[0].file_size for batch in packed.messages for _, p in batch)
            assert packed.takes == 200_000 and packed.members == MEMBERS
            assert raw > 30_000_000  # the CSVs alone are far larger than the bound below
            assert peak < 24_000_000, f"peak {peak / 1e6:.1f} MB traced while packing"
            ids = [row["id"] for row in read_back(packed.messages)[0]]
        assert ids == list(range(1, 200_001))
    finally:
        await store.close()
