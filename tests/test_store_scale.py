"""The store at scale, without timing anything: counters that always equal a recount, group
commit (one COMMIT, one fate for every take in it), the take rules checked in the insert, reads
beside writes, paging by offset, chunked reads, and the database file deleted under the bot."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from simcord import assert_error

from bot.errors import NotSaved
from bot.storage import DatabaseFileGone, NewTake, StorageError, Store, Take, TakeChecks, TakeRefused
from bot.storage.postgres import PostgresStore, bundled_postgres_migrations_dir
from bot.storage.schema import bundled_migrations_dir
from bot.storage.sqlite import SqliteStore
from tests.conftest import World, poison_commits

GUILDS = (811_111_111_111_111_111, 822_222_222_222_222_222)
ARTICLES = ("greenwald-2013-common-factors", "wampold-2015-great-debate")
AUTHORS = (9_223_372_036_854_775_807, 100_000_000_000_000_002, 100_000_000_000_000_003)
T0 = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)
ARTICLE = "commonfactors"


def new_take(n: int = 0, **changes: Any) -> NewTake:
    fields: dict[str, Any] = {
        "guild_id": GUILDS[0], "channel_id": 1, "article": ARTICLES[0], "author_id": AUTHORS[0],
        "author_name": "Alice", "content": f"take {n}", "source": "command",
        "created_at": T0 + dt.timedelta(seconds=n),
    }
    fields.update(changes)
    return NewTake(**fields)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A file store (a write connection and a WAL read connection, as the bot runs), or PostgreSQL."""
    if request.param == "postgresql":
        opened: Store = await PostgresStore.open(request.getfixturevalue("postgres_url")())
    else:
        opened = await SqliteStore.open(tmp_path / "bot.db")
    yield opened
    await opened.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """For what only SQLite has: its connections and write lock."""
    store = await SqliteStore.open(tmp_path / "bot.db")
    yield store
    await store.close()


# -- counters -------------------------------------------------------------------------------------


class CountersMachine(RuleBasedStateMachine):
    """Any sequence of adds, edits, deletes, forgetme and purges leaves counters equal to a recount."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.store = self.run(SqliteStore.open(":memory:"))
        self.takes: dict[int, Take] = {}
        self.clock = 0

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.run(self.store.close())
        self.loop.close()

    @rule(guild=st.sampled_from(GUILDS), article=st.sampled_from(ARTICLES), author=st.sampled_from(AUTHORS),
          hours=st.integers(0, 24 * 40), many=st.integers(1, 3))
    def add(self, guild: int, article: str, author: int, hours: int, many: int) -> None:
        async def add_some() -> list[Take]:
            return await asyncio.gather(*(self.store.add_take(new_take(
                guild_id=guild, article=article, author_id=author, content=f"take {self.clock}-{n}",
                created_at=T0 + dt.timedelta(hours=hours))) for n in range(many)))
        self.clock += 1
        for take in self.run(add_some()):
            self.takes[take.id] = take

    @precondition(lambda self: self.takes)
    @rule(data=st.data())
    def edit(self, data: st.DataObject) -> None:
        take_id = data.draw(st.sampled_from(sorted(self.takes)))
        take = self.takes[take_id]
        edited = self.run(self.store.edit_take(take.guild_id, take_id, "changed", T0 + dt.timedelta(days=50)))
        assert edited is not None

    @precondition(lambda self: self.takes)
    @rule(data=st.data(), wrong_guild=st.booleans())
    def delete(self, data: st.DataObject, wrong_guild: bool) -> None:
        take_id = data.draw(st.sampled_from(sorted(self.takes)))
        take = self.takes[take_id]
        guild = GUILDS[1] if take.guild_id == GUILDS[0] else GUILDS[0]
        deleted = self.run(self.store.delete_take(guild if wrong_guild else take.guild_id, take_id))
        assert deleted is not wrong_guild
        if deleted:
            del self.takes[take_id]

    @rule(author=st.sampled_from(AUTHORS))
    def forgetme(self, author: int) -> None:
        removed = self.run(self.store.delete_member_data(author))
        assert removed == sum(t.author_id == author for t in self.takes.values())
        self.takes = {i: t for i, t in self.takes.items() if t.author_id != author}

    @rule(days=st.integers(0, 41))
    def purge(self, days: int) -> None:
        cutoff = T0 + dt.timedelta(days=days)
        removed = self.run(self.store.purge_takes_before(cutoff))
        assert removed == sum(t.created_at < cutoff for t in self.takes.values())
        self.takes = {i: t for i, t in self.takes.items() if t.created_at >= cutoff}

    @invariant()
    def counters_equal_a_recount(self) -> None:
        assert self.run(self.store.check_counters()).ok
        for guild in GUILDS:
            for article in ARTICLES:
                mine = [t for t in self.takes.values() if t.guild_id == guild and t.article == article]
                assert self.run(self.store.count_takes(guild, article)) == len(mine)
                for author in AUTHORS:
                    theirs = sum(t.author_id == author for t in mine)
                    assert self.run(self.store.count_takes(guild, article, author_id=author)) == theirs
                today = (T0 + dt.timedelta(days=41)).date()
                stats = self.run(self.store.take_stats(guild, article, days=45, today=today))
                assert (stats.takes, stats.members) == (len(mine), len({t.author_id for t in mine}))
                assert dict(stats.per_day) == {
                    day: sum(t.created_at.date() == day for t in mine) for day, _ in stats.per_day}


TestCounters = CountersMachine.TestCase
TestCounters.settings = settings(max_examples=60, stateful_step_count=25, deadline=None,
                                 suppress_health_check=[HealthCheck.too_slow])


async def test_a_database_from_before_the_counters_is_counted_when_it_migrates(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    version_2 = tmp_path / "migrations"  # the bot as it was at version 2 (before the counters)
    version_2.mkdir()
    for entry in bundled_migrations_dir().iterdir():
        if entry.name.startswith(("V1__", "V2__")):
            (version_2 / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    store = await SqliteStore.open(path, migrations_dir=version_2)
    for n in range(5):
        await store.add_take(new_take(n, author_id=AUTHORS[n % 2]))
    await store.close()

    store = await SqliteStore.open(path)
    try:
        assert await store.count_takes(GUILDS[0], ARTICLES[0]) == 5
        assert await store.count_takes(GUILDS[0], ARTICLES[0], author_id=AUTHORS[1]) == 2
        assert (await store.take_stats(GUILDS[0], ARTICLES[0], days=1, today=T0.date())).members == 2
        assert (await store.check_counters()).ok
    finally:
        await store.close()


async def test_rebuild_counters_repairs_counters_changed_behind_the_stores_back(store: Store) -> None:
    await store.add_take(new_take())
    await store.write_raw([("UPDATE take_counts SET takes = 99", [])])

    found = await store.rebuild_counters()

    assert not found.ok and found.articles > 0 and found.members == found.days == 0
    assert await store.count_takes(GUILDS[0], ARTICLES[0]) == 1
    assert (await store.check_counters()).ok


async def test_a_take_never_moves_to_another_guild(store: Store) -> None:
    take = await store.add_take(new_take())
    placeholders = ("?", "?") if store.dialect == "sqlite" else ("$1", "$2")
    with pytest.raises(StorageError, match="keeps its guild"):
        await store.write_raw([("UPDATE takes SET guild_id = {} WHERE id = {}".format(*placeholders),
                                [(GUILDS[1], take.id)])])


# -- group commit ---------------------------------------------------------------------------------


async def test_concurrent_takes_share_one_commit_and_each_returns_after_it(sqlite_store: SqliteStore) -> None:
    store = sqlite_store
    assert store._conn is not None
    commits = 0

    def count(*_: object) -> None:
        nonlocal commits
        commits += 1

    store._conn.raw.set_trace_callback(lambda sql: count() if sql == "COMMIT" else None)
    saved = await asyncio.gather(*(store.add_take(new_take(n, author_id=n)) for n in range(50)))
    store._conn.raw.set_trace_callback(None)

    assert commits == 1
    assert sorted(t.id for t in saved) == list(range(1, 51))
    assert await store.count_takes(GUILDS[0], ARTICLES[0]) == 50


async def test_a_failed_commit_fails_every_take_in_it_and_keeps_none(store: Store) -> None:
    await poison_commits(store, "poison")

    outcomes = await asyncio.gather(
        *(store.add_take(new_take(n, author_id=n, content="poison" if n == 3 else f"fine {n}")) for n in range(10)),
        return_exceptions=True)

    assert all(isinstance(outcome, StorageError) for outcome in outcomes)
    assert await store.export_takes(GUILDS[0], ARTICLES[0]) == []
    assert (await store.check_counters()).ok and await store.count_takes(GUILDS[0], ARTICLES[0]) == 0
    later = await store.add_take(new_take(11))  # the next group commits as usual
    assert await store.export_takes(GUILDS[0], ARTICLES[0]) == [later]


async def test_one_bad_take_in_a_group_fails_alone(store: Store) -> None:
    outcomes = await asyncio.gather(
        *(store.add_take(new_take(n, author_id=n, source="pigeon" if n == 2 else "command")) for n in range(5)),
        return_exceptions=True)

    assert isinstance(outcomes[2], StorageError) and isinstance(
        outcomes[2].__cause__, sqlite3.IntegrityError | asyncpg.IntegrityConstraintViolationError)
    kept = [outcome for outcome in outcomes if isinstance(outcome, Take)]
    assert len(kept) == 4
    assert sorted(t.id for t in await store.export_takes(GUILDS[0], ARTICLES[0])) == sorted(t.id for t in kept)


async def test_a_take_in_a_failed_group_commit_is_answered_not_saved(world: World) -> None:
    store = world.bot.store
    await poison_commits(store, "poison")

    await world.alice.send(world.channel, f"!{ARTICLE} take A poison pill for the commit.")

    assert_error(world.env, NotSaved)
    reply = world.channel.last_message
    assert reply is not None and "**not saved**" in reply.content
    assert await store.export_takes(world.guild.id, ARTICLE) == []


async def test_reads_do_not_wait_for_the_write_lock(sqlite_store: SqliteStore) -> None:
    store = sqlite_store
    saved = await store.add_take(new_take())
    async with store._write_lock:  # a write holding the lock for as long as it likes
        assert await store.get_take(GUILDS[0], saved.id) == saved
        assert await store.count_takes(GUILDS[0], ARTICLES[0]) == 1


# -- the take rules, checked in the insert ----------------------------------------------------------


async def test_the_duplicate_and_cooldown_rules_refuse_in_the_insert(store: Store) -> None:
    first = await store.add_take(new_take(0, content="same"))
    rules = TakeChecks(duplicate_since=T0 - dt.timedelta(minutes=10), cooldown_since=T0 + dt.timedelta(seconds=1))

    with pytest.raises(TakeRefused) as duplicate:
        await store.add_take(new_take(31, content="same"), checks=rules)
    with pytest.raises(TakeRefused) as cooldown:
        await store.add_take(new_take(31, content="different"),
                             checks=TakeChecks(cooldown_since=T0 - dt.timedelta(seconds=1)))

    assert duplicate.value.rule == "duplicate" and cooldown.value.rule == "cooldown"
    assert cooldown.value.last_take_at == first.created_at
    assert await store.count_takes(GUILDS[0], ARTICLES[0]) == 1
    # Exactly at the end of the cooldown the next take is allowed (the rule was `now - last < cooldown`).
    later = await store.add_take(new_take(31, content="different"),
                                 checks=TakeChecks(cooldown_since=first.created_at))
    assert later.id > first.id


async def test_two_hundred_takes_at_once_from_one_member_keep_exactly_one(store: Store) -> None:
    rules = TakeChecks(cooldown_since=T0 - dt.timedelta(seconds=30))
    outcomes = await asyncio.gather(*(store.add_take(new_take(0, content=f"burst {n}"), checks=rules)
                                      for n in range(200)), return_exceptions=True)

    assert sum(isinstance(outcome, Take) for outcome in outcomes) == 1
    assert all(isinstance(outcome, (Take, TakeRefused)) for outcome in outcomes)
    assert await store.count_takes(GUILDS[0], ARTICLES[0]) == 1


# -- PostgreSQL's duplicate rule: one index entry (migration V10) ------------------------------------


async def test_words_written_before_v10_are_still_duplicates_after_it_on_every_path(
    postgres_url: Any, tmp_path: Path
) -> None:
    """V10 builds takes_by_author_text (the member, a hash of the words) over the takes already
    there, in place of takes_by_author: words saved before the upgrade still make the same words
    a duplicate, whether the take comes alone (cf_add_take), in a group (cf_add_takes) or a take
    at a time after a bad value in its group; other words, members, guilds and articles pass."""
    url = postgres_url()
    before_v10 = tmp_path / "v9"
    before_v10.mkdir()
    for entry in bundled_postgres_migrations_dir().iterdir():
        if entry.name.endswith(".sql") and int(entry.name[1:].split("__")[0]) <= 9:
            (before_v10 / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    old = await PostgresStore.open(url, migrations_dir=before_v10)
    try:
        assert await old.schema_version() == 9
        said = await old.add_take(new_take(0, content="Said before the upgrade."))
        await old.add_take(new_take(1, content="Bob's words.", author_id=AUTHORS[1]))
    finally:
        await old.close()

    store = await PostgresStore.open(url)
    try:
        indexes = {row[0] for row in await store.fetch_raw(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'takes'")}
        assert "takes_by_author_text" in indexes and "takes_by_author" not in indexes
        rules = TakeChecks(duplicate_since=T0 - dt.timedelta(minutes=10))
        same = "Said before the upgrade."
        with pytest.raises(TakeRefused) as alone:
            await store.add_take(new_take(60, content=same), checks=rules)
        assert (alone.value.rule, alone.value.last_take_at) == ("duplicate", said.created_at)

        grouped = await asyncio.gather(
            store.add_take(new_take(61, content=same), checks=rules),
            store.add_take(new_take(62, content=same, guild_id=GUILDS[1]), checks=rules),
            store.add_take(new_take(63, content=same, article=ARTICLES[1]), checks=rules),
            store.add_take(new_take(64, content=same.lower()), checks=rules),
            store.add_take(new_take(65, content=same, author_id=AUTHORS[2]), checks=rules),
            return_exceptions=True)
        assert isinstance(grouped[0], TakeRefused) and grouped[0].rule == "duplicate"
        assert all(isinstance(outcome, Take) for outcome in grouped[1:])

        one_at_a_time = await asyncio.gather(  # the bad source sends the group a take at a time
            store.add_take(new_take(66, content="Bob's words.", author_id=AUTHORS[1]), checks=rules),
            store.add_take(new_take(67, content="x", author_id=AUTHORS[2], source="pigeon")),
            store.add_take(new_take(68, content="Bob's new words.", author_id=AUTHORS[1],
                                    created_at=T0 + dt.timedelta(minutes=2)), checks=rules),
            return_exceptions=True)
        assert isinstance(one_at_a_time[0], TakeRefused) and one_at_a_time[0].rule == "duplicate"
        assert isinstance(one_at_a_time[1], StorageError) and isinstance(one_at_a_time[2], Take)

        assert await store.has_recent_duplicate(GUILDS[0], ARTICLES[0], AUTHORS[0], same, T0)
        assert not await store.has_recent_duplicate(GUILDS[0], ARTICLES[0], AUTHORS[0], same, T0 + dt.timedelta(1))
        assert await store.delete_member_data(AUTHORS[0]) == 4  # what read takes_by_author reads the new index
        assert (await store.check_counters()).ok
    finally:
        await store.close()


async def test_postgresqls_duplicate_rule_is_one_probe_of_its_index_on_a_fresh_table(postgres_url: Any) -> None:
    """The rule's condition, planned as PL/pgSQL keeps a plan (generic, on a table never
    analysed, with a member who wrote hundreds of takes in the window), reads one entry of
    takes_by_author_text: without the hash of the words (V9's rule) it walks the member's
    (guild_id, author_id, created_at) index through every take in the window (here 299 read
    and dropped), and V10's two functions spell the rule the same way."""
    from bot.storage.postgres import _DUPLICATE_OF

    url = postgres_url()
    store = await PostgresStore.open(url)
    await store.close()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO takes (guild_id, channel_id, article, author_id, author_name, content, source, created_at) "
            "SELECT $1, 1, $2, $3, 'Alice', 'take ' || n, 'command', $4::timestamptz + n * interval '1 second' "
            "FROM generate_series(1, 600) AS n", GUILDS[0], ARTICLES[0], AUTHORS[0], T0)
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        await conn.execute(
            "PREPARE rule (bigint, bigint, timestamptz, text, text) AS SELECT EXISTS (SELECT 1 FROM takes WHERE "
            + _DUPLICATE_OF.format(guild="$1", author="$2", since="$3", article="$4", content="$5") + ")")
        plan = "\n".join(row[0] for row in await conn.fetch(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE rule($1, $2, $3, $4, 'take 300')"
            .replace("$1", str(GUILDS[0])).replace("$2", str(AUTHORS[0]))
            .replace("$3", f"'{T0.isoformat()}'").replace("$4", f"'{ARTICLES[0]}'")))
        assert "takes_by_author_text" in plan and "takes_by_guild_author_time" not in plan, plan
        assert "Rows Removed by Filter" not in plan, plan  # one entry read: the take itself
        functions = {row[0]: " ".join(row[1].split()) for row in await conn.fetch(
            "SELECT proname, prosrc FROM pg_proc WHERE proname IN ('cf_add_take', 'cf_add_takes')")}
        for name, source in functions.items():  # the functions spell the rule the same way
            assert "hashtextextended(t.content, 0) = hashtextextended(" in source, name
            assert "t.guild_id + 0 =" in source and "t.created_at + interval '0 s' >=" in source, name
    finally:
        await conn.close()


# -- paging and chunks ------------------------------------------------------------------------------


async def walked_pages(store: Store) -> list[list[Take]]:
    """45 takes by three members; the second member's pages of 4, walked by keyset from the newest."""
    for n in range(45):
        await store.add_take(new_take(n, author_id=AUTHORS[n % 3]))
    walked: list[list[Take]] = []
    before: int | None = None
    while page := await store.list_takes(GUILDS[0], ARTICLES[0], author_id=AUTHORS[1], before_id=before, limit=4):
        walked.append(page)
        before = page[-1].id
    return walked


async def test_an_offset_lands_on_the_page_that_walking_reaches(store: Store) -> None:
    walked = await walked_pages(store)

    jumped = [await store.list_takes(GUILDS[0], ARTICLES[0], author_id=AUTHORS[1], offset=4 * n, limit=4)
              for n in range(len(walked))]

    assert jumped == walked and len(walked) == 4
    assert await store.list_takes(GUILDS[0], ARTICLES[0], offset=45) == []
    with pytest.raises(ValueError):
        await store.list_takes(GUILDS[0], ARTICLES[0], offset=-1)


async def test_pages_walked_back_from_the_oldest_are_the_pages_walked_forward(store: Store) -> None:
    """``after_id``: the pager's "‹ Prev" (the page just newer than a page's first take) and its
    last page and far jumps (counted up from the oldest take, ``after_id=0``)."""
    forward = await walked_pages(store)
    total = sum(len(page) for page in forward)  # 15: pages of 4, 4, 4, 3

    last = await store.list_takes(GUILDS[0], ARTICLES[0], author_id=AUTHORS[1], after_id=0, limit=total % 4)
    backward = [last]
    while page := await store.list_takes(GUILDS[0], ARTICLES[0], author_id=AUTHORS[1], after_id=backward[-1][0].id,
                                         limit=4):
        backward.append(page)
    from_oldest = [await store.list_takes(GUILDS[0], ARTICLES[0], author_id=AUTHORS[1], after_id=0,
                                          offset=max(0, total - 4 * (n + 1)), limit=min(4, total - 4 * n))
                   for n in range(len(forward))]

    assert backward[::-1] == forward == from_oldest
    assert [t.id for page in forward for t in page] == sorted((t.id for page in forward for t in page), reverse=True)


async def test_chunks_give_the_export_in_order_whatever_the_chunk_size(store: Store) -> None:
    for n in range(23):  # equal times on purpose: the (created_at, id) keyset must not skip ties
        await store.add_take(new_take(n // 3, content=f"take {n}", author_id=n))
    await store.add_take(new_take(0, guild_id=GUILDS[1]))
    everything = await store.export_takes(GUILDS[0], ARTICLES[0])

    for size in (1, 2, 5, 23, 100):
        chunks = [chunk async for chunk in store.iter_takes(GUILDS[0], ARTICLES[0], chunk_size=size)]
        assert all(len(chunk) <= size for chunk in chunks)
        assert [take for chunk in chunks for take in chunk] == everything
    assert len(everything) == 23
    since = T0 + dt.timedelta(seconds=2)
    bounded = [t async for chunk in store.iter_takes(GUILDS[0], ARTICLES[0], since=since, chunk_size=4) for t in chunk]
    assert bounded == [t for t in everything if t.created_at >= since]


# -- the database file deleted under a running bot ------------------------------------------------


async def test_writes_are_refused_while_the_database_file_is_gone(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "bot.db"
    store = await SqliteStore.open(path)
    try:
        kept = await store.add_take(new_take(0))
        os.rename(path, tmp_path / "moved-away.db")
        caplog.set_level(logging.ERROR, logger="bot.storage.sqlite")

        for n in (1, 2):
            with pytest.raises(DatabaseFileGone):
                await store.add_take(new_take(n))
        with pytest.raises(DatabaseFileGone):
            await store.delete_take(GUILDS[0], kept.id)

        gone = [r for r in caplog.records if "deleted or replaced" in r.getMessage()]
        assert len(gone) == 1 and gone[0].exc_info is None  # one clear line, however many writes
        os.rename(tmp_path / "moved-away.db", path)  # the operator puts it back
        back = await store.add_take(new_take(3))
    finally:
        await store.close()
    store = await SqliteStore.open(path)
    try:
        assert [t.id for t in await store.export_takes(GUILDS[0], ARTICLES[0])] == [kept.id, back.id]
    finally:
        await store.close()


@pytest.mark.database("sqlite")
async def test_a_take_is_not_saved_into_a_deleted_database_file(world: World) -> None:
    os.unlink(world.bot.store.path)  # type: ignore[attr-defined]

    await world.alice.send(world.channel, f"!{ARTICLE} take Is anyone keeping this?")

    assert_error(world.env, NotSaved)
    reply = world.channel.last_message
    assert reply is not None and "**not saved**" in reply.content and "Saved your take" not in reply.content


async def test_a_caller_cancelled_while_waiting_does_not_stall_the_others(store: SqliteStore) -> None:
    """Takes queued behind a committing group still commit when a waiting caller gives up."""
    first = asyncio.ensure_future(store.add_take(new_take(0, author_id=1)))
    await asyncio.sleep(0)  # the first caller leads; the next ones queue behind its group
    waiting = [asyncio.ensure_future(store.add_take(new_take(n, author_id=n + 10))) for n in range(5)]
    await asyncio.sleep(0)
    waiting[0].cancel()

    outcomes = await asyncio.gather(first, *waiting, return_exceptions=True)

    assert isinstance(outcomes[1], asyncio.CancelledError)
    assert all(isinstance(outcome, Take) for outcome in [outcomes[0], *outcomes[2:]])
    # The cancelled caller's take was queued before it gave up: it is committed all the same.
    assert await store.count_takes(GUILDS[0], ARTICLES[0]) == 6


# -- far pages, counted in blocks of ids (V9) -------------------------------------------------------


async def fill_for_far_pages(store: Store, count: int, *, every: int, gone: set[int]) -> list[int]:
    """``count`` takes, one in ``2 * every - 1`` in (GUILDS[0], ARTICLES[0]) and the others
    alternately in the other guild and the other article (so that list's ids have gaps); then the
    takes numbered in ``gone`` deleted.
    The ids of GUILDS[0]'s ARTICLES[0] list that remain, newest first."""
    places = [(GUILDS[0], ARTICLES[0])] + [(GUILDS[1], ARTICLES[0]), (GUILDS[0], ARTICLES[1])] * (every - 1)
    added = await asyncio.gather(*(store.add_take(new_take(n, guild_id=places[n % len(places)][0],
                                                          article=places[n % len(places)][1]))
                                   for n in range(count)))
    for n in sorted(gone):
        if n < count:
            assert await store.delete_take(added[n].guild_id, added[n].id)
    return sorted((t.id for n, t in enumerate(added)
                   if n not in gone and (t.guild_id, t.article) == (GUILDS[0], ARTICLES[0])), reverse=True)


async def test_a_far_page_from_either_end_is_the_page_an_offset_walk_reaches(store: Store) -> None:
    """"Go to page N" past the first block (256 ids) sums the blocks' counts, on both backends:
    whole blocks emptied, blocks shared with other guilds and articles, and the list's ends."""
    gone = set(range(300, 900)) | set(range(1000, 1600, 7))
    ids = await fill_for_far_pages(store, 2600, every=2, gone=gone)
    assert len(ids) > 500 and (await store.check_counters()).ok

    for offset in (256, 257, 300, 511, 512, len(ids) - 10, len(ids) - 1, len(ids), len(ids) + 300):
        for limit in (1, 10):
            newest = await store.list_takes(GUILDS[0], ARTICLES[0], offset=offset, limit=limit)
            oldest = await store.list_takes(GUILDS[0], ARTICLES[0], after_id=0, offset=offset, limit=limit)
            assert [t.id for t in newest] == ids[offset:offset + limit]
            assert [t.id for t in oldest] == sorted(ids[::-1][offset:offset + limit], reverse=True)
            assert all((t.guild_id, t.article) == (GUILDS[0], ARTICLES[0]) for t in newest + oldest)
    # The other guild's list is its own, counted in its own blocks.
    other = await store.list_takes(GUILDS[1], ARTICLES[0], offset=300, limit=5)
    assert other and all(t.guild_id == GUILDS[1] for t in other)


@settings(max_examples=25, deadline=None)
@given(count=st.integers(0, 1200), every=st.integers(1, 3),
       gone=st.sets(st.integers(0, 1199), max_size=200) | st.builds(set, st.builds(range, st.integers(0, 600),
                                                                                   st.integers(600, 1200))),
       offsets=st.lists(st.integers(256, 1300), min_size=1, max_size=8), from_oldest=st.booleans(),
       limit=st.integers(1, 25))
def test_far_pages_agree_with_the_ids_whatever_was_added_and_deleted(
        count: int, every: int, gone: set[int], offsets: list[int], from_oldest: bool, limit: int) -> None:
    async def check() -> None:
        store = await SqliteStore.open(":memory:")
        try:
            ids = await fill_for_far_pages(store, count, every=every, gone=gone)
            in_order = ids[::-1] if from_oldest else ids
            for offset in offsets:
                page = await store.list_takes(GUILDS[0], ARTICLES[0], after_id=0 if from_oldest else None,
                                              offset=offset, limit=limit)
                assert [t.id for t in page] == sorted(in_order[offset:offset + limit], reverse=True)
            assert (await store.check_counters()).ok
        finally:
            await store.close()

    asyncio.run(check())
