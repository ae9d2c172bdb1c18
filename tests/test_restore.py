"""An operator's tools on a real file: one process per database whatever the link or spelling,
and ``python -m bot restore`` bringing back a backup into a stopped bot's place."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from bot.settings import sqlite_url
from bot.storage import NewTake, SqliteStore
from bot.storage.schema import discover_migrations
from tests.fake_discord import FakeDiscord, make_token
from tests.processes import PROJECT_ROOT, BotProcess, bot_environment


def run_bot(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          timeout=60, env=bot_environment(**env))


def test_a_second_process_through_a_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "alias.db").symlink_to(tmp_path / "real.db")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "via-folder").symlink_to(tmp_path, target_is_directory=True)

    async def hold_and_try() -> list[subprocess.CompletedProcess[str]]:
        store = await SqliteStore.open(tmp_path / "real.db")
        try:
            return [await asyncio.to_thread(run_bot, "migrate-data", "--from", sqlite_url(link),
                                            "--to", sqlite_url(tmp_path / f"copy-{n}.db"))
                    for n, link in enumerate((tmp_path / "alias.db",
                                              tmp_path / "elsewhere" / "via-folder" / "real.db"))]
        finally:
            await store.close()

    for other in asyncio.run(hold_and_try()):
        assert other.returncode == 1
        assert "is already open in another bot process" in other.stderr and len(other.stderr.splitlines()) == 1
    assert not (tmp_path / "alias.db.lock").exists()  # one lock, beside the real file


def takes_in(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT content FROM takes ORDER BY id")]


async def some_takes(path: Path, count: int, guild_id: int = 1) -> None:
    store = await SqliteStore.open(path)
    try:
        for n in range(count):
            await store.add_take(NewTake(guild_id=guild_id + n % 2, channel_id=2, article="commonfactors",
                                         author_id=n, author_name="m", content=f"take {n}", source="command",
                                         created_at=dt.datetime(2026, 5, 1, 12, n, tzinfo=dt.UTC)))
    finally:
        await store.close()


def test_restore_puts_a_backup_in_place_and_keeps_the_database_it_replaces(tmp_path: Path) -> None:
    live, backup = tmp_path / "bot.db", tmp_path / "backups" / "b.db"
    asyncio.run(some_takes(live, 3))
    backup.parent.mkdir()
    assert run_bot("backup", str(backup), DATABASE_URL=sqlite_url(live)).returncode == 0
    asyncio.run(some_takes(live, 5))  # more takes after the backup (the same words again: other ids)
    before = takes_in(live)

    done = run_bot("restore", str(backup), DATABASE_URL=sqlite_url(live))

    assert done.returncode == 0, done.stderr
    [kept] = [p for p in tmp_path.glob("bot.db.replaced-*") if not p.name.endswith(("-wal", "-shm"))]
    assert done.stdout.strip() == (f"restored {backup} into {live} (3 takes from 2 servers, newest take 2026-05-01 "
                                   f"12:02 UTC, schema version {latest_version()}); the database it replaced is "
                                   f"kept as {kept}")
    assert takes_in(live) == ["take 0", "take 1", "take 2"] and takes_in(kept) == before
    assert stat.S_IMODE(os.stat(live).st_mode) == 0o600
    assert not (tmp_path / "bot.db-wal").exists()


def test_restore_refuses_what_is_not_a_usable_backup(tmp_path: Path) -> None:
    live = tmp_path / "bot.db"
    asyncio.run(some_takes(live, 2))
    (tmp_path / "notes.txt").write_text("not a database\n")
    newer = tmp_path / "newer.db"
    newer.write_bytes(live.read_bytes())
    with sqlite3.connect(newer) as db:
        db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 'now')")
    (tmp_path / "alias.db").symlink_to(live)
    refused = {
        tmp_path / "notes.txt": "is not a usable backup of this bot",
        newer: "is from a newer version of the bot",
        tmp_path / "alias.db": "is the live database itself",
        tmp_path / "missing.db": "cannot read the backup",
        Path("/dev/null"): "is not a regular file",
    }
    for backup, reason in refused.items():
        done = run_bot("restore", str(backup), DATABASE_URL=sqlite_url(live))
        assert done.returncode == 1 and reason in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert takes_in(live) == ["take 0", "take 1"]
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name or "replaced" in p.name]  # nothing changed


def latest_version() -> int:
    return discover_migrations()[-1].version


async def test_the_drill_a_killed_bot_gets_back_every_take_acknowledged_before_the_backup(
        tmp_path: Path, data_dir: Path, discord_server: FakeDiscord) -> None:
    live, folder = tmp_path / "bot.db", tmp_path / "backups"
    folder.mkdir()
    env = {"DISCORD_TOKEN": make_token(), "DISCORD_API_URL": discord_server.api_url,
           "DISCORD_GATEWAY_URL": discord_server.gateway_url, "DATA_DIR": str(data_dir),
           "DATABASE_URL": sqlite_url(live), "TAKE_COOLDOWN_SECONDS": "0"}
    bot = await BotProcess.start(env=bot_environment(**env))
    try:
        await asyncio.wait_for(discord_server.identified.wait(), 30)
        await bot.wait_for_line("has connected to Gateway")
        for n in range(5):
            await discord_server.member_says(f"!commonfactors take Before the backup, number {n}.")
            await discord_server.wait_for_messages(n + 1)
        acknowledged = [m for m in discord_server.sent_messages if "Saved your take" in m["content"]]
        assert len(acknowledged) == 5

        async def keep_writing() -> None:  # members go on writing while the backup runs
            for n in range(40):
                await discord_server.member_says(f"!commonfactors take During the backup, number {n}.")

        writing = asyncio.create_task(keep_writing())
        backed_up = await asyncio.to_thread(run_bot, "backup", str(folder), **env)
        await writing
        assert backed_up.returncode == 0, backed_up.stderr

        refused = await asyncio.to_thread(run_bot, "restore", str(next(folder.iterdir())), **env)
        assert refused.returncode == 1 and "a bot is running on" in refused.stderr and "stop it first" in refused.stderr
        bot.process.send_signal(signal.SIGKILL)
        await bot.finish()
    finally:
        bot.kill()

    [backup] = folder.iterdir()
    restored = await asyncio.to_thread(run_bot, "restore", str(backup), **env)
    assert restored.returncode == 0, restored.stderr
    assert "the database it replaced is kept as" in restored.stdout
    takes = takes_in(live)
    assert [f"Before the backup, number {n}." for n in range(5)] == takes[:5]
    with sqlite3.connect(live) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
