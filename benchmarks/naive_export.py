"""The export as a first version would write it: one row at a time, in Python.

Two uses. The benchmark's baseline for exports (the issue's target: ours in at most 0.3× its
time), reading straight from ``sqlite3`` a row at a time and zipping both files; and the
reference the exporter is held to byte for byte (``tests/test_export_rows.py``): the same CSV
(UTF-8 with a BOM, every cell through :func:`bot.export.safe_cell`, ``csv.writer``'s minimal
quoting) and the same JSON (``json.dumps(..., ensure_ascii=False, indent=2)``) that the exporter
wrote before the database learnt to write the lines.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.export import CSV_COLUMNS, safe_cell
from bot.storage import Take


def cells(take: Take) -> dict[str, Any]:
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


def write_csv(takes: Iterable[Take]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for take in takes:
        row = cells(take)
        writer.writerow([safe_cell(row[column]) for column in CSV_COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


def write_json(takes: Iterable[Take]) -> bytes:
    """(No takes: ``[`` and ``]`` on lines of their own, as the exporter has always written it.)"""
    rows = [cells(take) for take in takes]
    return json.dumps(rows, ensure_ascii=False, indent=2).encode("utf-8") if rows else b"[\n]"


_SELECT = ("SELECT id, guild_id, channel_id, article, author_id, author_name, content, source, created_at, "
           "edited_at, message_url FROM takes WHERE guild_id = {0} AND article = {1} ORDER BY created_at, id")


class _Files:
    """The CSV and the JSON, a row at a time, zipped at the end."""

    def __init__(self) -> None:
        self.csv_text = io.StringIO(newline="")
        self.writer = csv.writer(self.csv_text, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        self.writer.writerow(CSV_COLUMNS)
        self.elements: list[str] = []

    def add(self, take: Take) -> None:
        values = cells(take)
        self.writer.writerow([safe_cell(values[column]) for column in CSV_COLUMNS])
        self.elements.append(json.dumps(values, ensure_ascii=False, indent=2))

    def zip(self, target: Path) -> int:
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=3) as archive:
            archive.writestr("export.csv", self.csv_text.getvalue().encode("utf-8-sig"))
            archive.writestr("export.json", ("[\n" + ",\n".join(self.elements) + "\n]").encode("utf-8"))
        return len(self.elements)


async def export_postgres(url: str, guild_id: int, article: str, target: Path) -> int:
    """The baseline on PostgreSQL: a row at a time from an asyncpg cursor."""
    import asyncpg

    files = _Files()
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            async for row in conn.cursor(_SELECT.format("$1", "$2"), guild_id, article):
                files.add(Take(id=row[0], guild_id=row[1], channel_id=row[2], article=row[3], author_id=row[4],
                               author_name=row[5], content=row[6], source=row[7],
                               created_at=row[8].astimezone(dt.UTC),
                               edited_at=None if row[9] is None else row[9].astimezone(dt.UTC), message_url=row[10]))
    finally:
        await conn.close()
    return files.zip(target)


def export_file(database: Path, guild_id: int, article: str, target: Path) -> int:
    """The baseline: a row at a time from ``sqlite3`` into a zip of the CSV and the JSON."""
    conn = sqlite3.connect(database)
    files = _Files()
    for row in conn.execute(_SELECT.format("?", "?"), (guild_id, article)):
        files.add(Take(id=row[0], guild_id=row[1], channel_id=row[2], article=row[3], author_id=row[4],
                       author_name=row[5], content=row[6], source=row[7], created_at=dt.datetime.fromisoformat(row[8]),
                       edited_at=None if row[9] is None else dt.datetime.fromisoformat(row[9]), message_url=row[10]))
    conn.close()
    return files.zip(target)
