"""Start-up loads only what start-up needs: the citation exporters' libraries load on first use."""

from __future__ import annotations

import subprocess
import sys

from bot.article import load_articles
from bot.citations import export_references
from bot.settings import DEFAULT_DATA_DIR


def test_starting_the_bot_does_not_load_the_citation_exporters() -> None:
    code = ("import sys, bot.app, cogs.reading, cogs.takes, cogs.moderation; "
            "print(sorted(m for m in ('bibtexparser', 'rispy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_exporters_still_work_when_first_used() -> None:
    article = load_articles(DEFAULT_DATA_DIR)[0]
    for fmt, marker in (("bibtex", b"@"), ("ris", b"TY  - ")):
        _, data = export_references(article.citations, fmt, basename=article.command)
        assert marker in data


def test_check_loads_neither_discord_nor_a_database_driver() -> None:
    """``python -m bot check --files-only`` imports what checking the files needs (settings,
    article files), so it starts in less than the time of ``import discord`` (benchmarks: ≤ 1.4×)."""
    code = ("import contextlib, io, sys; from bot.__main__ import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): rc = main(['check', '--files-only'])\n"
            "print(rc, sorted(m for m in ('discord', 'aiohttp', 'aiosqlite', 'asyncpg', 'asyncio', 'bot.app', "
            "'bot.runner', 'cogs') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0 []"


def test_the_commands_that_need_discord_still_load_it() -> None:
    from bot.__main__ import REQUIRED_PERMISSIONS, invite_url

    assert REQUIRED_PERMISSIONS.send_messages and "permissions=" in invite_url(123)
