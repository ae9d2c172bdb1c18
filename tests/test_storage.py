"""The store keeps every take it acknowledges, exactly as written, and only for its own guild."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.settings import sqlite_url
from bot.storage import (
    GuildSettings,
    MeetingExists,
    NewMeeting,
    NewTake,
    PendingPoll,
    PinRecord,
    QuoteRedraw,
    SchemaTooNewError,
    StorageError,
    Store,
    Take,
    open_store,
    sqlite_path_from_url,
)
from bot.storage.postgres import PostgresStore
from bot.storage.schema import bundled_migrations_dir, discover_migrations, split_statements
from bot.storage.sqlite import SqliteStore

# Real snowflakes are large; two of these sit near SQLite's 64-bit ceiling on purpose.
GUILD = 811_111_111_111_111_111
OTHER_GUILD = 822_222_222_222_222_222
CHANNEL = 900_000_000_000_000_001
ALICE = 9_223_372_036_854_775_807  # 2**63 - 1
BOB = 100_000_000_000_000_002
ARTICLE = "greenwald-2013-common-factors"
OTHER_ARTICLE = "wampold-2015-great-debate"
T0 = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)
LATEST = len(discover_migrations())
#: Anything a member could type: every code point UTF-8 can carry (not lone surrogates), but NUL.
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"))


def new_take(**changes: Any) -> NewTake:
    fields: dict[str, Any] = {
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "article": ARTICLE,
        "author_id": ALICE,
        "author_name": "Alice",
        "content": "The alliance matters more than the manual.",
        "source": "command",
        "created_at": T0,
    }
    fields.update(changes)
    return NewTake(**fields)


def table_names(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def recorded_versions(path: Path) -> list[tuple[int, str, str]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return list(conn.execute("SELECT version, name, applied_at FROM schema_migrations ORDER BY version"))


def staged_migrations(folder: Path, files: dict[str, str] | None = None) -> Path:
    """A migrations folder holding the real V1 plus whatever files a test adds."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "V1__takes.sql").write_text(
        bundled_migrations_dir().joinpath("V1__takes.sql").read_text(encoding="utf-8"), encoding="utf-8"
    )
    for name, sql in (files or {}).items():
        (folder / name).write_text(sql, encoding="utf-8")
    return folder


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """The storage contract: every test taking ``store`` runs on both backends."""
    if request.param == "postgresql":
        new_database = request.getfixturevalue("postgres_url")
        opened: Store = await PostgresStore.open(new_database())
    else:
        opened = await SqliteStore.open(":memory:")
    yield opened
    await opened.close()


# -- migrations -------------------------------------------------------------------------------


def test_the_bundled_migrations_are_found_as_package_resources() -> None:
    assert [m.label for m in discover_migrations()] == ["V1__takes", "V2__moderation", "V3__counters",
                                                            "V4__forget_member_counters", "V5__take_quotes",
                                                            "V6__meetings", "V7__polls", "V8__performance",
                                                            "V9__take_blocks", "V10__duplicate_rule"]


async def test_a_new_file_is_migrated_to_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "bot.db"  # the folder does not exist yet
    store = await SqliteStore.open(path)
    try:
        assert await store.schema_version() == LATEST
    finally:
        await store.close()
    expected = {"takes", "bot_meta", "guild_settings", "pins", "audit_log", "schema_migrations", "take_quotes",
                "quote_redraws", "meetings", "meeting_takes", "agreements", "polls"}
    assert expected <= table_names(path)
    versions = [(version, name) for version, name, _ in recorded_versions(path)]
    assert versions == [(1, "takes"), (2, "moderation"), (3, "counters"),
                        (4, "forget_member_counters"), (5, "take_quotes"), (6, "meetings"), (7, "polls"),
                        (8, "performance"), (9, "take_blocks"), (10, "duplicate_rule")]
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_reopening_changes_nothing_and_keeps_the_takes(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    store = await SqliteStore.open(path)
    saved = await store.add_take(new_take())
    await store.close()
    versions = recorded_versions(path)

    store = await SqliteStore.open(path)
    try:
        assert await store.get_take(GUILD, saved.id) == saved
        assert await store.schema_version() == LATEST
    finally:
        await store.close()
    assert recorded_versions(path) == versions  # not re-applied: same applied_at


async def test_a_database_from_a_newer_bot_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    store = await SqliteStore.open(path)
    await store.add_take(new_take())
    await store.close()
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("INSERT INTO schema_migrations VALUES (?, 'from_the_future', 'x')", (LATEST + 1,))
    before = path.read_bytes()

    with pytest.raises(SchemaTooNewError) as refused:
        await SqliteStore.open(path)

    assert (refused.value.found, refused.value.supported) == (LATEST + 1, LATEST)
    assert "nothing was changed" in str(refused.value)
    assert path.read_bytes() == before


async def test_a_failing_migration_leaves_a_new_file_empty(tmp_path: Path) -> None:
    folder = staged_migrations(
        tmp_path / "migrations",
        {"V2__broken.sql": "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n"},
    )
    path = tmp_path / "bot.db"

    with pytest.raises(StorageError, match="V2__broken"):
        await SqliteStore.open(path, migrations_dir=folder)

    assert table_names(path) == set()  # not even V1, which ran in the same transaction


async def test_a_failing_migration_keeps_the_previous_version_and_its_takes(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    v1_only = staged_migrations(tmp_path / "v1")
    store = await SqliteStore.open(path, migrations_dir=v1_only)
    saved = await store.add_take(new_take())
    await store.close()
    broken = staged_migrations(
        tmp_path / "broken", {"V2__broken.sql": "CREATE TABLE half_done (x INTEGER);\nCREATE TABLE (;\n"}
    )

    with pytest.raises(StorageError):
        await SqliteStore.open(path, migrations_dir=broken)

    assert "half_done" not in table_names(path)
    assert [version for version, _, _ in recorded_versions(path)] == [1]
    store = await SqliteStore.open(path)  # the real V2 still applies afterwards
    try:
        assert await store.schema_version() == LATEST
        assert await store.get_take(GUILD, saved.id) == saved
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"V3__gap.sql": "SELECT 1;"}, "without gaps"),
        ({"V2_one_underscore.sql": "SELECT 1;"}, "not named"),
        ({"V2__a.sql": "SELECT 1;", "V02__b.sql": "SELECT 1;"}, "not named"),
        ({"V2__own_txn.sql": "BEGIN;\nCREATE TABLE t (x);\nCOMMIT;"}, "owns the transaction"),
    ],
)
def test_a_suspicious_migrations_folder_is_rejected(
    tmp_path: Path, files: dict[str, str], problem: str
) -> None:
    folder = staged_migrations(tmp_path / "migrations", files)
    with pytest.raises(StorageError, match=problem):
        discover_migrations(folder)


def test_statements_split_only_where_they_really_end() -> None:
    sql = """
        -- a comment; with a semicolon
        INSERT INTO t VALUES ('a; b');
        CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = 1; END;
        /* trailing comment */
    """
    statements = split_statements(sql)
    assert len(statements) == 2
    assert statements[0].endswith("INSERT INTO t VALUES ('a; b');")
    assert statements[1].endswith("END;")


# -- takes ------------------------------------------------------------------------------------


async def test_a_saved_take_comes_back_exactly(store: Store) -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    written = new_take(
        content="**Bold** _claim_ 🧠\nwith `code` and <@123>",
        source="modal",
        created_at=T0.astimezone(paris),
        message_url="https://discord.com/channels/1/2/3",
    )

    saved = await store.add_take(written)

    assert saved.content == written.content
    assert saved.created_at == T0 and saved.created_at.tzinfo == dt.UTC
    assert saved.edited_at is None
    assert await store.get_take(GUILD, saved.id) == saved


async def test_an_acknowledged_take_is_already_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    store = await SqliteStore.open(path)
    try:
        saved = await store.add_take(new_take())
        with contextlib.closing(sqlite3.connect(path)) as other:  # another process, in effect
            assert other.execute("SELECT content FROM takes WHERE id = ?", (saved.id,)).fetchone() == (
                saved.content,
            )
    finally:
        await store.close()


async def test_another_guild_cannot_see_or_touch_a_take(store: Store) -> None:
    saved = await store.add_take(new_take())

    assert await store.get_take(OTHER_GUILD, saved.id) is None
    assert await store.edit_take(OTHER_GUILD, saved.id, "vandalised", T0) is None
    assert await store.delete_take(OTHER_GUILD, saved.id) is False
    assert await store.list_takes(OTHER_GUILD, ARTICLE) == []
    assert await store.count_takes(OTHER_GUILD, ARTICLE) == 0
    assert await store.get_take(GUILD, saved.id) == saved
    assert await store.get_take(GUILD, saved.id + 1000) is None


async def test_lists_are_newest_first_and_never_mix_guilds_or_articles(store: Store) -> None:
    mine = [await store.add_take(new_take(content=f"mine {n}", author_id=ALICE if n % 2 else BOB))
            for n in range(5)]
    await store.add_take(new_take(guild_id=OTHER_GUILD, content="elsewhere"))
    await store.add_take(new_take(article=OTHER_ARTICLE, content="other article"))

    listed = await store.list_takes(GUILD, ARTICLE)
    assert [t.id for t in listed] == [t.id for t in reversed(mine)]
    assert await store.list_takes(GUILD, ARTICLE, limit=2) == listed[:2]
    assert await store.list_takes(GUILD, ARTICLE, before_id=listed[1].id) == listed[2:]
    by_alice = await store.list_takes(GUILD, ARTICLE, author_id=ALICE)
    assert [t.content for t in by_alice] == ["mine 3", "mine 1"]
    assert await store.count_takes(GUILD, ARTICLE) == 5
    assert await store.count_takes(GUILD, ARTICLE, author_id=ALICE) == 2
    assert await store.count_takes(GUILD, OTHER_ARTICLE) == 1
    with pytest.raises(ValueError):
        await store.list_takes(GUILD, ARTICLE, limit=0)  # SQLite would read -1 as "no limit"


async def test_editing_replaces_the_text_and_marks_when(store: Store) -> None:
    saved = await store.add_take(new_take())
    later = T0 + dt.timedelta(minutes=5)

    edited = await store.edit_take(GUILD, saved.id, "On reflection, both matter.", later)

    assert edited is not None
    assert (edited.content, edited.edited_at, edited.created_at) == ("On reflection, both matter.", later, T0)
    assert await store.get_take(GUILD, saved.id) == edited
    assert await store.edit_take(GUILD, saved.id + 1, "nobody", later) is None


async def test_deleting_a_take_and_ids_are_never_reused(store: Store) -> None:
    first = await store.add_take(new_take(content="one"))
    second = await store.add_take(new_take(content="two"))

    assert await store.delete_take(GUILD, second.id) is True
    assert await store.delete_take(GUILD, second.id) is False
    third = await store.add_take(new_take(content="three"))

    assert third.id > second.id > first.id
    assert await store.get_take(GUILD, second.id) is None


async def test_cooldown_starts_at_the_members_latest_take_in_that_guild(store: Store) -> None:
    assert await store.last_take_at(GUILD, ALICE) is None
    await store.add_take(new_take(created_at=T0))
    await store.add_take(new_take(article=OTHER_ARTICLE, created_at=T0 + dt.timedelta(minutes=1)))
    await store.add_take(new_take(guild_id=OTHER_GUILD, created_at=T0 + dt.timedelta(hours=1)))

    assert await store.last_take_at(GUILD, ALICE) == T0 + dt.timedelta(minutes=1)
    assert await store.last_take_at(GUILD, BOB) is None


async def test_a_duplicate_is_the_same_text_member_article_within_the_window(store: Store) -> None:
    await store.add_take(new_take(content="Same words.", created_at=T0))

    assert await store.has_recent_duplicate(GUILD, ARTICLE, ALICE, "Same words.", T0) is True  # at `since`
    earlier = T0 - dt.timedelta(minutes=9)
    assert await store.has_recent_duplicate(GUILD, ARTICLE, ALICE, "Same words.", earlier)
    assert not await store.has_recent_duplicate(
        GUILD, ARTICLE, ALICE, "Same words.", T0 + dt.timedelta(microseconds=1)
    )
    assert not await store.has_recent_duplicate(GUILD, ARTICLE, ALICE, "same words.", T0)
    assert not await store.has_recent_duplicate(GUILD, ARTICLE, BOB, "Same words.", T0)
    assert not await store.has_recent_duplicate(GUILD, OTHER_ARTICLE, ALICE, "Same words.", T0)
    assert not await store.has_recent_duplicate(OTHER_GUILD, ARTICLE, ALICE, "Same words.", T0)


async def test_a_member_exports_and_then_erases_their_takes_everywhere(store: Store) -> None:
    late = await store.add_take(new_take(content="late", created_at=T0 + dt.timedelta(hours=2)))
    early = await store.add_take(new_take(guild_id=OTHER_GUILD, content="early", created_at=T0))
    middle = await store.add_take(new_take(article=OTHER_ARTICLE, created_at=T0 + dt.timedelta(hours=1)))
    bobs = await store.add_take(new_take(author_id=BOB, author_name="Bob"))

    assert await store.member_takes(ALICE) == [early, middle, late]  # oldest first, not insertion order
    assert await store.member_takes(ALICE, guild_id=GUILD) == [middle, late]

    assert await store.delete_member_data(ALICE) == 3
    assert await store.member_takes(ALICE) == []
    assert await store.get_take(GUILD, bobs.id) == bobs
    assert await store.delete_member_data(ALICE) == 0
    # Not even a count of zero keeps the member's id.
    assert await store.fetch_raw(f"SELECT author_id FROM take_member_counts WHERE author_id = {ALICE}") == []
    assert len(await store.fetch_raw(f"SELECT author_id FROM take_member_counts WHERE author_id = {BOB}")) == 1


async def test_stats_count_per_utc_day_zero_filled_oldest_first(store: Store) -> None:
    today = dt.date(2026, 1, 10)
    midnight = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    await store.add_take(new_take(created_at=midnight))  # first instant of today
    await store.add_take(new_take(author_id=BOB, created_at=midnight + dt.timedelta(days=1, microseconds=-1)))
    await store.add_take(new_take(author_id=BOB, created_at=midnight - dt.timedelta(days=2)))
    await store.add_take(new_take(created_at=midnight - dt.timedelta(days=9)))  # before the window
    await store.add_take(new_take(guild_id=OTHER_GUILD, created_at=midnight))
    await store.add_take(new_take(article=OTHER_ARTICLE, created_at=midnight))

    stats = await store.take_stats(GUILD, ARTICLE, days=7, today=today)

    assert (stats.takes, stats.members) == (4, 2)
    assert [day for day, _ in stats.per_day] == [dt.date(2026, 1, d) for d in range(4, 11)]
    assert [count for _, count in stats.per_day] == [0, 0, 0, 0, 1, 0, 2]
    assert (await store.take_stats(GUILD, ARTICLE, days=1, today=today)).per_day == ((today, 2),)
    empty = await store.take_stats(GUILD, "unknown article", days=3, today=today)
    assert (empty.takes, empty.members, [c for _, c in empty.per_day]) == (0, 0, [0, 0, 0])


async def test_export_bounds_include_since_and_exclude_until(store: Store) -> None:
    hour = dt.timedelta(hours=1)
    third = await store.add_take(new_take(content="third", created_at=T0 + 2 * hour))
    first = await store.add_take(new_take(content="first", created_at=T0))
    second = await store.add_take(new_take(content="second", created_at=T0 + hour))
    await store.add_take(new_take(guild_id=OTHER_GUILD, created_at=T0 + hour))

    assert await store.export_takes(GUILD, ARTICLE) == [first, second, third]
    assert await store.export_takes(GUILD, ARTICLE, since=T0 + hour) == [second, third]
    assert await store.export_takes(GUILD, ARTICLE, until=T0 + hour) == [first]
    assert await store.export_takes(GUILD, ARTICLE, since=T0 + hour, until=T0 + 2 * hour) == [second]


async def test_retention_purges_only_takes_before_the_cutoff(store: Store) -> None:
    day = dt.timedelta(days=1)
    await store.add_take(new_take(created_at=T0 - 2 * day))
    await store.add_take(new_take(guild_id=OTHER_GUILD, created_at=T0 - 2 * day))
    at_cutoff = await store.add_take(new_take(created_at=T0 - day))
    recent = await store.add_take(new_take(created_at=T0))

    assert await store.purge_takes_before(T0 - day) == 2
    assert await store.export_takes(GUILD, ARTICLE) == [at_cutoff, recent]
    assert await store.purge_takes_before(T0 - day) == 0


async def test_text_utf8_cannot_carry_is_refused_not_mangled(store: Store) -> None:
    with pytest.raises(StorageError):
        await store.add_take(new_take(content="half a pair \ud800"))
    assert await store.count_takes(GUILD, ARTICLE) == 0


async def test_naive_times_are_refused_before_anything_is_written(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.add_take(new_take(created_at=dt.datetime(2026, 1, 1)))
    assert await store.count_takes(GUILD, ARTICLE) == 0


# -- metadata, settings, pins, audit ------------------------------------------------------------


async def test_meta_values_are_stored_and_overwritten(store: Store) -> None:
    assert await store.get_meta("last_sync") is None
    await store.set_meta("last_sync", "v1")
    await store.set_meta("last_sync", "v2")
    assert await store.get_meta("last_sync") == "v2"


async def test_guild_settings_round_trip_and_prefixes(store: Store) -> None:
    assert await store.get_guild_settings(GUILD) == GuildSettings(guild_id=GUILD)
    chosen = GuildSettings(
        guild_id=GUILD,
        moderator_role_id=555_555_555_555_555_555,
        take_max_length=800,
        take_cooldown_seconds=0,
        take_channel_ids=frozenset({CHANNEL, 900_000_000_000_000_002}),
        anonymous_lists=True,
        prefix="?",
    )
    await store.save_guild_settings(chosen)
    assert await store.get_guild_settings(GUILD) == chosen

    relaxed = GuildSettings(guild_id=GUILD, prefix="cf!")
    await store.save_guild_settings(relaxed)
    assert await store.get_guild_settings(GUILD) == relaxed
    await store.save_guild_settings(GuildSettings(guild_id=OTHER_GUILD, take_max_length=100))
    assert await store.guild_prefixes() == {GUILD: "cf!"}


async def test_guild_settings_the_schema_cannot_hold_are_refused(store: Store) -> None:
    with pytest.raises(StorageError):
        await store.save_guild_settings(GuildSettings(guild_id=GUILD, take_max_length=0))
    assert await store.get_guild_settings(GUILD) == GuildSettings(guild_id=GUILD)


async def test_pins_are_upserted_and_deleted_per_channel_and_article(store: Store) -> None:
    assert await store.get_pin(GUILD, CHANNEL, ARTICLE) is None
    pin = PinRecord(GUILD, CHANNEL, ARTICLE, message_id=1, content_hash="aaa", pinned_at=T0)
    await store.save_pin(pin)
    assert await store.get_pin(GUILD, CHANNEL, ARTICLE) == pin

    refreshed = PinRecord(GUILD, CHANNEL, ARTICLE, 2, "bbb", pinned_at=T0 + dt.timedelta(days=1))
    await store.save_pin(refreshed)
    await store.save_pin(PinRecord(GUILD, CHANNEL, OTHER_ARTICLE, 3, "ccc", T0))
    assert await store.get_pin(GUILD, CHANNEL, ARTICLE) == refreshed
    assert await store.get_pin(OTHER_GUILD, CHANNEL, ARTICLE) is None

    assert await store.delete_pin(GUILD, CHANNEL, ARTICLE) is True
    assert await store.delete_pin(GUILD, CHANNEL, ARTICLE) is False
    assert await store.get_pin(GUILD, CHANNEL, ARTICLE) is None
    assert await store.get_pin(GUILD, CHANNEL, OTHER_ARTICLE) is not None


async def test_the_audit_log_lists_a_guilds_entries_newest_first(store: Store) -> None:
    entries = [
        await store.add_audit(GUILD, BOB, "take.delete", f"take #{n}", T0 + dt.timedelta(minutes=n))
        for n in range(3)
    ]
    await store.add_audit(OTHER_GUILD, BOB, "settings.save", "prefix=?", T0)

    assert list(await store.list_audit(GUILD)) == entries[::-1]
    assert list(await store.list_audit(GUILD, limit=2)) == entries[:0:-1]
    assert entries[0].created_at == T0 and entries[0].detail == "take #0"


# -- lifecycle and failure ----------------------------------------------------------------------


async def test_closing_twice_is_harmless_and_a_closed_store_refuses_work() -> None:
    store = await SqliteStore.open(":memory:")
    await store.close()
    await store.close()
    with pytest.raises(StorageError, match="closed"):
        await store.add_take(new_take())


async def test_a_refused_write_leaves_no_row_and_the_store_keeps_working(store: Store) -> None:
    with pytest.raises(StorageError) as refused:
        await store.add_take(new_take(source="carrier pigeon"))
    assert isinstance(refused.value.__cause__, sqlite3.IntegrityError | asyncpg.IntegrityConstraintViolationError)
    assert await store.count_takes(GUILD, ARTICLE) == 0

    saved = await store.add_take(new_take())
    assert await store.list_takes(GUILD, ARTICLE) == [saved]


async def test_a_transaction_failing_halfway_keeps_none_of_it() -> None:
    store = await SqliteStore.open(":memory:")
    insert = (
        "INSERT INTO takes (guild_id, channel_id, article, author_id, author_name, content, source, "
        "created_at) VALUES (?, ?, ?, ?, 'Alice', 'text', ?, '2026-01-01T00:00:00.000000+00:00')"
    )
    with pytest.raises(StorageError):
        async with store._writing() as conn:
            await conn.execute(insert, (GUILD, CHANNEL, ARTICLE, ALICE, "command"))
            await conn.execute(insert, (GUILD, CHANNEL, ARTICLE, ALICE, "not a source"))
    assert await store.count_takes(GUILD, ARTICLE) == 0
    await store.close()


async def test_a_lost_connection_surfaces_as_storage_error() -> None:
    store = await SqliteStore.open(":memory:")
    assert store._conn is not None
    await store._conn.close()
    if store._reader is not None:
        await store._reader.close()

    with pytest.raises(StorageError):
        await store.add_take(new_take())
    with pytest.raises(StorageError):
        await store.count_takes(GUILD, ARTICLE)
    await store.close()


async def test_two_hundred_members_posting_at_once_all_keep_their_takes(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "bot.db")
    try:
        saved = await asyncio.gather(
            *(store.add_take(new_take(author_id=n, content=f"take {n}")) for n in range(200))
        )
        assert len({take.id for take in saved}) == 200
        assert await store.count_takes(GUILD, ARTICLE) == 200
        for take in saved:
            assert await store.get_take(GUILD, take.id) == take
    finally:
        await store.close()


async def test_one_bad_write_among_many_costs_only_itself(store: Store) -> None:
    writes = [store.add_take(new_take(content=f"good {n}")) for n in range(50)]
    writes.insert(25, store.add_take(new_take(source="fax")))

    results = await asyncio.gather(*writes, return_exceptions=True)

    assert sum(isinstance(result, StorageError) for result in results) == 1
    assert sum(isinstance(result, Take) for result in results) == 50
    assert await store.count_takes(GUILD, ARTICLE) == 50


# -- DATABASE_URL -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/bot.db", Path("data/bot.db")),
        ("sqlite:////srv/bot/bot.db", Path("/srv/bot/bot.db")),
        ("sqlite:///:memory:", ":memory:"),
        ("sqlite+aiosqlite:///bot.db", Path("bot.db")),
    ],
)
def test_sqlite_urls_name_a_path(url: str, expected: Path | str) -> None:
    assert sqlite_path_from_url(url) == expected


def test_the_settings_default_url_round_trips(tmp_path: Path) -> None:
    assert sqlite_path_from_url(sqlite_url(tmp_path / "commonfactors.db")) == tmp_path / "commonfactors.db"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://bot:hunter2@db/commonfactors", "names a PostgreSQL database, not a SQLite file"),
        ("postgres://bot:hunter2@db/commonfactors", "names a PostgreSQL database, not a SQLite file"),
        ("postgresql+asyncpg://bot:hunter2@db/cf", "names a PostgreSQL database, not a SQLite file"),
        ("mysql://bot:hunter2@db/cf", "'mysql' is not supported"),
        ("", "malformed"),
        ("bot.db", "malformed"),
        ("://bot.db", "malformed"),
        ("sqlite://", "malformed"),
        ("sqlite://localhost/bot.db", "malformed"),
        ("sqlite:///", "names no database file"),
        ("sqlite:///bot.db?mode=ro", "options"),
    ],
)
def test_unusable_database_urls_are_explained(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message) as refused:
        sqlite_path_from_url(url)
    assert "hunter2" not in str(refused.value)


async def test_open_store_resolves_relative_paths_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = await open_store("sqlite:///data/bot.db")
    await store.close()
    assert (tmp_path / "data" / "bot.db").is_file()


async def test_open_store_opens_absolute_and_memory_urls(tmp_path: Path) -> None:
    absolute = await open_store(f"sqlite:///{tmp_path / 'abs.db'}")  # four slashes in all
    await absolute.close()
    assert (tmp_path / "abs.db").is_file()
    memory = await open_store("sqlite:///:memory:")
    try:
        assert await memory.schema_version() == LATEST
    finally:
        await memory.close()
    # A PostgreSQL URL opens the PostgreSQL backend; a failure names the database, never the password.
    refusal = r"cannot connect to the PostgreSQL database 'cf' on 127\.0\.0\.1:1\b"
    with pytest.raises(StorageError, match=refusal) as refused:
        await open_store("postgresql://bot:hunter2@127.0.0.1:1/cf")
    assert "hunter2" not in str(refused.value)


# -- properties ---------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(content=TEXT, author_name=TEXT, article=TEXT, message_url=st.none() | TEXT, edit=TEXT)
def test_any_text_comes_back_exactly(
    content: str, author_name: str, article: str, message_url: str | None, edit: str
) -> None:
    async def scenario() -> None:
        store = await SqliteStore.open(":memory:")
        try:
            written = new_take(
                content=content, author_name=author_name, article=article, message_url=message_url
            )
            saved = await store.add_take(written)
            assert (saved.content, saved.author_name, saved.article, saved.message_url) == (
                content, author_name, article, message_url
            )
            assert await store.get_take(GUILD, saved.id) == saved
            assert await store.list_takes(GUILD, article) == [saved]
            assert await store.has_recent_duplicate(GUILD, article, ALICE, content, T0)
            edited = await store.edit_take(GUILD, saved.id, edit, T0)
            assert edited is not None and edited.content == edit
            assert await store.member_takes(ALICE) == [edited]
        finally:
            await store.close()

    asyncio.run(scenario())


@settings(max_examples=50, deadline=None)
@given(
    owners=st.lists(st.sampled_from(["mine", "other guild", "other article", "other author"]), max_size=40),
    page_size=st.integers(min_value=1, max_value=7),
    only_alice=st.booleans(),
)
def test_keyset_pages_visit_every_take_once_newest_first(
    owners: list[str], page_size: int, only_alice: bool
) -> None:
    async def scenario() -> None:
        store = await SqliteStore.open(":memory:")
        try:
            expected: list[int] = []
            for n, owner in enumerate(owners):
                take = await store.add_take(
                    new_take(
                        guild_id=OTHER_GUILD if owner == "other guild" else GUILD,
                        article=OTHER_ARTICLE if owner == "other article" else ARTICLE,
                        author_id=BOB if owner == "other author" else ALICE,
                        content=f"take {n}",
                    )
                )
                if owner == "mine" or (owner == "other author" and not only_alice):
                    expected.append(take.id)

            seen: list[int] = []
            before: int | None = None
            while True:
                page = await store.list_takes(
                    GUILD, ARTICLE, author_id=ALICE if only_alice else None, before_id=before, limit=page_size
                )
                seen.extend(take.id for take in page)
                if len(page) < page_size:
                    break
                before = page[-1].id
            assert seen == sorted(expected, reverse=True)
        finally:
            await store.close()

    asyncio.run(scenario())


async def test_the_store_runs_on_aiosqlites_thread(tmp_path: Path) -> None:
    """The store's connections are aiosqlite's, and whole functions run on its worker thread
    (the internal doors of aiosqlite we use: ``Connection._execute`` and its queue ``_tx``)."""
    import threading

    import aiosqlite

    store = await SqliteStore.open(tmp_path / "thread.db")
    try:
        conn = store._conn  # type: ignore[attr-defined]
        assert isinstance(conn._db, aiosqlite.Connection)
        ran_on = await conn.run(lambda raw: (threading.current_thread(), raw.execute("SELECT 1").fetchone()[0]))
        assert ran_on[0] is not threading.current_thread() and ran_on[1] == 1
        assert ran_on[0] is conn._db._thread
        assert conn is not None
        submitted = await conn.submit(lambda raw: (threading.current_thread(), raw.execute("SELECT 2").fetchone()[0]))
        assert submitted == (conn._db._thread, 2)  # the queue behind _execute (_tx), one hop too
    finally:
        await store.close()
    with pytest.raises(ValueError):
        await conn.run(lambda raw: None)
    with pytest.raises(ValueError):
        conn.submit(lambda raw: None)  # closed


# -- atomic steps the services rely on (both backends) ------------------------------------------


async def test_an_exclusive_section_admits_one_task_at_a_time(store: Store) -> None:
    inside = most = 0

    async def section(key: str) -> None:
        nonlocal inside, most
        async with store.exclusive("pin", GUILD, CHANNEL, key):
            inside += 1
            most = max(most, inside)
            for _ in range(3):
                await asyncio.sleep(0)
            inside -= 1

    await asyncio.gather(*(section(ARTICLE) for _ in range(20)))
    assert most == 1
    await asyncio.gather(section(ARTICLE), section(OTHER_ARTICLE))  # other keys do not wait for it


async def test_settings_updates_at_once_keep_every_change(store: Store) -> None:
    def grow(current: GuildSettings) -> GuildSettings:
        return GuildSettings(guild_id=current.guild_id, take_max_length=(current.take_max_length or 0) + 1,
                             prefix=current.prefix, anonymous_lists=current.anonymous_lists)

    results = await asyncio.gather(*(store.update_guild_settings(GUILD, grow) for _ in range(25)))

    assert (await store.get_guild_settings(GUILD)).take_max_length == 25  # no increment lost
    assert sorted(after.take_max_length or 0 for _, after in results) == list(range(1, 26))
    unchanged = await store.update_guild_settings(GUILD, lambda current: current)
    assert unchanged[0] == unchanged[1]


# -- the bot's messages that quote takes (V5) ----------------------------------------------------

MESSAGE = 1_300_000_000_000_000_001
OTHER_MESSAGE = 1_300_000_000_000_000_002


async def test_a_remembered_message_is_queued_when_a_take_it_quotes_is_edited_or_deleted(store: Store) -> None:
    first = await store.add_take(new_take(content="first"))
    second = await store.add_take(new_take(content="second", author_id=BOB))
    await store.remember_quotes(GUILD, CHANNEL, MESSAGE, [second.id, first.id], "listing", T0)
    await store.remember_quotes(None, CHANNEL + 1, OTHER_MESSAGE, [first.id], "show", T0)  # a DM
    assert await store.quoted_take_ids(MESSAGE) == [first.id, second.id]
    assert await store.pending_redraws(limit=10) == []

    await store.edit_take(GUILD, second.id, "second, edited", T0)
    assert await store.pending_redraws(limit=10) == [QuoteRedraw(MESSAGE, GUILD, CHANNEL, "listing", 0)]
    assert await store.quoted_take_ids(MESSAGE) == [first.id, second.id]  # an edit keeps what it quotes
    await store.finish_redraw(MESSAGE)

    assert await store.delete_member_data(ALICE) == 1  # forgetme: the quotes go with the take
    assert await store.quoted_take_ids(MESSAGE) == [second.id]
    assert await store.quoted_take_ids(OTHER_MESSAGE) == []
    assert await store.pending_redraws(limit=10) == [QuoteRedraw(MESSAGE, GUILD, CHANNEL, "listing", 0),
                                                     QuoteRedraw(OTHER_MESSAGE, None, CHANNEL + 1, "show", 0)]
    held = await store.fetch_raw("SELECT COUNT(*) FROM take_quotes WHERE take_id = " + str(first.id))
    assert held == [(0,)]


async def test_every_way_a_take_goes_queues_the_messages_quoting_it(store: Store) -> None:
    old = await store.add_take(new_take(content="old"))
    kept = await store.add_take(new_take(content="kept", created_at=T0 + dt.timedelta(days=2)))
    gone = await store.add_take(new_take(content="gone", author_id=BOB, created_at=T0 + dt.timedelta(days=2)))
    for message, take in ((MESSAGE, old), (OTHER_MESSAGE, gone), (MESSAGE + 7, kept)):
        await store.remember_quotes(GUILD, CHANNEL, message, [take.id], "show", T0)
    assert await store.purge_takes_before(T0 + dt.timedelta(days=1)) == 1  # retention
    assert await store.delete_take(GUILD, gone.id)
    assert [r.message_id for r in await store.pending_redraws(limit=10)] == [MESSAGE, OTHER_MESSAGE]
    assert await store.quoted_take_ids(MESSAGE + 7) == [kept.id]


async def test_remembering_replaces_what_a_message_quoted_and_a_missing_take_queues_it(store: Store) -> None:
    first = await store.add_take(new_take(content="first"))
    second = await store.add_take(new_take(content="second", author_id=BOB))
    await store.remember_quotes(GUILD, CHANNEL, MESSAGE, [first.id], "listing", T0)
    await store.remember_quotes(GUILD, CHANNEL, MESSAGE, [second.id], "listing", T0)  # the next page
    assert await store.quoted_take_ids(MESSAGE) == [second.id]
    await store.delete_take(GUILD, first.id)
    assert await store.pending_redraws(limit=10) == []  # the message no longer shows it

    await store.remember_quotes(GUILD, CHANNEL, OTHER_MESSAGE, [second.id, first.id], "listing", T0)
    assert await store.quoted_take_ids(OTHER_MESSAGE) == [second.id]
    assert [r.message_id for r in await store.pending_redraws(limit=10)] == [OTHER_MESSAGE]


async def test_a_redraw_that_fails_is_retried_and_a_forgotten_message_leaves_no_trace(store: Store) -> None:
    take = await store.add_take(new_take())
    for message in (MESSAGE, OTHER_MESSAGE):
        await store.remember_quotes(GUILD, CHANNEL, message, [take.id], "show", T0)
    await store.edit_take(GUILD, take.id, "changed", T0)
    await store.retry_redraw(MESSAGE)
    assert [(r.message_id, r.attempts) for r in await store.pending_redraws(limit=10)] == [
        (OTHER_MESSAGE, 0), (MESSAGE, 1)]  # fewest failed tries first
    assert [r.message_id for r in await store.pending_redraws(limit=1)] == [OTHER_MESSAGE]
    await store.forget_message(MESSAGE)
    assert await store.quoted_take_ids(MESSAGE) == []
    assert [r.message_id for r in await store.pending_redraws(limit=10)] == [OTHER_MESSAGE]


async def test_a_servers_remembered_messages_are_queued_together_and_only_its_own(store: Store) -> None:
    here = await store.add_take(new_take(content="here"))
    there = await store.add_take(new_take(content="there", guild_id=OTHER_GUILD))
    await store.remember_quotes(GUILD, CHANNEL, MESSAGE, [here.id], "listing-all", T0)
    await store.remember_quotes(GUILD, CHANNEL, MESSAGE + 7, [here.id], "show", T0)
    await store.remember_quotes(OTHER_GUILD, CHANNEL + 1, OTHER_MESSAGE, [there.id], "show", T0)
    assert await store.queue_guild_redraws(GUILD) == 2
    assert await store.queue_guild_redraws(GUILD) == 0  # already queued
    assert [r.message_id for r in await store.pending_redraws(limit=10)] == [MESSAGE, MESSAGE + 7]
    assert await store.quoted_take_ids(MESSAGE) == [here.id]  # queuing keeps what they quote


# -- meetings (V6) ------------------------------------------------------------------------------

def new_meeting(**changes: Any) -> NewMeeting:
    fields: dict[str, Any] = {"guild_id": GUILD, "channel_id": CHANNEL, "article": ARTICLE,
                              "starts_at": T0 + dt.timedelta(days=2), "duration_minutes": 60,
                              "moderator_id": BOB, "next_due_at": T0 + dt.timedelta(days=1)}
    fields.update(changes)
    return NewMeeting(**fields)


async def test_a_meeting_round_trips_and_one_is_active_per_channel_and_article(store: Store) -> None:
    meeting = await store.add_meeting(new_meeting())
    assert meeting.state == "scheduled" and meeting.question == 0
    assert await store.get_meeting(GUILD, meeting.id) == meeting
    assert await store.get_meeting(OTHER_GUILD, meeting.id) is None  # guilds never see each other's
    assert await store.active_meeting(GUILD, CHANNEL, ARTICLE) == meeting
    with pytest.raises(MeetingExists):
        await store.add_meeting(new_meeting(starts_at=T0 + dt.timedelta(days=5)))
    other = await store.add_meeting(new_meeting(article=OTHER_ARTICLE))  # another article may meet here
    assert other.id != meeting.id

    running = dataclasses.replace(meeting, state="running", question=2, thread_id=CHANNEL + 1, event_id=77,
                                  announcement_id=78, reminded_day=True, reminded_hour=True,
                                  started_at=T0 + dt.timedelta(days=2), next_due_at=T0 + dt.timedelta(days=2, hours=1))
    await store.save_meeting(running)
    assert await store.get_meeting(GUILD, meeting.id) == running
    assert await store.meeting_in_thread(GUILD, CHANNEL + 1) == running
    assert await store.meeting_in_thread(OTHER_GUILD, CHANNEL + 1) is None
    assert [m.id for m in await store.upcoming_meetings(GUILD, ARTICLE)] == [meeting.id]

    ended = dataclasses.replace(running, state="ended", next_due_at=None, ended_at=T0 + dt.timedelta(days=3))
    await store.save_meeting(ended)
    assert await store.active_meeting(GUILD, CHANNEL, ARTICLE) is None
    again = await store.add_meeting(new_meeting())  # the channel is free for the next one
    assert again.id > other.id


async def test_due_meetings_come_from_next_due_at_earliest_first(store: Store) -> None:
    late = await store.add_meeting(new_meeting(next_due_at=T0 + dt.timedelta(hours=3)))
    early = await store.add_meeting(new_meeting(channel_id=CHANNEL + 5, next_due_at=T0 + dt.timedelta(hours=1)))
    await store.add_meeting(new_meeting(channel_id=CHANNEL + 6, next_due_at=None))
    cancelled = await store.add_meeting(new_meeting(channel_id=CHANNEL + 7, next_due_at=T0))
    await store.save_meeting(dataclasses.replace(cancelled, state="cancelled"))

    assert await store.due_meetings(T0) == []
    assert [m.id for m in await store.due_meetings(T0 + dt.timedelta(hours=2))] == [early.id]
    assert [m.id for m in await store.due_meetings(T0 + dt.timedelta(hours=3))] == [early.id, late.id]
    assert await store.next_meeting_due_at() == T0 + dt.timedelta(hours=1)


async def test_a_meetings_takes_keep_their_question_and_go_with_the_take(store: Store) -> None:
    meeting = await store.add_meeting(new_meeting())
    url = f"https://discord.com/channels/{GUILD}/{CHANNEL + 1}/123456789012345678"
    first = await store.add_take(new_take(meeting_id=meeting.id, question=1, message_url=url))
    second = await store.add_take(new_take(author_id=BOB, content="second", meeting_id=meeting.id, question=2))
    await store.add_take(new_take(content="outside the meeting"))
    assert await store.meeting_takes(GUILD, meeting.id) == [(first, 1), (second, 2)]
    assert await store.meeting_takes(OTHER_GUILD, meeting.id) == []
    assert await store.take_of_message(GUILD, 123456789012345678) == first.id  # a 👍 on the message finds it
    assert await store.take_of_message(OTHER_GUILD, 123456789012345678) is None

    assert await store.delete_take(GUILD, first.id)
    assert await store.meeting_takes(GUILD, meeting.id) == [(second, 2)]
    await store.delete_member_data(BOB)
    assert await store.meeting_takes(GUILD, meeting.id) == []


async def test_agreements_count_once_per_member_and_leave_with_the_member(store: Store) -> None:
    take = await store.add_take(new_take())
    other = await store.add_take(new_take(author_id=BOB, content="another"))
    assert await store.add_agreement(GUILD, take.id, BOB, T0)
    assert not await store.add_agreement(GUILD, take.id, BOB, T0)  # once per member
    assert await store.add_agreement(GUILD, take.id, ALICE, T0)
    assert await store.add_agreement(GUILD, other.id, ALICE, T0)
    assert not await store.add_agreement(OTHER_GUILD, take.id, ALICE + 0, T0)  # not another guild's take
    assert await store.agreement_counts(GUILD, [take.id, other.id, 999]) == {take.id: 2, other.id: 1}
    assert await store.agreement_counts(OTHER_GUILD, [take.id]) == {}
    assert await store.count_agreed_takes(GUILD, ARTICLE) == 2
    assert await store.most_agreed_takes(GUILD, ARTICLE) == [take, other]  # most agreed first
    assert await store.most_agreed_takes(GUILD, ARTICLE, offset=1, limit=1) == [other]
    assert await store.most_agreed_takes(GUILD, OTHER_ARTICLE) == []

    assert await store.remove_agreement(GUILD, take.id, BOB)
    assert not await store.remove_agreement(GUILD, take.id, BOB)
    assert await store.agreement_counts(GUILD, [take.id]) == {take.id: 1}

    await store.delete_member_data(ALICE)  # erasure: her takes and every agreement she gave
    assert await store.agreement_counts(GUILD, [take.id, other.id]) == {}
    assert await store.fetch_raw("SELECT COUNT(*) FROM agreements") == [(0,)]


async def test_meeting_settings_round_trip(store: Store) -> None:
    chosen = GuildSettings(guild_id=GUILD, timezone="Europe/Berlin", meeting_reminders=False)
    await store.save_guild_settings(chosen)
    assert await store.get_guild_settings(GUILD) == chosen


# -- polls (V7) ---------------------------------------------------------------------------------

async def test_a_poll_is_owed_until_one_caller_claims_it(store: Store) -> None:
    early = PendingPoll(MESSAGE, GUILD, CHANNEL, T0 + dt.timedelta(hours=1))
    late = PendingPoll(OTHER_MESSAGE, OTHER_GUILD, CHANNEL + 1, T0 + dt.timedelta(hours=5))
    await store.add_poll(late)
    await store.add_poll(early)
    assert await store.next_poll_closes_at() == early.closes_at
    assert await store.closed_polls(T0) == []
    assert await store.closed_polls(T0 + dt.timedelta(hours=1)) == [early]
    assert await store.closed_polls(T0 + dt.timedelta(days=1), limit=1) == [early]
    assert await store.closed_polls(T0 + dt.timedelta(days=1)) == [early, late]

    assert await store.claim_poll(MESSAGE)
    assert not await store.claim_poll(MESSAGE)  # the result is posted once
    assert await store.closed_polls(T0 + dt.timedelta(days=1)) == [late]
    assert await store.claim_poll(OTHER_MESSAGE)
    assert await store.next_poll_closes_at() is None


@pytest.mark.parametrize(("function", "spelled"), [("cf_add_takes", "{}s"), ("cf_add_take", "new_{}")])
async def test_the_insert_functions_take_every_new_take_column(postgres_url: Any, function: str, spelled: str) -> None:
    """cf_add_takes and cf_add_take (PostgreSQL's V8, replaced in V10) are the takes' INSERT: a column added to
    NEW_TAKE_COLUMNS without a migration that replaces them would be silently dropped."""
    from bot.storage.base import NEW_TAKE_COLUMNS

    url = postgres_url()
    store = await PostgresStore.open(url)
    await store.close()
    conn = await asyncpg.connect(url)
    try:
        names, kinds = await conn.fetchrow(
            "SELECT proargnames[2:$1 + 1], (SELECT array_agg(format_type(t, NULL) ORDER BY n) FROM "
            "unnest(proargtypes::oid[]) WITH ORDINALITY AS a(t, n) WHERE n BETWEEN 2 AND $1 + 1) "
            "FROM pg_proc WHERE proname = $2", len(NEW_TAKE_COLUMNS), function)
    finally:
        await conn.close()
    assert names == [spelled.format(name) for name, _ in NEW_TAKE_COLUMNS]
    array = "[]" if function == "cf_add_takes" else ""
    assert kinds == [("timestamp with time zone" if kind == "timestamptz" else kind) + array
                     for _, kind in NEW_TAKE_COLUMNS]
