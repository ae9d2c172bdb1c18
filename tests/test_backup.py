"""``python -m bot backup``: a consistent, verified copy, even while takes are being written."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.backup import backup_database, backup_target
from bot.settings import sqlite_url
from bot.storage import NewTake, SqliteStore, StorageError
from tests.processes import PROJECT_ROOT, bot_environment


def new_take(number: int) -> NewTake:
    return NewTake(guild_id=1, channel_id=2, article="commonfactors", author_id=100 + number % 7,
                   author_name=f"member {number % 7}", content=f"take number {number}", source="command",
                   message_url=None, created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=number))


async def test_backups_taken_while_takes_are_written_are_each_a_consistent_snapshot(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "live.db")
    written = 0
    stop = asyncio.Event()
    progress = asyncio.Condition()

    async def writer() -> None:
        nonlocal written
        while not stop.is_set():
            await store.add_take(new_take(written + 1))
            async with progress:
                written += 1
                progress.notify_all()

    writing = asyncio.create_task(writer())
    try:
        counts = []
        for index in range(8):
            async with progress:  # let some takes land between backups
                await progress.wait_for(lambda: written >= (index + 1) * 5)  # noqa: B023
            result = await backup_database(sqlite_url(tmp_path / "live.db"), tmp_path / f"copy-{index}.db")
            counts.append(result.takes)
            with sqlite3.connect(result.destination) as copy:
                assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                ids = [row[0] for row in copy.execute("SELECT id FROM takes ORDER BY id")]
                contents = [row[0] for row in copy.execute("SELECT content FROM takes ORDER BY id")]
            # A snapshot: every take up to some point, none half-written, none missing in between.
            assert ids == list(range(1, len(ids) + 1))
            assert contents == [f"take number {n}" for n in ids]
            assert result.takes == len(ids) and result.schema_version >= 2
    finally:
        stop.set()
        await writing
        await store.close()
    assert counts == sorted(counts) and counts[-1] > 0 and written >= counts[-1]


async def test_a_backup_never_replaces_a_good_one_with_a_bad_copy(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="there is no database at"):
        await backup_database(sqlite_url(tmp_path / "missing.db"), tmp_path / "out.db")
    assert not (tmp_path / "missing.db").exists()  # read-only: nothing was created

    with pytest.raises(StorageError, match="in-memory database"):
        await backup_database("sqlite:///:memory:", tmp_path / "out.db")

    store = await SqliteStore.open(tmp_path / "live.db")
    await store.close()
    with pytest.raises(StorageError, match="is the live database: a backup never writes over"):
        await backup_database(sqlite_url(tmp_path / "live.db"), tmp_path / "live.db")
    with pytest.raises(StorageError, match="does not exist"):
        await backup_database(sqlite_url(tmp_path / "live.db"), tmp_path / "no" / "such" / "out.db")
    assert names(tmp_path) == ["live.db"]  # no partial files left behind


def test_a_folder_gets_a_dated_file(tmp_path: Path) -> None:
    when = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    assert backup_target(tmp_path, when) == tmp_path / "commonfactors-20260304-050607.db"
    assert backup_target(tmp_path / "x.db", when) == tmp_path / "x.db"


def names(folder: Path) -> list[str]:
    """The files in ``folder``, but the lock file a store keeps beside its database (one process per file)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".db.lock"))


async def one_take_in(path: Path) -> None:
    store = await SqliteStore.open(path)
    await store.add_take(new_take(1))
    await store.close()


def test_the_backup_command_prints_what_it_copied(tmp_path: Path, data_dir: Path) -> None:
    asyncio.run(one_take_in(tmp_path / "live.db"))
    (tmp_path / "backups").mkdir()

    done = subprocess.run([sys.executable, "-m", "bot", "backup", str(tmp_path / "backups")], capture_output=True,
                          text=True, cwd=PROJECT_ROOT, timeout=60,
                          env=bot_environment(DATA_DIR=str(data_dir), DATABASE_URL=sqlite_url(tmp_path / "live.db")))

    assert done.returncode == 0, done.stderr
    [copy] = (tmp_path / "backups").iterdir()
    assert done.stdout.startswith(f"backed up {tmp_path / 'live.db'} to {copy} (1 take from 1 server, newest take "
                                  "2026-01-01 00:00 UTC, schema version")
    assert done.stdout.rstrip().endswith("integrity check ok")

    missing = subprocess.run([sys.executable, "-m", "bot", "backup", str(tmp_path / "b.db")], capture_output=True,
                             text=True, cwd=PROJECT_ROOT, timeout=60,
                             env=bot_environment(DATA_DIR=str(data_dir), DATABASE_URL=sqlite_url(tmp_path / "x.db")))
    assert missing.returncode == 1 and missing.stderr.startswith("commonfactors-bot: there is no database at")


async def test_a_backup_writes_only_to_a_new_path_a_folder_or_over_an_earlier_backup(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    url = sqlite_url(live)
    store = await SqliteStore.open(live)
    try:
        for n in range(20):
            await store.add_take(new_take(n + 1))
        # While the bot holds acknowledged takes in its -wal: none of its files can be a target,
        # whatever the spelling or link that names them.
        (tmp_path / "links").mkdir()
        (tmp_path / "links" / "wal").symlink_to(tmp_path / "live.db-wal")
        (tmp_path / "links" / "db").symlink_to(live)
        (tmp_path / "text.txt").write_text("someone's notes\n")
        os.mkfifo(tmp_path / "pipe")
        (tmp_path / "dangling").symlink_to(tmp_path / "nothing-here")
        refused = {
            live: "is the live database:",
            tmp_path / "links" / "db": "is the live database:",
            tmp_path / "live.db-wal": "is the live database's -wal file",
            tmp_path / "links" / "wal": "is the live database's -wal file",
            tmp_path / "links" / ".." / "live.db-shm": "is the live database's -shm file",
            tmp_path / "live.db.lock": "is the live database's .lock file",
            tmp_path / "text.txt": "already exists and is not an earlier backup",
            Path("/dev/null"): "is not a regular file",
            tmp_path / "pipe": "is not a regular file",
            tmp_path / "dangling": "is a link to nothing",
        }
        before = {path: path.read_bytes() for path in (live, tmp_path / "live.db-wal", tmp_path / "text.txt")}
        for target, reason in refused.items():
            with pytest.raises(StorageError, match=reason) as refusal:
                await backup_database(url, target)
            assert "\n" not in str(refusal.value)
        assert {path: path.read_bytes() for path in before} == before
        assert not [name for name in os.listdir(tmp_path) if "partial" in name]

        first = await backup_database(url, tmp_path / "first.db")  # a new path
        assert stat.S_IMODE(os.stat(first.destination).st_mode) == 0o600
        await store.add_take(new_take(21))
        again = await backup_database(url, tmp_path / "first.db")  # over an earlier backup of ours
        assert (first.takes, again.takes) == (20, 21)
        (tmp_path / "folder").mkdir()
        dated = await backup_database(url, tmp_path / "folder")
        assert dated.destination.parent == tmp_path / "folder"
        assert stat.S_IMODE(os.stat(dated.destination).st_mode) == 0o600
    finally:
        await store.close()
    with sqlite3.connect(live) as db:  # the live database lost nothing
        assert db.execute("SELECT COUNT(*) FROM takes").fetchone()[0] == 21
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_backup_and_check_read_the_settings_file_they_are_given(tmp_path: Path, data_dir: Path) -> None:
    """The service layout: settings in their own file, not in the working directory's .env."""
    asyncio.run(one_take_in(tmp_path / "live.db"))
    settings = tmp_path / "env"
    settings.write_text(f"DISCORD_TOKEN=abc.def.ghi\nDATA_DIR={data_dir}\n"
                        f"DATABASE_URL={sqlite_url(tmp_path / 'live.db')}\n")
    (tmp_path / "backups").mkdir()
    plain = bot_environment(DATA_DIR=str(data_dir))  # what cron sees: none of the bot's settings

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=PROJECT_ROOT,
                              timeout=60, env=plain)

    backed_up = run("backup", "--env-file", str(settings), str(tmp_path / "backups"))
    assert backed_up.returncode == 0, backed_up.stderr
    assert f"backed up {tmp_path / 'live.db'}" in backed_up.stdout and "(1 take from 1 server" in backed_up.stdout

    checked = run("check", "--env-file", str(settings))
    assert checked.returncode == 0, checked.stderr
    assert f"database: SQLite file {tmp_path / 'live.db'} (1 take from 1 server" in checked.stdout
    assert "abc.def.ghi" not in checked.stdout

    without = run("check")  # the default settings: no token, so the bot could not start
    assert without.returncode == 1 and without.stderr.startswith("commonfactors-bot: no Discord token")
    missing = run("backup", "--env-file", str(tmp_path / "nope"), str(tmp_path / "backups"))
    assert missing.returncode == 1
    assert missing.stderr.splitlines() == [f"commonfactors-bot: cannot read the settings file {tmp_path / 'nope'} "
                                           "(--env-file): No such file or directory"]
    (tmp_path / "newer.db").write_bytes((tmp_path / "live.db").read_bytes())
    with sqlite3.connect(tmp_path / "newer.db") as db:
        db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 'now')")
    settings.write_text(f"DISCORD_TOKEN=abc.def.ghi\nDATA_DIR={data_dir}\n"
                        f"DATABASE_URL={sqlite_url(tmp_path / 'newer.db')}\n")
    newer = run("--env-file", str(settings), "check")
    assert newer.returncode == 1 and "is from a newer version of the bot" in newer.stderr


async def test_deleted_words_are_overwritten_not_left_in_free_pages(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    connect = sqlite3.connect

    def like_a_build_without_secure_delete(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.execute("PRAGMA secure_delete = OFF")  # python.org and macOS builds start like this
        return conn

    monkeypatch.setattr(sqlite3, "connect", like_a_build_without_secure_delete)
    store = await SqliteStore.open(tmp_path / "live.db")
    try:
        for conn in (store._conn, store._reader):
            assert conn is not None
            assert (await conn.execute_fetchall("PRAGMA secure_delete"))[0][0] == 1
        secret = "Xylophone-kumquat-secret-words " * 20
        saved = await store.add_take(NewTake(guild_id=1, channel_id=2, article="commonfactors", author_id=3,
                                             author_name="m", content=secret, source="command",
                                             created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
        await store.add_take(new_take(1))
        assert await store.delete_member_data(saved.author_id) == 1
    finally:
        await store.close()
    assert b"Xylophone-kumquat" not in (tmp_path / "live.db").read_bytes()
