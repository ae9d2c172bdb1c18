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

import asyncio
import csv
import datetime as dt
import io
import json
import re
import shutil
import struct
import tempfile
import zlib
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any, cast

from bot.errors import UserError
from bot.storage import ExportChunk, Take
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


def answers_to_csv(answers: Iterable[tuple[Take, int, str]]) -> bytes:
    """A meeting's takes, each with the number and text of the question it answers (safe cells)."""
    columns = ("question_number", "question", *CSV_COLUMNS)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(columns)
    for take, number, question in answers:
        row = {"question_number": number, "question": question, **_row(take)}
        writer.writerow([safe_cell(row[c]) for c in columns])
    return buffer.getvalue().encode("utf-8-sig")


def answers_to_json(answers: Iterable[tuple[Take, int, str]]) -> bytes:
    rows = [{"question_number": number, "question": question, **_row(take)} for take, number, question in answers]
    return json.dumps(rows, ensure_ascii=False, indent=2).encode("utf-8")


#: Discord accepts ten attachments per message.
FILES_PER_MESSAGE = 10
#: Room left for the multipart envelope and the message itself.
UPLOAD_MARGIN = 64 * 1024
#: Room in a zip part for its headers and directory (two entries with names of a few dozen bytes).
ZIP_OVERHEAD = 512
#: A part's files stay below zip's 4 GiB field limit, however well the text compresses.
MAX_RAW_PER_PART = 1 << 31
#: A packed file: its name as the member sees it, and its bytes or the file holding them.
ExportFile = tuple[str, bytes]
PackedFile = tuple[str, Path]

_CSV_BOM = "\ufeff".encode()
_DEFLATE_LEVEL = 3  # measured: a third faster than 6 for 7% larger parts
_encode = json.encoder.encode_basestring  # the C encoder, as json.dumps(ensure_ascii=False) uses


class ExportRangeError(UserError):
    pass


class ExportTooLarge(ValueError):
    """A single take does not fit the upload limit even compressed (only with absurd limits)."""


def _json_element(row: dict[str, Any]) -> str:
    """One take as ``json.dumps([...], indent=2, ensure_ascii=False)`` writes a list element
    (a test holds the two equal; this is the export's hot loop, so no generic encoder)."""
    edited, url = row["edited_at_utc"], row["message_url"]
    return (f'  {{\n    "id": {row["id"]},\n    "article": {_encode(row["article"])},\n'
            f'    "guild_id": "{row["guild_id"]}",\n    "channel_id": "{row["channel_id"]}",\n'
            f'    "author_id": "{row["author_id"]}",\n    "author_name": {_encode(row["author_name"])},\n'
            f'    "created_at_utc": {_encode(row["created_at_utc"])},\n'
            f'    "edited_at_utc": {"null" if edited is None else _encode(edited)},\n'
            f'    "source": {_encode(row["source"])},\n'
            f'    "message_url": {"null" if url is None else _encode(url)},\n'
            f'    "text": {_encode(row["text"])}\n  }}')


#: Cells that are the bot's own digits (ids, ISO times) cannot start a formula; the rest go
#: through :func:`safe_cell`.
_DIGIT_COLUMNS = frozenset({"id", "guild_id", "channel_id", "author_id", "created_at_utc"})


class _Stream:
    """One file of a part (its CSV or its JSON), deflated into a temporary file as rows arrive.

    ``bound`` is never below the size the deflated data will have once finished: the bytes
    written plus everything given since the last flush (deflate never grows text by more than a
    few bytes per 16 KiB block; the margin covers those and the final block).
    """

    MARGIN = 64

    def __init__(self, path: Path, *, keep_plain: bool) -> None:
        self.path = path
        self._file = path.open("wb")
        self._deflate = zlib.compressobj(_DEFLATE_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
        self.crc = 0
        self.raw_size = 0
        self.written = 0
        self._pending = 0
        #: The plain text on disk as well, kept only while the export might still go out unzipped.
        self.plain_path: Path | None = path.with_suffix(".plain") if keep_plain else None
        self._plain = self.plain_path.open("wb") if self.plain_path is not None else None

    @property
    def bound(self) -> int:
        return self.written + self._pending + self._pending // 1000 + self.MARGIN

    def write(self, data: bytes) -> None:
        self.crc = zlib.crc32(data, self.crc)
        self.raw_size += len(data)
        self._pending += len(data)
        self._emit(self._deflate.compress(data))
        if self._plain is not None:
            self._plain.write(data)

    def drop_plain(self) -> None:
        if self._plain is not None and self.plain_path is not None:
            self._plain.close()
            self.plain_path.unlink(missing_ok=True)
        self._plain = self.plain_path = None

    def tighten(self) -> None:
        """Flush the deflater so :attr:`bound` is exact again (costs a few bytes of ratio)."""
        if self._pending:
            self._emit(self._deflate.flush(zlib.Z_SYNC_FLUSH))
            self._pending = 0

    def finish(self) -> None:
        self._emit(self._deflate.flush(zlib.Z_FINISH))
        self._pending = 0
        self._file.close()
        if self._plain is not None:
            self._plain.close()

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)
        self.drop_plain()

    def _emit(self, data: bytes) -> None:
        if data:
            self._file.write(data)
            self.written += len(data)
            self._pending = max(0, self._pending - len(data))


class ExportPacker:
    """Takes in, chunk by chunk, and out: files under the upload limit, in a temporary folder.

    Each take is written at once as a CSV row and a JSON element into the open part's two
    deflated streams; memory holds a chunk and the compressor's window, whatever the size of
    the export. When the next take could push the part's zip over the limit the part is closed
    and a new one opened (its CSV with the header row again, its JSON a list of its own).
    At the end: both plain files when they fit together, one zip when there was one part, else
    numbered zip parts, grouped into messages of at most ten attachments within the limit.

    Use as a context manager: leaving it deletes the folder.
    """

    def __init__(self, stem: str, *, limit: int, folder: Path | None = None) -> None:
        self.stem = stem
        self.budget = max(1, limit - UPLOAD_MARGIN) if limit > 2 * UPLOAD_MARGIN else limit
        self._part_budget = self.budget - ZIP_OVERHEAD
        self._tmp = tempfile.TemporaryDirectory(prefix="export-") if folder is None else None
        self.folder: Path = Path(self._tmp.name) if self._tmp is not None else Path(folder or ".")
        self.takes = 0
        self._authors: set[int] = set()
        self._zips: list[Path] = []
        self._csv_buffer = io.StringIO(newline="")
        self._csv = csv.writer(self._csv_buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        self._part: tuple[_Stream, _Stream] | None = None
        self._in_part = 0
        self.messages: list[list[PackedFile]] = []

    @property
    def members(self) -> int:
        return len(self._authors)

    def __enter__(self) -> ExportPacker:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._part is not None:
            for stream in self._part:
                stream.discard()
            self._part = None
        if self._tmp is not None:
            self._tmp.cleanup()

    # -- in --------------------------------------------------------------------------------------
    def add(self, takes: Iterable[Take]) -> None:
        chunk = list(takes)
        if chunk:
            self.add_chunk(ExportChunk.of_takes(chunk))

    def add_chunk(self, chunk: ExportChunk) -> None:
        """Takes as the database wrote them (:meth:`bot.storage.Store.iter_export`): their lines are
        joined as they are; those it left to us are written here, the careful way."""
        if not len(chunk):
            return
        csv_lines, json_elements = chunk.csv_lines, chunk.json_elements
        if chunk.takes:
            csv_lines, json_elements = list(csv_lines), list(json_elements)
            rows = {n: _row(take) for n, take in chunk.takes.items()}
            # Their CSV in one go; ``writerow`` returns each row's length, to cut it apart.
            buffer, writer = self._csv_buffer, self._csv
            lengths = [writer.writerow([row[c] if c in _DIGIT_COLUMNS else safe_cell(row[c]) for c in CSV_COLUMNS])
                       for row in rows.values()]
            written = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            start = 0
            for (n, row), length in zip(rows.items(), lengths, strict=True):
                csv_lines[n] = written[start:start + length]
                json_elements[n] = _json_element(row)
                start += length
        lines = cast(list[str], csv_lines)
        elements = cast(list[str], json_elements)
        self._authors.update(chunk.authors)
        self.takes += len(lines)
        text = "".join(lines)
        if self._part is None:
            self._open_part()
        # Most chunks fit the open part whole: one encode and one compress call each.
        whole_csv = text.encode("utf-8")
        whole_json = (",\n" if self._in_part else "").encode() + ",\n".join(elements).encode("utf-8")
        if not self._over(len(whole_csv) + len(whole_json)):
            self._write([whole_csv], [whole_json])
            self._in_part += len(lines)
            return
        # Near the end of a part: row by row, gathered between the checks.
        csv_rows: list[bytes] = []
        gathered_json: list[bytes] = []
        gathered = 0
        for line, element_text in zip(lines, elements, strict=True):
            csv_row = line.encode("utf-8")
            element = element_text.encode("utf-8")
            grows = len(csv_row) + len(element) + 2
            if self._in_part and self._over(gathered + grows):
                self._write(csv_rows, gathered_json)
                csv_rows, gathered_json, gathered = [], [], 0
                if self._over(grows):
                    self._close_part(last=False)
                    self._open_part()
            csv_rows.append(csv_row)
            gathered_json.append(element if not self._in_part else b",\n" + element)
            gathered += grows
            self._in_part += 1
        self._write(csv_rows, gathered_json)

    def _write(self, csv_rows: list[bytes], elements: list[bytes]) -> None:
        """Hand gathered rows to the open part's streams, and flush them so the bound is exact."""
        assert self._part is not None
        csv_stream, json_stream = self._part
        csv_stream.write(b"".join(csv_rows))
        json_stream.write(b"".join(elements))
        csv_stream.tighten()
        json_stream.tighten()
        if csv_stream.plain_path is not None and csv_stream.raw_size + json_stream.raw_size > self.budget:
            csv_stream.drop_plain()  # too big to go out unzipped: stop keeping the plain copy
            json_stream.drop_plain()

    def _over(self, grows: int) -> bool:
        assert self._part is not None
        csv_stream, json_stream = self._part
        return (csv_stream.bound + json_stream.bound + grows > self._part_budget
                or csv_stream.raw_size + json_stream.raw_size + grows > MAX_RAW_PER_PART)

    def _open_part(self) -> None:
        number = len(self._zips) + 1
        keep = number == 1  # only a lone first part can go out unzipped
        csv_stream = _Stream(self.folder / f"part{number}-csv.deflate", keep_plain=keep)
        json_stream = _Stream(self.folder / f"part{number}-json.deflate", keep_plain=keep)
        csv_stream.write(_CSV_BOM + self._header())
        json_stream.write(b"[\n")
        self._part = (csv_stream, json_stream)
        self._in_part = 0

    def _header(self) -> bytes:
        self._csv.writerow(CSV_COLUMNS)
        header = self._csv_buffer.getvalue().encode("utf-8")
        self._csv_buffer.seek(0)
        self._csv_buffer.truncate()
        return header

    def _close_part(self, *, last: bool) -> None:
        """Zip the open part (its JSON list already closed when ``last``)."""
        assert self._part is not None
        csv_stream, json_stream = self._part
        if not last:
            json_stream.write(b"\n]")
        csv_stream.finish()
        json_stream.finish()
        number = len(self._zips) + 1
        inner = self.stem if last and number == 1 else f"{self.stem}-part{number:02d}"
        target = self.folder / f"part{number}.zip"
        _write_zip(target, [(f"{inner}.csv", csv_stream), (f"{inner}.json", json_stream)])
        csv_stream.discard()
        json_stream.discard()
        self._part = None
        self._zips.append(target)
        if target.stat().st_size > self.budget:
            raise ExportTooLarge(f"a single take is larger than the upload limit ({self.budget} bytes) even zipped")

    # -- out -------------------------------------------------------------------------------------
    def finish(self) -> list[list[PackedFile]]:
        """Close the last part and group the files into messages (also kept in :attr:`messages`)."""
        if self._part is None:
            self._open_part()
        assert self._part is not None
        csv_stream, json_stream = self._part
        json_stream.write(b"\n]" if self._in_part else b"]")
        if (not self._zips and csv_stream.plain_path is not None
                and csv_stream.raw_size + json_stream.raw_size <= self.budget):
            csv_stream.finish()
            json_stream.finish()
            plain: list[PackedFile] = []
            for suffix, stream in (("csv", csv_stream), ("json", json_stream)):
                assert stream.plain_path is not None
                path = stream.plain_path.rename(self.folder / f"plain-{suffix}")
                plain.append((f"{self.stem}.{suffix}", path))
                stream.plain_path = None
                stream.discard()
            self._part = None
            self.messages = [plain]
            return self.messages
        self._close_part(last=True)
        if len(self._zips) == 1:
            self.messages = [[(f"{self.stem}.zip", self._zips[0])]]
            return self.messages
        total = len(self._zips)
        messages: list[list[PackedFile]] = []
        size = 0
        for number, path in enumerate(self._zips, start=1):
            name = f"{self.stem}-part{number:02d}-of-{total:02d}.zip"
            length = path.stat().st_size
            if messages and len(messages[-1]) < FILES_PER_MESSAGE and size + length <= self.budget:
                messages[-1].append((name, path))
                size += length
            else:
                messages.append([(name, path)])
                size = length
        self.messages = messages
        return messages


def _dos_date(day: dt.date) -> int:
    return ((day.year - 1980) << 9) | (day.month << 5) | day.day


_ZIP_DATE = _dos_date(dt.date(2020, 1, 1))  # stable bytes for equal input


def _write_zip(target: Path, entries: Sequence[tuple[str, _Stream]]) -> None:
    """A zip of already deflated streams, copied in blocks (the zip format, APPNOTE 4.3)."""
    central = bytearray()
    with target.open("wb") as out:
        for name, stream in entries:
            encoded = name.encode("utf-8")
            offset = out.tell()
            fields = struct.pack("<HHHHHIII", 20, 0x0800, 8, 0, _ZIP_DATE, stream.crc & 0xFFFFFFFF,
                                 stream.written, stream.raw_size)
            out.write(b"PK\x03\x04" + fields + struct.pack("<HH", len(encoded), 0) + encoded)
            with stream.path.open("rb") as data:
                shutil.copyfileobj(data, out, 1 << 20)
            central += (b"PK\x01\x02" + struct.pack("<H", 20) + fields
                        + struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0o644 << 16, offset) + encoded)
        start = out.tell()
        out.write(central)
        out.write(b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(entries), len(entries), len(central), start, 0))


def pack_export(takes: Sequence[Take], stem: str, *, limit: int) -> list[list[ExportFile]]:
    """The messages (lists of files) that carry ``takes`` as CSV and JSON within ``limit`` bytes
    per message, in memory. Parts split the takes in order, so concatenating the parts gives the
    export. Large exports use :class:`ExportPacker` directly, which keeps them on disk."""
    with ExportPacker(stem, limit=limit) as packer:
        packer.add(takes)
        return [[(name, path.read_bytes()) for name, path in batch] for batch in packer.finish()]


async def pack_stream(chunks: AsyncIterator[ExportChunk] | AsyncIterator[Sequence[Take]], stem: str, *,
                      limit: int) -> ExportPacker:
    """Pack takes as they are read, chunk by chunk (:meth:`bot.storage.Store.iter_export`'s, or
    plain takes), the CPU work on a worker thread so the bot keeps answering; the caller closes
    the packer (a context manager) once the files are sent."""
    packer = ExportPacker(stem, limit=limit)
    iterator: AsyncIterator[ExportChunk | Sequence[Take]] = aiter(chunks)
    reading: asyncio.Future[ExportChunk | Sequence[Take] | None] = asyncio.ensure_future(anext(iterator, None))
    try:
        while (chunk := await reading) is not None:
            # The next chunk is read (on the store's thread) while this one is packed (on another).
            reading = asyncio.ensure_future(anext(iterator, None))
            if isinstance(chunk, ExportChunk):
                await asyncio.to_thread(packer.add_chunk, chunk)
            else:
                await asyncio.to_thread(packer.add, chunk)
        await asyncio.to_thread(packer.finish)
    except BaseException:
        reading.cancel()
        packer.close()
        raise
    return packer


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
