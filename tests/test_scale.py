"""Beyond one machine: rules that hold across processes on PostgreSQL, one process per SQLite
file, shards split over two bots on one database."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import discord
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine
from simcord import Env

from bot import Settings, create_bot
from bot.app import CommonFactorsBot, ShardedCommonFactorsBot
from bot.settings import SettingsError, redact_url, sqlite_url
from bot.storage import GuildSettings, NewTake, PinRecord, StorageError, Store, TakeChecks, TakeRefused
from bot.storage.postgres import PostgresStore, bundled_postgres_migrations_dir
from bot.storage.sqlite import SqliteStore
from tests.test_store_scale import CountersMachine

T = TypeVar("T")
GUILD = 811_111_111_111_111_111
CHANNEL = 900_000_000_000_000_001
ARTICLE = "commonfactors"
T0 = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)


def new_take(author_id: int, content: str, **changes: Any) -> NewTake:
    fields: dict[str, Any] = {"guild_id": GUILD, "channel_id": CHANNEL, "article": ARTICLE, "author_id": author_id,
                              "author_name": f"member {author_id}", "content": content, "source": "command",
                              "created_at": T0}
    fields.update(changes)
    return NewTake(**fields)


@pytest.fixture
async def two_processes(postgres_url: Callable[[], str]) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores with pools of their own on one database: what two bot processes share."""
    url = postgres_url()
    first = await PostgresStore.open(url)
    second = await PostgresStore.open(url)
    yield first, second
    await first.close()
    await second.close()


# -- rules across processes --------------------------------------------------------------------


async def test_the_cooldown_holds_when_two_processes_race(two_processes: tuple[Store, Store]) -> None:
    checks = TakeChecks(duplicate_since=T0 - dt.timedelta(minutes=10), cooldown_since=T0 - dt.timedelta(seconds=30))
    attempts = [store.add_take(new_take(7, f"take {n} from process {p}"), checks=checks)
                for n in range(20) for p, store in enumerate(two_processes)]
    results = await asyncio.gather(*attempts, return_exceptions=True)

    saved = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, TakeRefused)]
    assert len(saved) == 1 and len(refused) == 39
    assert {r.rule for r in refused} == {"cooldown"}
    first, second = two_processes
    assert await first.export_takes(GUILD, ARTICLE) == saved == await second.export_takes(GUILD, ARTICLE)
    assert await first.count_takes(GUILD, ARTICLE) == 1


async def test_the_duplicate_rule_holds_across_processes(two_processes: tuple[Store, Store]) -> None:
    checks = TakeChecks(duplicate_since=T0 - dt.timedelta(minutes=10), cooldown_since=None)
    results = await asyncio.gather(*(store.add_take(new_take(7, "the same words"), checks=checks)
                                     for store in two_processes for _ in range(10)), return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, TakeRefused) and r.rule == "duplicate" for r in results if isinstance(r, BaseException))


@pytest.mark.parametrize("rule", ["cooldown", "duplicate"])
async def test_a_take_waiting_on_a_members_lock_sees_what_the_holder_committed(
        postgres_url: Callable[[], str], rule: str) -> None:
    """The one-statement group (cf_add_takes, V8) takes the member's lock and then inserts: its
    INSERT must see a take another process committed while it waited on that lock (a snapshot
    taken before the lock was granted would admit a second take)."""
    import asyncpg

    from bot.storage.postgres import lock_key

    url = postgres_url()
    store = await PostgresStore.open(url)
    other = await asyncpg.connect(url)  # another process, in its own transaction
    try:
        await other.execute("BEGIN")
        await other.execute("SELECT pg_advisory_xact_lock($1)", lock_key("take", GUILD, 7))
        # The cooldown's take on another article: no counter row in common, so nothing but the
        # snapshot can make the waiting statement see it.
        await other.execute("INSERT INTO takes (guild_id, channel_id, article, author_id, author_name, content, "
                            "source, created_at) VALUES ($1, $2, $3, 7, 'm', 'the same words', 'command', $4)",
                            GUILD, CHANNEL, ARTICLE if rule == "duplicate" else "another-article", T0)
        cooldown = T0 - dt.timedelta(seconds=30) if rule == "cooldown" else None
        waiting = asyncio.ensure_future(store.add_take(
            new_take(7, "the same words" if rule == "duplicate" else "other words"),
            checks=TakeChecks(duplicate_since=T0 - dt.timedelta(minutes=10), cooldown_since=cooldown)))
        for _ in range(1000):  # until the store's statement waits on the lock (its snapshot taken before)
            if await other.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"):
                break
            await asyncio.sleep(0.005)
        else:
            raise AssertionError("the store's take never waited on the member's lock")
        await other.execute("COMMIT")
        with pytest.raises(TakeRefused) as refused:
            await waiting
        assert refused.value.rule == rule
        assert await store.fetch_raw("SELECT count(*) FROM takes") == [(1,)]
    finally:
        await other.close()
        await store.close()


async def test_many_members_in_two_processes_keep_every_take(two_processes: tuple[Store, Store]) -> None:
    checks = TakeChecks(duplicate_since=T0 - dt.timedelta(minutes=10), cooldown_since=T0 - dt.timedelta(seconds=30))
    attempts = [two_processes[member % 2].add_take(new_take(member, f"member {member}"), checks=checks)
                for member in range(1, 201)]
    saved = await asyncio.gather(*attempts)
    first, second = two_processes
    stored = await second.export_takes(GUILD, ARTICLE)
    assert sorted(t.id for t in stored) == sorted(t.id for t in saved)
    assert (await first.take_stats(GUILD, ARTICLE, days=1, today=T0.date())).members == 200
    assert (await first.check_counters()).ok


async def test_settings_changes_from_two_processes_are_all_kept(two_processes: tuple[Store, Store]) -> None:
    """Each process sets a different field of the same guild's settings, many times at once."""

    def setter(**changes: Any) -> Callable[[GuildSettings], GuildSettings]:
        def change(current: GuildSettings) -> GuildSettings:
            values = {"guild_id": current.guild_id, "moderator_role_id": current.moderator_role_id,
                      "take_max_length": current.take_max_length, "prefix": current.prefix,
                      "take_cooldown_seconds": current.take_cooldown_seconds,
                      "take_channel_ids": current.take_channel_ids, "anonymous_lists": current.anonymous_lists}
            values.update(changes)
            return GuildSettings(**values)
        return change

    first, second = two_processes
    await asyncio.gather(
        *(first.update_guild_settings(GUILD, setter(take_max_length=100 + n)) for n in range(10)),
        *(second.update_guild_settings(GUILD, setter(prefix=f"?{n}")) for n in range(10)),
        second.update_guild_settings(GUILD, setter(anonymous_lists=True)),
    )
    final = await first.get_guild_settings(GUILD)
    assert final.take_max_length is not None and final.prefix is not None and final.anonymous_lists


async def test_an_invalid_settings_change_changes_nothing(two_processes: tuple[Store, Store]) -> None:
    first, _ = two_processes

    def refuse(_: GuildSettings) -> GuildSettings:
        raise LookupError("not a valid value")

    with pytest.raises(LookupError):
        await first.update_guild_settings(GUILD, refuse)
    assert await first.get_guild_settings(GUILD) == GuildSettings(guild_id=GUILD)


async def test_an_exclusive_section_admits_one_process_at_a_time(two_processes: tuple[Store, Store]) -> None:
    inside = 0
    most = 0

    async def section(store: Store) -> None:
        nonlocal inside, most
        async with store.exclusive("pin", GUILD, CHANNEL, ARTICLE):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.005)
            inside -= 1

    await asyncio.gather(*(section(store) for store in two_processes for _ in range(5)))
    assert most == 1


async def test_a_failed_commit_fails_every_take_in_it(postgres_url: Callable[[], str]) -> None:
    """A constraint checked at COMMIT fails the whole group: no take in it is acknowledged or kept."""
    url = postgres_url()
    store = await PostgresStore.open(url)
    try:
        pool = store._the_pool()
        await pool.execute("""
            CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.content = 'poison' THEN RAISE EXCEPTION 'refused at commit'; END IF;
                RETURN NULL;
            END; $$;
            CREATE CONSTRAINT TRIGGER refuse_poison AFTER INSERT ON takes DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION refuse_poison();
        """)
        results = await asyncio.gather(*(store.add_take(new_take(n, "poison" if n == 5 else f"fine {n}"))
                                         for n in range(1, 11)), return_exceptions=True)
        assert all(isinstance(r, StorageError) for r in results)
        assert await store.export_takes(GUILD, ARTICLE) == []
        assert await store.count_takes(GUILD, ARTICLE) == 0
        saved = await store.add_take(new_take(1, "after the failure"))  # the store keeps working
        assert await store.get_take(GUILD, saved.id) == saved
    finally:
        await store.close()


async def test_a_database_from_a_newer_bot_is_refused_on_postgresql(postgres_url: Callable[[], str]) -> None:
    url = postgres_url()
    store = await PostgresStore.open(url)
    await store._the_pool().execute("INSERT INTO schema_migrations VALUES (99, 'future', 'x')")
    await store.close()
    latest = sum(1 for entry in bundled_postgres_migrations_dir().iterdir() if entry.name.endswith(".sql"))
    with pytest.raises(StorageError, match=f"schema version 99, but this bot only knows up to {latest}"):
        await PostgresStore.open(url)


class PostgresCountersMachine(CountersMachine):
    """The counters state machine from test_store_scale, on PostgreSQL: any sequence of adds,
    edits, deletes, forgetme and purges leaves its trigger-kept counters equal to a recount."""

    url: ClassVar[str] = ""

    def __init__(self) -> None:
        RuleBasedStateMachine.__init__(self)
        self.loop = asyncio.new_event_loop()
        self.store = self.run(self.fresh())
        self.takes = {}
        self.clock = 0

    async def fresh(self) -> Store:
        store = await PostgresStore.open(self.url)
        await store.write_raw([("TRUNCATE takes, meeting_takes, agreements, take_counts, take_member_counts, "
                                 "take_day_counts, take_blocks", [])])
        return store


@pytest.fixture
def counters_database(postgres_url: Callable[[], str]) -> None:
    PostgresCountersMachine.url = postgres_url()


TestPostgresCounters = pytest.mark.usefixtures("counters_database")(PostgresCountersMachine.TestCase)
TestPostgresCounters.settings = settings(max_examples=15, stateful_step_count=20, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])


# -- one process per SQLite file ----------------------------------------------------------------


async def test_a_second_process_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    first = await SqliteStore.open(path)
    try:
        with pytest.raises(StorageError, match=r"already open in another bot process.*PostgreSQL"):
            await SqliteStore.open(path)
        await first.add_take(new_take(1, "the first process still works"))
    finally:
        await first.close()
    second = await SqliteStore.open(path)  # once the first is gone, the file is free again
    try:
        assert len(await second.export_takes(GUILD, ARTICLE)) == 1
    finally:
        await second.close()


def test_a_second_os_process_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "bot.db"
    script = ("import asyncio, sys\nfrom bot.storage import open_store\n"
              "async def main():\n    store = await open_store(sys.argv[1])\n    await store.close()\n"
              "asyncio.run(main())\n")

    async def hold_and_try() -> subprocess.CompletedProcess[str]:
        store = await SqliteStore.open(path)
        try:
            return await asyncio.to_thread(subprocess.run, [sys.executable, "-c", script, sqlite_url(path)],
                                           capture_output=True, text=True, timeout=60,
                                           cwd=Path(__file__).parent.parent)
        finally:
            await store.close()

    other = asyncio.run(hold_and_try())
    assert other.returncode != 0 and "already open in another bot process" in other.stderr


# -- settings ---------------------------------------------------------------------------------


def test_shard_settings_are_read_and_checked() -> None:
    settings = Settings.from_env({"SHARD_COUNT": "4", "SHARD_IDS": "2, 3", "DATABASE_POOL_SIZE": "20",
                                  "DATABASE_SSLMODE": "require"}, dotenv=False)
    assert settings.shard_count == 4 and settings.shard_ids == (2, 3) and not settings.syncs_commands
    assert settings.database_pool_size == 20 and settings.database_sslmode == "require"
    assert Settings(shard_count=2, shard_ids=(0,)).syncs_commands and Settings().syncs_commands
    # A systemd instance name (commonfactors-bot@4-6) carries a range.
    assert Settings.from_env({"SHARD_COUNT": "8", "SHARD_IDS": "4-6"}, dotenv=False).shard_ids == (4, 5, 6)
    assert Settings.from_env({"SHARD_COUNT": "8", "SHARD_IDS": "0-1, 7"}, dotenv=False).shard_ids == (0, 1, 7)
    for env, message in (({"SHARD_IDS": "0"}, "needs SHARD_COUNT"),
                         ({"SHARD_COUNT": "2", "SHARD_IDS": "2"}, "between 0 and 1"),
                         ({"SHARD_COUNT": "2", "SHARD_IDS": "1,1"}, "twice"),
                         ({"SHARD_COUNT": "2", "SHARD_IDS": "one"}, "shard numbers"),
                         ({"SHARD_COUNT": "4", "SHARD_IDS": "3-1"}, "or a range"),
                         ({"DATABASE_SSLMODE": "maybe"}, "DATABASE_SSLMODE"),
                         ({"DATABASE_POOL_SIZE": "1"}, "DATABASE_POOL_SIZE")):
        with pytest.raises(SettingsError, match=message):
            Settings.from_env(env, dotenv=False)


def test_the_database_password_is_never_shown() -> None:
    settings = Settings(database_url="postgresql://bot:hunter2@db.example:5432/cf?sslmode=require")
    assert redact_url(settings.database_url) == "postgresql://bot:***@db.example:5432/cf?sslmode=require"
    assert "hunter2" not in "\n".join(settings.describe()) and "hunter2" not in repr(settings)
    assert redact_url("sqlite:///data/bot.db") == "sqlite:///data/bot.db"
    # The log filter masks the password as it masks the token.
    assert Settings(token="tok", database_url=settings.database_url).secrets == ["tok", "hunter2"]
    assert Settings(database_url="postgresql://bot@db/cf").secrets == []
    assert Settings(database_url="postgresql://bot:p%40ss:w@db/cf").secrets == ["p%40ss:w", "p@ss:w"]


def test_a_sharded_bot_is_an_auto_sharded_bot_with_its_shards(tmp_path: Path) -> None:
    bot = create_bot(Settings(database_url=sqlite_url(tmp_path / "x.db"), shard_count=4, shard_ids=(1, 3)))
    assert isinstance(bot, ShardedCommonFactorsBot) and isinstance(bot, discord.AutoShardedClient)
    assert bot.shard_count == 4 and bot.shard_ids == [1, 3]
    assert not isinstance(create_bot(Settings(database_url=sqlite_url(tmp_path / "y.db"))), discord.AutoShardedClient)


# -- two bot processes, one PostgreSQL database ---------------------------------------------------


class OtherProcess:
    """A second bot process, in effect: its own thread, event loop, SimCord Discord and pool.

    SimCord runs one live environment per event loop, so the second bot gets a loop of its own.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="other-process", daemon=True)
        self.thread.start()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


@contextlib.contextmanager
def other_process() -> Iterator[OtherProcess]:
    process = OtherProcess()
    try:
        yield process
    finally:
        process.stop()


async def started(settings: Settings) -> Env:
    bot = create_bot(settings)
    env = Env(bot)
    await env.start()
    return env


async def stopped(env: Env) -> None:
    try:
        await env.shutdown()
    finally:
        bot = env.bot
        assert isinstance(bot, CommonFactorsBot)
        if bot._store is not None:
            await bot._store.close()
            bot._store = None


def acknowledged(channel: Any) -> list[int]:
    """Take ids from the bot's "Saved your take #N" answers in a channel."""
    found = []
    for message in channel.history():
        if "Saved your take **#" in message.content:
            found.append(int(message.content.split("**#", 1)[1].split("**", 1)[0]))
    return found


async def test_two_shard_processes_share_one_postgresql_database(
    postgres_url: Callable[[], str], data_dir: Path
) -> None:
    url = postgres_url()
    base = Settings(data_dir=data_dir, database_url=url, shard_count=2, take_cooldown_seconds=30)
    members_per_guild = 25
    with other_process() as process:
        env_a = await started(base.with_changes(shard_ids=(0,)))
        env_b = await process.run(started(base.with_changes(shard_ids=(1,))))
        try:
            bot_a, bot_b = env_a.bot, env_b.bot
            assert isinstance(bot_a, CommonFactorsBot) and isinstance(bot_b, CommonFactorsBot)
            # Only shard 0's process synced the slash commands.
            assert bot_a.synced_commands and not bot_b.synced_commands

            def populate(env: Env, shard: int) -> list[tuple[Any, Any, list[Any]]]:
                worlds = []
                for number in range(2):
                    guild = env.create_guild(f"Clinic {shard}-{number}", shard_id=shard)
                    channel = guild.create_text_channel("journal-club")
                    members = [guild.add_member(env.create_user(f"m{shard}-{number}-{n}"))
                               for n in range(members_per_guild)]
                    for member in members:  # queued before either bot handles any of them
                        env.backend.create_message(channel.id, member.id, f"!{ARTICLE} take from {member.name}")
                    worlds.append((guild, channel, members))
                return worlds

            worlds_a = populate(env_a, 0)
            worlds_b = await process.run(_call(lambda: populate(env_b, 1)))
            await asyncio.gather(env_a.settle(), process.run(env_b.settle()))

            async def in_a(read: Callable[[Store], Coroutine[Any, Any, T]]) -> T:
                return await read(bot_a.store)

            async def in_b(read: Callable[[Store], Coroutine[Any, Any, T]]) -> T:
                return await process.run(read(bot_b.store))  # B's pool lives on B's loop

            today = dt.datetime.now(dt.UTC).date()
            for guild, channel, members in [*worlds_a, *worlds_b]:
                ids = sorted(acknowledged(channel))
                assert len(ids) == members_per_guild
                # Every acknowledged take exactly once, the same from either process.
                from_a = await in_a(lambda store, g=guild.id: store.export_takes(g, ARTICLE))
                from_b = await in_b(lambda store, g=guild.id: store.export_takes(g, ARTICLE))
                assert from_a == from_b
                assert sorted(t.id for t in from_a) == ids
                assert sorted(t.content for t in from_a) == sorted(f"from {m.name}" for m in members)
                stats_a = await in_a(lambda store, g=guild.id: store.take_stats(g, ARTICLE, days=30, today=today))
                stats_b = await in_b(lambda store, g=guild.id: store.take_stats(g, ARTICLE, days=30, today=today))
                assert stats_a == stats_b and stats_a.takes == stats_a.members == members_per_guild

            # Stats as members see them, from each process for its own guilds.
            guild_a, channel_a, members_a = worlds_a[0]
            shown = await members_a[0].slash(channel_a, f"{ARTICLE} stats")
            assert shown.response is not None
            assert {f.name: f.value for f in shown.response.embeds[0].fields}["Takes"] == str(members_per_guild)

            # forgetme in one process erases the member everywhere, as the other process sees it.
            # (Both simulated Discords hand out the same user ids, so the leaver may also be a
            # member of a guild on the other shard, as a real member of both servers would be.)
            leaver = members_a[1]
            before = await in_b(lambda store: store.member_takes(leaver.id))
            assert guild_a.id in {t.guild_id for t in before}
            await leaver.send(channel_a, f"!{ARTICLE} forgetme")
            question = channel_a.last_message
            assert question is not None
            await leaver.click(question, label="Delete all my takes")
            assert await in_b(lambda store: store.member_takes(leaver.id)) == []
            assert await in_a(lambda store: store.member_takes(leaver.id)) == []
            for guild, _, _ in [*worlds_a, *worlds_b]:
                left = members_per_guild - sum(t.guild_id == guild.id for t in before)
                assert len(await in_b(lambda store, g=guild.id: store.export_takes(g, ARTICLE))) == left
                assert await in_a(lambda store, g=guild.id: store.count_takes(g, ARTICLE)) == left
            assert (await in_b(lambda store: store.check_counters())).ok
        finally:
            await process.run(stopped(env_b))
            await stopped(env_a)


async def _call(fn: Callable[[], T]) -> T:
    """Run ``fn`` on the other process's loop (SimCord's handles belong to their loop)."""
    return fn()


def test_check_accepts_a_postgresql_url_and_hides_its_password(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.__main__ import main

    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:hunter2@db.example:6543/community")
    monkeypatch.setenv("SHARD_COUNT", "2")
    monkeypatch.setenv("SHARD_IDS", "1")
    assert main(["check", "--files-only"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out and "database_url = postgresql://bot:***@db.example:6543/community" in out
    assert "PostgreSQL database 'community' on db.example:6543" in out and "shard_ids = (1,)" in out


def test_a_bot_that_cannot_reach_postgresql_says_so_in_one_line(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    from bot.__main__ import main

    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:hunter2@127.0.0.1:1/community")
    monkeypatch.setenv("DISCORD_TOKEN", "x.y.z")
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    assert main(["migrate-data", "--from", "postgresql://bot:hunter2@127.0.0.1:1/community",
                 "--to", "sqlite:///:memory:"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot connect to the PostgreSQL database 'community' on 127.0.0.1:1" in err
    assert "hunter2" not in err and "Traceback" not in err


async def test_a_failing_postgresql_migration_changes_nothing(postgres_url: Callable[[], str], tmp_path: Path) -> None:
    from bot.storage.postgres import bundled_postgres_migrations_dir

    url = postgres_url()
    store = await PostgresStore.open(url)
    kept = await store.add_take(new_take(1, "kept through a failed upgrade"))
    await store.close()
    folder = tmp_path / "migrations"
    folder.mkdir()
    bundled = [entry for entry in bundled_postgres_migrations_dir().iterdir() if entry.name.endswith(".sql")]
    for entry in bundled:
        (folder / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    latest = len(bundled)
    broken = folder / f"V{latest + 1}__broken.sql"  # the step after the newest bundled one
    broken.write_text("CREATE TABLE half_done (id INTEGER);\nSELECT 1 / 0;\n", encoding="utf-8")

    with pytest.raises(StorageError, match=f"migration V{latest + 1}__broken failed: DivisionByZeroError"):
        await PostgresStore.open(url, migrations_dir=folder)
    broken.write_text("CREATE TABLE x (id INTEGER);\nCOMMIT;\n", encoding="utf-8")
    with pytest.raises(StorageError, match="contains COMMIT: the runner owns the transaction"):
        await PostgresStore.open(url, migrations_dir=folder)

    store = await PostgresStore.open(url)
    try:
        assert await store.schema_version() == latest
        assert await store.get_take(GUILD, kept.id) == kept
        assert await store.fetch_raw("SELECT to_regclass('half_done')") == [(None,)]
    finally:
        await store.close()


async def test_lock_holders_never_starve_the_pool_they_need(postgres_url: Callable[[], str]) -> None:
    """More pin refreshes at once than the pool has connections, each reading and writing while
    it holds its lock: they all finish (lock connections are kept apart from the main pool)."""
    store = await PostgresStore.open(postgres_url(), pool_size=2)

    async def refresh(channel: int) -> None:
        async with store.exclusive("pin", GUILD, channel, ARTICLE):
            await store.get_pin(GUILD, channel, ARTICLE)
            await store.save_pin(PinRecord(GUILD, channel, ARTICLE, channel, "hash", T0))

    try:
        await asyncio.wait_for(asyncio.gather(*(refresh(channel) for channel in range(1, 9))), timeout=60)
        assert all([await store.get_pin(GUILD, channel, ARTICLE) for channel in range(1, 9)])
    finally:
        await store.close()
