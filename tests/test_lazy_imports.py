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
