"""An operator's tools on a real file: one process per database whatever the link or spelling,
and ``python -m bot restore`` bringing back a backup into a stopped bot's place."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from bot.settings import sqlite_url
from bot.storage import SqliteStore
from tests.processes import PROJECT_ROOT, bot_environment


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
