"""Takes as files: CSV that is safe to open in a spreadsheet, and JSON.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel, LibreOffice and Google Sheets ("CSV injection"), and so is one that starts so
after leading spaces, line breaks or invisible characters (some programs trim first) or with the
full-width forms; such cells get a leading apostrophe, which spreadsheets show as text and never
evaluate. The CSV is UTF-8 with a BOM so Excel picks the right encoding for accents and emoji.

:func:`pack_export` fits an export under Discord's upload limit: both files as they are when they
fit, one zip when that fits, otherwise numbered zip parts of consecutive takes, each under the
limit, grouped into messages of at most ten attachments.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any

from bot.errors import UserError
from bot.storage import Take
from bot.text import is_invisible

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The full-width forms East Asian input methods type; some spreadsheets read them as the ASCII ones.
FULL_WIDTH_FORMULA_STARTS = ("\uff1d", "\uff0b", "\uff0d", "\uff20")
CSV_COLUMNS = ("id", "article", "guild_id", "channel_id", "author_id", "author_name", "created_at_utc",
               "edited_at_utc", "source", "message_url", "text")


def _formula_lead(text: str) -> str:
    """The text as a spreadsheet may see it before deciding it is a formula: without the leading
    whitespace, line breaks and invisible characters some programs trim first."""
    start = 0
    while start < len(text) and (text[start].isspace() or is_invisible(text[start])):
        start += 1
    return text[start:]


def safe_cell(value: object) -> str:
    """The cell as text no spreadsheet evaluates: anything that starts a formula, at the start or
    after leading whitespace, line breaks or invisible characters, gets a leading apostrophe."""
    text = "" if value is None else str(value)
    lead = _formula_lead(text)
    dangerous = text.startswith(FORMULA_STARTS) or lead.startswith(FORMULA_STARTS + FULL_WIDTH_FORMULA_STARTS)
    return "'" + text if dangerous else text


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


#: Discord accepts ten attachments per message.
FILES_PER_MESSAGE = 10
#: Room left for the multipart envelope and the message itself.
UPLOAD_MARGIN = 64 * 1024

ExportFile = tuple[str, bytes]


class ExportRangeError(UserError):
    pass


class ExportTooLarge(ValueError):
    """A single take does not fit the upload limit even compressed (only with absurd limits)."""


def _zip(files: Sequence[ExportFile]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # stable bytes for equal input
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _both(takes: Sequence[Take], stem: str) -> list[ExportFile]:
    return [(f"{stem}.csv", takes_to_csv(takes)), (f"{stem}.json", takes_to_json(takes))]


def pack_export(takes: Sequence[Take], stem: str, *, limit: int) -> list[list[ExportFile]]:
    """The messages (lists of files) that carry ``takes`` as CSV and JSON within ``limit`` bytes
    per message. Parts split the takes in order, so concatenating the parts gives the export."""
    budget = max(1, limit - UPLOAD_MARGIN) if limit > 2 * UPLOAD_MARGIN else limit
    plain = _both(takes, stem)
    if sum(len(data) for _, data in plain) <= budget:
        return [plain]
    whole = _zip(plain)
    if len(whole) <= budget:
        return [[(f"{stem}.zip", whole)]]
    chunks = _split(list(takes), stem, budget - 256)  # room for the part number in the inner names
    total = len(chunks)
    files = [(f"{stem}-part{n:02d}-of-{total:02d}.zip", _zip(_both(chunk, f"{stem}-part{n:02d}")))
             for n, chunk in enumerate(chunks, start=1)]
    messages: list[list[ExportFile]] = []
    for file in files:
        last = messages[-1] if messages else None
        if last is not None and len(last) < FILES_PER_MESSAGE and sum(len(d) for _, d in last) + len(file[1]) <= budget:
            last.append(file)
        else:
            messages.append([file])
    return messages


def _split(takes: list[Take], stem: str, budget: int) -> list[list[Take]]:
    """Consecutive runs of takes whose zip fits ``budget``, found by halving."""
    if len(_zip(_both(takes, stem))) <= budget:
        return [takes]
    if len(takes) == 1:
        raise ExportTooLarge(f"take #{takes[0].id} alone is larger than the upload limit")
    middle = len(takes) // 2
    return _split(takes[:middle], stem, budget) + _split(takes[middle:], stem, budget)


def parse_day(text: str, *, today: dt.date, what: str) -> dt.date:
    """``2026-11-01``, ``today``, or ``30d`` (that many days ago), as a UTC date."""
    word = text.strip().lower()
    if word == "today":
        return today
    match = re.fullmatch(r"(\d{1,4})\s*d(ays?)?", word)
    if match:
        return max(dt.date.min, today - dt.timedelta(days=min(int(match[1]), (today - dt.date.min).days)))
    try:
        return dt.date.fromisoformat(word)
    except ValueError:
        raise ExportRangeError(f"`{what}` must be a date like `{today.isoformat()}`, `today`, or a number of "
                               f"days ago like `30d`; `{text[:30].replace('`', '')}` is neither.") from None


def parse_range(since: str | None, until: str | None, *, today: dt.date
                ) -> tuple[dt.datetime | None, dt.datetime | None, str]:
    """The UTC bounds ``since <= created_at < until`` for whole days, both inclusive, and a label."""
    start = parse_day(since, today=today, what="since") if since else None
    end = parse_day(until, today=today, what="until") if until else None
    if start and end and end < start:
        raise ExportRangeError(f"`until` ({end.isoformat()}) is before `since` ({start.isoformat()}).")
    label = (f"from {start.isoformat()} " if start else "from the start ") + (
        f"to {end.isoformat()} (UTC, inclusive)" if end else "to now")
    low = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC) if start else None
    bounded = end is not None and end < dt.date.max  # "until 9999-12-31" means no upper bound
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC) if end and bounded else None
    return low, high, label
