"""Takes as files: CSV that is safe to open in a spreadsheet, and JSON.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel, LibreOffice and Google Sheets ("CSV injection"); such cells get a leading
apostrophe, which spreadsheets show as text and never evaluate. The CSV is UTF-8 with a BOM so
Excel picks the right encoding for accents and emoji.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from bot.storage import Take

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("id", "article", "guild_id", "channel_id", "author_id", "author_name", "created_at_utc",
               "edited_at_utc", "source", "message_url", "text")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _row(take: Take) -> dict[str, Any]:
    return {
        "id": take.id,
        "article": take.article,
        "guild_id": str(take.guild_id),
        "channel_id": str(take.channel_id),
        "author_id": str(take.author_id),
        "author_name": take.author_name,
        "created_at_utc": take.created_at.isoformat(),
        "edited_at_utc": take.edited_at.isoformat() if take.edited_at else None,
        "source": take.source,
        "message_url": take.message_url,
        "text": take.content,
    }


def takes_to_csv(takes: Iterable[Take], columns: Sequence[str] = CSV_COLUMNS) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(columns)
    for take in takes:
        row = _row(take)
        writer.writerow([safe_cell(row[c]) for c in columns])
    return buffer.getvalue().encode("utf-8-sig")


def takes_to_json(takes: Iterable[Take]) -> bytes:
    return json.dumps([_row(t) for t in takes], ensure_ascii=False, indent=2).encode("utf-8")
