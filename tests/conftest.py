"""Shared fixtures: a real bot from ``create_bot`` on a temporary database, and a guild with a
member, a second member and a moderator, as SimCord simulates them."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest
import pytest_asyncio
from postgres_server import PostgresServer, wanted_backend
from simcord import ChannelHandle, Env, GuildHandle, MemberActor

from bot import Settings, create_bot
from bot.app import CommonFactorsBot
from bot.settings import DEFAULT_DATA_DIR, sqlite_url
from bot.storage import Store
from bot.storage.postgres import PostgresStore
from bot.storage.sqlite import SqliteStore
from tests import fuzz  # noqa: F401  (loads the hypothesis profile named by HYPOTHESIS_PROFILE)
from tests.fake_discord import FakeDiscord, make_token
from tests.processes import BotProcess

TEST_DATA = Path(__file__).parent / "data"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass (``CF_TEST_DATABASE=postgresql``) runs every test whose bot uses a
    database (those asking for ``database_url``: every SimCord test). The others (pure rules,
    rendering, the store's contract tests, which run on both backends in every pass) do not
    depend on the backend and already ran in the SQLite pass, so they are left out here rather
    than run twice."""
    if wanted_backend() != "postgresql":
        return
    keep = [item for item in items if "database_url" in getattr(item, "fixturenames", ())]
    left_out = [item for item in items if "database_url" not in getattr(item, "fixturenames", ())]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = keep


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (for each pytest-xdist worker), started on first use;
    never skipped. Its folder is outside pytest's private temp folder, which ``nobody`` (who runs
    the server when the tests run as root) could not enter."""
    folder = Path(tempfile.mkdtemp(prefix="cf-postgres-"))
    try:
        server = PostgresServer.start(folder)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[Callable[[], str]]:
    """Makes fresh, empty PostgreSQL databases for this test (dropped afterwards); returns their URLs."""
    made: list[str] = []

    def new_database() -> str:
        made.append(postgres_server.create_database())
        return postgres_server.url(made[-1])

    yield new_database
    for name in made:
        postgres_server.drop_database(name)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The bot's database for this test: SQLite by default, PostgreSQL with CF_TEST_DATABASE=postgresql.

    ``@pytest.mark.database("sqlite")`` keeps a test about SQLite's own failures (its file
    deleted under the bot) on SQLite in both runs."""
    marker = request.node.get_closest_marker("database")
    backend = marker.args[0] if marker else wanted_backend()
    if backend == "postgresql":
        new_database: Callable[[], str] = request.getfixturevalue("postgres_url")
        return new_database()
    return sqlite_url(tmp_path / "takes.db")


_REFUSE_ON_POSTGRESQL = """
CREATE FUNCTION test_refuse_writes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'cannot execute % in a read-only transaction', TG_OP USING ERRCODE = 'read_only_sql_transaction';
END; $$;
CREATE TRIGGER test_refuse_writes BEFORE INSERT OR UPDATE OR DELETE ON takes
    FOR EACH STATEMENT EXECUTE FUNCTION test_refuse_writes();
"""


async def refuse_writes(store: Store, refuse: bool = True) -> None:
    """Make the database refuse writes to takes while reads still work, on either backend (SQLite:
    ``PRAGMA query_only``; PostgreSQL: a trigger that raises, as a read-only server would)."""
    if isinstance(store, PostgresStore):
        await store.write_raw([(_REFUSE_ON_POSTGRESQL if refuse else
                                "DROP TRIGGER test_refuse_writes ON takes; DROP FUNCTION test_refuse_writes()", [])])
    else:
        assert isinstance(store, SqliteStore)
        connection = store._conn
        assert connection is not None
        await connection.execute(f"PRAGMA query_only = {'ON' if refuse else 'OFF'}")


_POISON_ON_POSTGRESQL = """
CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF strpos(NEW.content, '{word}') > 0 THEN RAISE EXCEPTION 'the commit failed'; END IF;
    RETURN NULL;
END; $$;
CREATE CONSTRAINT TRIGGER test_poison AFTER INSERT ON takes DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION test_poison();
"""


async def poison_commits(store: Store, word: str) -> None:
    """Make any transaction that inserts a take containing ``word`` fail at its COMMIT, as a full
    disk or an I/O error at commit would: a deferred check that runs only then, on either backend."""
    if isinstance(store, PostgresStore):
        await store.write_raw([(_POISON_ON_POSTGRESQL.replace("{word}", word.replace("'", "''")), [])])
        return
    assert isinstance(store, SqliteStore) and store._conn is not None

    def poison(raw: sqlite3.Connection) -> None:
        raw.execute("CREATE TEMP TABLE IF NOT EXISTS anchor (id INTEGER PRIMARY KEY)")
        raw.execute("CREATE TEMP TABLE IF NOT EXISTS dangling (ref INTEGER REFERENCES anchor (id) "
                    "DEFERRABLE INITIALLY DEFERRED)")
        raw.execute("CREATE TEMP TRIGGER poison AFTER INSERT ON main.takes WHEN instr(NEW.content, ?) > 0 "
                    "BEGIN INSERT INTO dangling VALUES (42); END".replace("?", "'" + word.replace("'", "''") + "'"))

    await store._conn.run(poison)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The shipped articles plus the small test article, as a moderator would lay them out."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for source in [*DEFAULT_DATA_DIR.glob("*.toml"), *TEST_DATA.glob("*.toml")]:
        shutil.copy(source, folder / source.name)
    return folder


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(data_dir=data_dir, database_url=database_url)


@pytest.fixture
def bots() -> list[CommonFactorsBot]:
    """Every bot a test builds, so its database is closed afterwards (SimCord does not call
    ``bot.close()``, and an open aiosqlite connection keeps the interpreter from exiting)."""
    return []


@pytest_asyncio.fixture(autouse=True)
async def _close_stores(bots: list[CommonFactorsBot]) -> AsyncIterator[None]:
    yield
    for bot in bots:
        if bot._store is not None:
            await bot._store.close()
            bot._store = None


@pytest.fixture
def simcord_bot(settings: Settings, bots: list[CommonFactorsBot]) -> CommonFactorsBot:
    bot = create_bot(settings)
    bots.append(bot)
    return bot


@dataclass
class World:
    env: Env
    guild: GuildHandle
    channel: ChannelHandle
    alice: MemberActor
    bob: MemberActor
    mod: MemberActor
    #: Manage Server as well: decides who moderates and the prefix.
    admin: MemberActor
    bots: list[CommonFactorsBot]

    async def restart(self) -> None:
        """A new bot process on the same database and the same (simulated) Discord. The old
        process is gone first (SQLite serves one process at a time)."""
        old = self.bot
        if old._store is not None:
            await old._store.close()
            old._store = None
        bot = create_bot(self.bot.settings)
        self.bots.append(bot)
        await self.env.restart_bot(bot)

    @property
    def bot(self) -> CommonFactorsBot:
        bot = self.env.bot
        assert isinstance(bot, CommonFactorsBot)
        return bot


def make_world(env: Env, name: str = "Clinic", bots: list[CommonFactorsBot] | None = None) -> World:
    guild = env.create_guild(name)
    channel = guild.create_text_channel("journal-club")
    mods = guild.create_role("Moderators", permissions=discord.Permissions(manage_messages=True))
    alice = guild.add_member(env.create_user(f"alice-{name.lower()}"))
    bob = guild.add_member(env.create_user(f"bob-{name.lower()}"))
    mod = guild.add_member(env.create_user(f"mod-{name.lower()}"), roles=[mods])
    admins = guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True, manage_messages=True))
    admin = guild.add_member(env.create_user(f"admin-{name.lower()}"), roles=[admins])
    return World(env, guild, channel, alice, bob, mod, admin, bots if bots is not None else [])


@pytest.fixture
def world(simcord_env: Env, bots: list[CommonFactorsBot]) -> World:
    return make_world(simcord_env, bots=bots)


@pytest_asyncio.fixture
async def discord_server() -> AsyncIterator[FakeDiscord]:
    """A small Discord-compatible server on 127.0.0.1 for a real ``python -m bot`` process."""
    server = FakeDiscord(token=make_token())
    await server.start()
    yield server
    await server.stop()


async def saved_then_stopped(server: FakeDiscord, bot: BotProcess, take: str) -> None:
    """A member's take is saved by the real process, which then stops cleanly on SIGTERM."""
    await server.member_says(f"!commonfactors take {take}")
    [saved] = await server.wait_for_messages(1)
    assert "Saved your take" in saved["content"]
    bot.process.send_signal(signal.SIGTERM)
    assert await bot.finish() == 0
