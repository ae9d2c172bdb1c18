"""``python -m bot backup``: a consistent, verified copy, even while takes are being written."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import subprocess
import sys
from pathlib import Path

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
    with pytest.raises(StorageError, match="must not overwrite the database itself"):
        await backup_database(sqlite_url(tmp_path / "live.db"), tmp_path / "live.db")
    with pytest.raises(StorageError, match="does not exist"):
        await backup_database(sqlite_url(tmp_path / "live.db"), tmp_path / "no" / "such" / "out.db")
    assert names(tmp_path) == ["live.db"]  # no partial files left behind


def test_a_folder_gets_a_dated_file(tmp_path: Path) -> None:
    when = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    assert backup_target(tmp_path, when) == tmp_path / "commonfactors-20260304-050607.db"
    assert backup_target(tmp_path / "x.db", when) == tmp_path / "x.db"


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


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
    assert done.stdout.startswith(f"backed up {tmp_path / 'live.db'} to {copy} (1 take, schema version")
    assert done.stdout.rstrip().endswith("integrity check ok")

    missing = subprocess.run([sys.executable, "-m", "bot", "backup", str(tmp_path / "b.db")], capture_output=True,
                             text=True, cwd=PROJECT_ROOT, timeout=60,
                             env=bot_environment(DATA_DIR=str(data_dir), DATABASE_URL=sqlite_url(tmp_path / "x.db")))
    assert missing.returncode == 1 and missing.stderr.startswith("commonfactors-bot: there is no database at")
