"""Exports built by the database: each take's CSV line and JSON element as one SELECT's columns.

An export of a million takes spent its time in Python turning rows into objects, objects into
cells, and checking every cell for formulas. Here the SELECT writes the export's text itself, in
exactly the form :mod:`bot.export` writes (the CSV line quoted as ``csv.writer`` quotes it, the
JSON element as ``json.dumps(ensure_ascii=False, indent=2)`` writes a list element; the times as
``datetime.isoformat()``), and Python only joins strings.

One thing SQL is not trusted with: deciding whether a cell could start a formula, which depends
on Unicode's whitespace and invisible characters. The SELECT vouches only for the plain case,
every text cell empty or starting with an ASCII letter or digit (and the times in their usual
form); any other take comes back as its columns, and :mod:`bot.export` writes it the careful
way. ``tests/test_export_rows.py`` holds both paths byte for byte to the reference exporter.

Dialect differences are the few functions in :class:`Dialect`; the columns are those of
``takes`` that the export writes (a new exported column is a line in each of :data:`CSV_CELLS`
and :data:`JSON_FIELDS`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .base import ExportChunk, Take

#: The take's columns, in the order the backends' ``_take_from_row`` reads them.
TAKE_COLUMNS = ("id", "guild_id", "channel_id", "article", "author_id", "author_name", "content", "source",
                "created_at", "edited_at", "message_url")
#: Text cells a spreadsheet could read as a formula (the rest are the bot's digits and times).
_TEXT = ("article", "author_name", "content", "source", "message_url")


@dataclass(frozen=True)
class Dialect:
    #: SQL for a text value's JSON string literal.
    json: str
    #: SQL for the code point of a text value's first character (0 or NULL when empty).
    first: str
    #: SQL that is true when ``{0}`` contains the string literal ``{1}``.
    contains: str
    #: SQL for an integer column as decimal text.
    digits: str
    #: SQL for a time column as ``datetime.isoformat()`` writes it.
    iso: str
    #: SQL that is true when a time column is in the form :attr:`iso` handles.
    usual_time: str
    #: The function that fills a ``%s`` template with values in one pass.
    concat: str
    #: SQL that is true when a text cell cannot start a formula (empty or NULL, or its first
    #: character an ASCII letter or digit); empty for the generic form on :attr:`first`.
    plain_lead: str
    #: How a CTE is kept from being folded into the query that reads it (empty where the
    #: database cannot say so: SQLite before 3.35).
    materialized: str


SQLITE = Dialect(
    json="json_quote({0})",
    first="unicode({0})",
    contains="instr({0}, {1}) > 0",
    digits="{0}",  # || writes an integer in decimal
    # Stored as isoformat(timespec="microseconds") in UTC; isoformat() leaves out ".000000".
    iso="(CASE WHEN substr({0}, 20, 7) = '.000000' THEN substr({0}, 1, 19) || substr({0}, 27) ELSE {0} END)",
    usual_time="(length({0}) = 32 AND substr({0}, 27) = '+00:00' AND substr({0}, 20, 1) = '.')",
    concat="printf",
    # One GLOB reads only the first character (a trailing * matches at once): measured half a
    # microsecond a take cheaper than four unicode() calls per cell.
    plain_lead="({0} IS NULL OR {0} = '' OR {0} GLOB '[0-9A-Za-z]*')",
    materialized="MATERIALIZED " if sqlite3.sqlite_version_info >= (3, 35, 0) else "",
)

POSTGRES = Dialect(
    json="to_json({0})::text",
    first="ascii({0})",
    contains="strpos({0}, {1}) > 0",
    digits="{0}::text",
    iso=("(to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN date_trunc('second', {0}) = {0} "
         "THEN '' ELSE to_char({0} AT TIME ZONE 'UTC', '.US') END || '+00:00')"),
    usual_time="({0} >= '1000-01-01T00:00:00Z' AND {0} < '10000-01-01T00:00:00Z')",
    concat="format",
    plain_lead="",
    materialized="MATERIALIZED ",
)


def _plain_text(d: Dialect, column: str) -> str:
    """The cell cannot start a formula: empty (or NULL), or starting with an ASCII letter or digit."""
    if d.plain_lead:
        return d.plain_lead.format(column)
    first = d.first.format(column)
    return (f"(COALESCE({first}, 0) = 0 OR {first} BETWEEN 48 AND 57 OR {first} BETWEEN 65 AND 90 "
            f"OR {first} BETWEEN 97 AND 122)")


def _csv(d: Dialect, value: str) -> str:
    """A cell as ``csv.writer`` (QUOTE_MINIMAL) writes it: quoted when it holds a comma, a quote or a line break."""
    special = " OR ".join(d.contains.format(value, _literal(char)) for char in ',"\n\r')
    return f"(CASE WHEN {special} THEN '\"' || replace({value}, '\"', '\"\"') || '\"' ELSE {value} END)"


def _literal(text: str) -> str:
    """A SQL string literal (line breaks in it as they are: SQL allows them, no function call)."""
    return "'" + text.replace("'", "''") + "'"


def _concat(d: Dialect, *parts: str | tuple[str]) -> str:
    """SQL concatenating ``parts`` (a 1-tuple is literal text, a string an SQL expression) in one
    ``printf``/``format`` call: a chain of ``||`` copies the growing line once per piece, which
    measured as most of the query's time."""
    template = "".join(part[0].replace("%", "%%") if isinstance(part, tuple) else "%s" for part in parts)
    values = [part for part in parts if not isinstance(part, tuple)]
    return f"{d.concat}({', '.join([_literal(template), *values])})"


def export_query(d: Dialect, where: str, limit: str) -> str:
    """A page of takes, oldest first (``where`` over ``takes``, ``limit`` a placeholder): each
    row the take's columns, text ones NULL when the database wrote the take itself; then its CSV
    line and its JSON element, both NULL when it did not.

    The page is a materialized CTE that decides once per take whether it is plain and writes its
    two times once: folded into the outer query, each use of those columns would compute them
    again (measured on SQLite: about an eighth of the query's time)."""
    plain = " AND ".join([*(_plain_text(d, c) for c in _TEXT), d.usual_time.format("created_at"),
                          f"(edited_at IS NULL OR {d.usual_time.format('edited_at')})"])
    created, edited = "created_iso", "edited_iso"
    cells: list[str | tuple[str]] = [
        d.digits.format("id"), _csv(d, "article"), d.digits.format("guild_id"), d.digits.format("channel_id"),
        d.digits.format("author_id"), _csv(d, "author_name"), created, f"COALESCE({edited}, '')",
        _csv(d, "source"), f"COALESCE({_csv(d, 'message_url')}, '')", _csv(d, "content"),
    ]
    csv_parts: list[str | tuple[str]] = []
    for n, cell in enumerate(cells):
        csv_parts += [(",",), cell] if n else [cell]
    csv_line = _concat(d, *csv_parts, ("\r\n",))
    fields: list[tuple[str, list[str | tuple[str]]]] = [
        ("id", [d.digits.format("id")]), ("article", [d.json.format("article")]),
        ("guild_id", [('"',), d.digits.format("guild_id"), ('"',)]),
        ("channel_id", [('"',), d.digits.format("channel_id"), ('"',)]),
        ("author_id", [('"',), d.digits.format("author_id"), ('"',)]),
        ("author_name", [d.json.format("author_name")]), ("created_at_utc", [('"',), created, ('"',)]),
        ("edited_at_utc", [f"COALESCE('\"' || {edited} || '\"', 'null')"]), ("source", [d.json.format("source")]),
        ("message_url", [f"COALESCE({d.json.format('message_url')}, 'null')"]), ("text", [d.json.format("content")]),
    ]
    json_parts: list[str | tuple[str]] = [("  {\n",)]
    for n, (name, value) in enumerate(fields):
        json_parts += [((",\n" if n else "") + f'    "{name}": ',), *value]
    json_element = _concat(d, *json_parts, ("\n  }",))
    columns = [f"CASE WHEN plain THEN NULL ELSE {c} END" if c in _TEXT else c for c in TAKE_COLUMNS]
    return (f"WITH t AS {d.materialized}(SELECT {', '.join(TAKE_COLUMNS)}, {plain} AS plain, "
            f"{d.iso.format('created_at')} AS {created}, {d.iso.format('edited_at')} AS {edited} "
            f"FROM takes WHERE {where} ORDER BY created_at, id LIMIT {limit}) "
            f"SELECT {', '.join(columns)}, CASE WHEN plain THEN {csv_line} END, "
            f"CASE WHEN plain THEN {json_element} END FROM t ORDER BY created_at, id")


def chunk_of(rows: Sequence[Any], take_from_row: Callable[[Any], Take]) -> ExportChunk:
    """A page of :func:`export_query` rows as an :class:`ExportChunk` (a column at a time)."""
    csv_lines: list[str | None] = [row[11] for row in rows]
    return ExportChunk(csv_lines, [row[12] for row in rows], [row[4] for row in rows],
                       {n: take_from_row(rows[n]) for n, line in enumerate(csv_lines) if line is None})


def export_where(placeholder: Callable[[int], str], *, guild_id: int | None, article: str | None,
                 author_id: int | None, since: object, until: object) -> tuple[list[str], list[Any]]:
    """The conditions of an export (an article's takes, or a member's) and their values;
    ``placeholder(n)`` writes the n-th parameter (from 1)."""
    conditions: list[str] = []
    values: list[Any] = []
    for column, value, op in (("guild_id", guild_id, "="), ("article", article, "="), ("author_id", author_id, "="),
                              ("created_at", since, ">="), ("created_at", until, "<")):
        if value is not None:
            values.append(value)
            conditions.append(f"{column} {op} {placeholder(len(values))}")
    return conditions, values
