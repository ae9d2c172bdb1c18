"""``python -m bot migrate-data``: a community moves from SQLite to PostgreSQL (and back) with
every row intact, verified, resumable, and never over someone else's data."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.settings import sqlite_url
from bot.storage import GuildSettings, NewTake, PinRecord, StorageError, Store, open_store
from bot.storage.transfer import COUNTERS, TABLES, Table, TransferRefused, _batches, transfer

GUILD = 811_111_111_111_111_111
OTHER_GUILD = 822_222_222_222_222_222
CHANNEL = 900_000_000_000_000_001
ALICE = 9_223_372_036_854_775_807  # 2**63 - 1
BOB = 100_000_000_000_000_002
ARTICLES = ("commonfactors", "wampold-2015")
T0 = dt.datetime(2026, 1, 10, 23, 59, 59, 999_999, tzinfo=dt.UTC)


async def populate(url: str) -> None:
    """A community with some history: edits, deletions, a member who left, settings, pins, audit."""
    store = await open_store(url)
    try:
        saved = []
        for n in range(40):
            saved.append(await store.add_take(NewTake(
                guild_id=(GUILD, OTHER_GUILD)[n % 2], channel_id=CHANNEL + n % 3, article=ARTICLES[n // 2 % 2],
                author_id=(ALICE, BOB, 1000 + n)[n % 3], author_name=("Alice", "Bob ✨", "=cmd|' /C calc'!A0")[n % 3],
                content=f"Take {n}: the *alliance*, \"quoted\", 'single'\nsecond line 🌱 — {'x' * (n * 37 % 300)}",
                source=("command", "modal", "reply", "button")[n % 4],
                created_at=T0 + dt.timedelta(hours=7 * n), message_url=None if n % 5 else f"https://d/{n}")))
        await store.edit_take(GUILD, saved[4].id, "edited words", T0 + dt.timedelta(days=30))
        await store.delete_take(saved[7].guild_id, saved[7].id)
        await store.delete_take(saved[-1].guild_id, saved[-1].id)  # the newest id: its number stays used
        await store.delete_member_data(1000 + 2)  # counters that fell to zero
        await store.save_guild_settings(GuildSettings(guild_id=GUILD, moderator_role_id=55, take_max_length=900,
                                                      take_cooldown_seconds=0, take_channel_ids=frozenset({3, 1, 2}),
                                                      anonymous_lists=True, prefix="cf!"))
        await store.save_guild_settings(GuildSettings(guild_id=OTHER_GUILD))
        await store.save_pin(PinRecord(GUILD, CHANNEL, ARTICLES[0], 77, "abc", T0))
        await store.save_pin(PinRecord(GUILD, CHANNEL + 1, ARTICLES[1], 78, "def", T0 + dt.timedelta(seconds=1)))
        for n in range(5):
            await store.add_audit(GUILD, ALICE, "settings", f"change {n} → ✓", T0 + dt.timedelta(minutes=n))
        await store.set_meta("command_tree_hash", "deadbeef")
    finally:
        await store.close()


async def every_row(url: str) -> dict[str, list[tuple[Any, ...]]]:
    store = await open_store(url)
    try:
        return {table.name: await rows_of(store, table) for table in (*TABLES, *COUNTERS)}
    finally:
        await store.close()


async def rows_of(store: Store, table: Table) -> list[tuple[Any, ...]]:
    return [row async for batch in _batches(store, table, after=None, size=1000) for row in batch]


async def views(url: str) -> list[Any]:
    """What members and moderators would see, through the store's own API."""
    store = await open_store(url)
    try:
        seen: list[Any] = []
        for guild in (GUILD, OTHER_GUILD):
            for article in ARTICLES:
                seen += [await store.export_takes(guild, article), await store.count_takes(guild, article),
                         await store.take_stats(guild, article, days=60, today=(T0 + dt.timedelta(days=20)).date()),
                         await store.list_takes(guild, article, limit=5)]
            seen += [await store.get_guild_settings(guild), await store.list_audit(guild),
                     await store.get_pin(guild, CHANNEL, ARTICLES[0])]
        seen += [await store.member_takes(ALICE), await store.guild_prefixes(),
                 await store.get_meta("command_tree_hash"),
                 await store.check_counters()]
        return seen
    finally:
        await store.close()


def drop_connection_at_write(store: Store, number: int) -> Callable[[], None]:
    """The store's ``number``-th ``write_raw`` fails as a dropped connection would; returns the undo."""
    real = store.write_raw
    calls = 0

    async def failing(steps: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == number:
            raise StorageError("the database refused the write: connection lost; nothing was saved")
        await real(steps)

    store.write_raw = failing  # type: ignore[method-assign]

    def restore() -> None:
        store.write_raw = real  # type: ignore[method-assign]

    return restore


def migrate(*args: str) -> int:
    return main(["migrate-data", *args])


def test_a_populated_sqlite_database_moves_to_postgresql_row_for_row(
    tmp_path: Path, postgres_url: Callable[[], str], capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = sqlite_url(tmp_path / "community.db"), postgres_url()
    asyncio.run(populate(source))

    assert migrate("--from", source, "--to", target, "--batch-size", "7") == 0

    out = capsys.readouterr().out
    assert "verified" in out and "MISMATCH" not in out and "takes: 37 rows" in out
    before, after = asyncio.run(every_row(source)), asyncio.run(every_row(target))
    assert before == after
    assert len(after["takes"]) == 37 and len(after["pins"]) == 2 and len(after["audit_log"]) == 5
    assert any(row[-1] == 0 for row in asyncio.run(_zero_counters(source)))  # zero rows existed and were fine
    assert asyncio.run(views(source)) == asyncio.run(views(target))

    async def next_id() -> int:
        store = await open_store(target)
        try:
            take = await store.add_take(NewTake(guild_id=GUILD, channel_id=CHANNEL, article=ARTICLES[0],
                                                author_id=ALICE, author_name="Alice", content="after the move",
                                                source="command", created_at=T0))
            return take.id
        finally:
            await store.close()

    assert asyncio.run(next_id()) == 41  # 40 was deleted before the move: its number is not handed out again


async def _zero_counters(url: str) -> list[tuple[Any, ...]]:
    store = await open_store(url)
    try:
        # A day whose takes were all deleted keeps a count of 0 (a member's count leaves instead).
        return await store.fetch_raw("SELECT guild_id, article, day, takes FROM take_day_counts")
    finally:
        await store.close()


def test_and_back_from_postgresql_to_sqlite(tmp_path: Path, postgres_url: Callable[[], str]) -> None:
    first, middle, last = sqlite_url(tmp_path / "a.db"), postgres_url(), sqlite_url(tmp_path / "b.db")
    asyncio.run(populate(first))
    assert migrate("--from", first, "--to", middle) == 0
    assert migrate("--from", middle, "--to", last) == 0
    assert asyncio.run(every_row(first)) == asyncio.run(every_row(last))
    assert asyncio.run(views(first)) == asyncio.run(views(last))


def test_a_target_holding_other_data_is_refused_unless_forced(
    tmp_path: Path, postgres_url: Callable[[], str], capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = sqlite_url(tmp_path / "community.db"), postgres_url()
    asyncio.run(populate(source))

    async def someone_elses_take() -> None:
        store = await open_store(target)
        try:
            await store.add_take(NewTake(guild_id=5, channel_id=6, article="other", author_id=7, author_name="X",
                                         content="not yours", source="command", created_at=T0))
        finally:
            await store.close()

    asyncio.run(someone_elses_take())
    assert migrate("--from", source, "--to", target) == 1
    assert "is not empty (1 takes rows); nothing was copied" in capsys.readouterr().err
    assert len(asyncio.run(every_row(target))["takes"]) == 1

    assert migrate("--from", source, "--to", target, "--force") == 0
    assert asyncio.run(every_row(source)) == asyncio.run(every_row(target))


def test_an_interrupted_copy_resumes_where_it_stopped(tmp_path: Path, postgres_url: Callable[[], str]) -> None:
    source_url, target_url = sqlite_url(tmp_path / "community.db"), postgres_url()
    asyncio.run(populate(source_url))

    async def interrupted_then_resumed() -> tuple[int, bool, bool]:
        source, target = await open_store(source_url), await open_store(target_url)
        try:
            restore = drop_connection_at_write(target, 4)  # during the fourth batch
            with pytest.raises(StorageError, match="connection lost"):
                await transfer(source, target, batch_size=5)
            partial = len(await rows_of(target, TABLES[1]))
            restore()
            report = await transfer(source, target, batch_size=5)
            return partial, report.resumed, report.ok
        finally:
            await source.close()
            await target.close()

    partial, resumed, ok = asyncio.run(interrupted_then_resumed())
    assert 0 < partial < 37 and resumed and ok
    assert asyncio.run(every_row(source_url)) == asyncio.run(every_row(target_url))


def test_a_copy_that_differs_is_reported_not_blessed(
    tmp_path: Path, postgres_url: Callable[[], str], capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = sqlite_url(tmp_path / "community.db"), postgres_url()
    asyncio.run(populate(source))
    assert migrate("--from", source, "--to", target) == 0

    async def tamper() -> None:
        store = await open_store(target)
        try:
            await store.write_raw([("UPDATE takes SET content = 'changed' WHERE id = 1", [])])
        finally:
            await store.close()

    asyncio.run(tamper())
    capsys.readouterr()
    assert migrate("--from", source, "--to", target) == 1  # resumes, copies nothing, and checks again
    captured = capsys.readouterr()
    assert "takes: MISMATCH" in captured.out and "does NOT match" in captured.err


def test_the_same_database_twice_and_missing_urls_are_refused(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    url = sqlite_url(tmp_path / "x.db")
    assert migrate("--from", url) == 1
    assert "needs --from URL and --to URL" in capsys.readouterr().err
    asyncio.run(populate(url))
    assert migrate("--from", url, "--to", url) == 1  # decided by the file itself, before opening either
    assert "same database" in capsys.readouterr().err


async def test_transfer_refuses_copying_a_store_into_itself(tmp_path: Path) -> None:
    store = await open_store(sqlite_url(tmp_path / "x.db"))
    try:
        with pytest.raises(TransferRefused, match="same database"):
            await transfer(store, store)
    finally:
        await store.close()


def test_the_same_sqlite_file_by_another_name_is_refused_even_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = sqlite_url(tmp_path / "src.db")
    asyncio.run(populate(source))
    (tmp_path / "alias.db").symlink_to(tmp_path / "src.db")
    before = asyncio.run(every_row(source))

    for spelling in (sqlite_url(tmp_path / "alias.db"), sqlite_url(tmp_path / "sub" / ".." / "src.db")):
        (tmp_path / "sub").mkdir(exist_ok=True)
        for force in ((), ("--force",)):
            assert migrate("--from", source, "--to", spelling, *force) == 1
            captured = capsys.readouterr()
            assert "verified" not in captured.out
            [line] = captured.err.splitlines()
            assert "the source and the target are the same database" in line and "with or without --force" in line
    assert asyncio.run(every_row(source)) == before  # nothing was emptied


def test_the_same_postgresql_database_by_another_host_name_is_refused_even_with_force(
    postgres_url: Callable[[], str], capsys: pytest.CaptureFixture[str]
) -> None:
    source = postgres_url()
    asyncio.run(populate(source))
    alias = source.replace("@127.0.0.1:", "@localhost:")
    assert alias != source
    before = asyncio.run(every_row(source))

    for force in ((), ("--force",)):
        assert migrate("--from", source, "--to", alias, *force) == 1
        captured = capsys.readouterr()
        assert "verified" not in captured.out
        assert "the source and the target are the same database" in captured.err
        assert len(captured.err.splitlines()) == 1
    assert asyncio.run(every_row(source)) == before


def test_another_database_of_the_same_postgresql_server_is_not_the_same(
    postgres_url: Callable[[], str], tmp_path: Path
) -> None:
    source, target = postgres_url(), postgres_url()
    asyncio.run(populate(source))
    assert migrate("--from", source, "--to", target.replace("@127.0.0.1:", "@localhost:")) == 0
    assert asyncio.run(every_row(source)) == asyncio.run(every_row(target))


def test_a_missing_sqlite_source_is_refused_and_not_created(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert migrate("--from", sqlite_url(tmp_path / "typo.db"), "--to", sqlite_url(tmp_path / "new.db")) == 1
    assert "there is no database at" in capsys.readouterr().err
    assert not (tmp_path / "typo.db").exists() and not (tmp_path / "new.db").exists()


async def test_a_source_that_lost_rows_during_the_copy_is_never_verified(tmp_path: Path) -> None:
    await populate(sqlite_url(tmp_path / "src.db"))
    source, target = await open_store(sqlite_url(tmp_path / "src.db")), await open_store(sqlite_url(tmp_path / "t.db"))
    try:
        real = target.write_raw

        async def meanwhile(steps: Any) -> None:  # something deletes from the source while it is copied
            await real(steps)
            await source.write_raw([("DELETE FROM takes", [])])

        target.write_raw = meanwhile  # type: ignore[method-assign]
        lines: list[str] = []
        report = await transfer(source, target, batch_size=5, progress=lines.append)
    finally:
        await source.close()
        await target.close()
    assert not report.ok and report.shrunk == ["takes"]
    assert any("takes: MISMATCH the source held 37 rows" in line for line in lines)


async def test_resuming_does_not_depend_on_how_the_source_was_spelled(tmp_path: Path) -> None:
    await populate(sqlite_url(tmp_path / "src.db"))
    (tmp_path / "alias.db").symlink_to(tmp_path / "src.db")
    target = await open_store(sqlite_url(tmp_path / "t.db"))
    try:
        source = await open_store(sqlite_url(tmp_path / "src.db"))
        try:
            restore = drop_connection_at_write(target, 3)
            with pytest.raises(StorageError, match="connection lost"):
                await transfer(source, target, batch_size=5)
            restore()
        finally:
            await source.close()
        source = await open_store(sqlite_url(tmp_path / "alias.db"))  # the same file, by a link
        try:
            report = await transfer(source, target, batch_size=5)
        finally:
            await source.close()
    finally:
        await target.close()
    assert report.resumed and report.ok
