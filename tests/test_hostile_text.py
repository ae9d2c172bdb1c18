"""Hostile text in the pure rules: invisible takes and prefixes, unstorable characters, lengths
counted as Discord counts them, formula-safe CSV cells, and hostile article files.

Example counts scale with ``HYPOTHESIS_PROFILE`` (see tests/fuzz.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.article import MAX_DEPTH, MAX_FILE_BYTES, Article, ArticleError, load_article, load_articles
from bot.errors import TakeRejected
from bot.export import safe_cell, takes_to_csv
from bot.guild_settings import MAX_PREFIX_LENGTH, PREFIX_FORBIDDEN, InvalidSetting, parse_prefix
from bot.settings import Settings
from bot.storage import Take
from bot.takes import TakeRules, check_text
from bot.text import (
    DEFAULT_IGNORABLE,
    discord_length,
    has_visible_content,
    is_invisible,
    printable,
    unstorable_problem,
)
from bot.ui.take_form import with_draft
from tests.fuzz import fuzz

ROOT = Path(__file__).resolve().parent.parent
VALID_ARTICLE = (Path(__file__).parent / "data" / "placebo.toml").read_text(encoding="utf-8")
RULES = TakeRules(max_length=1500, cooldown=dt.timedelta(0), duplicate_window=dt.timedelta(0),
                  channel_ids=frozenset())

#: The characters the issue names, and their kin: none of them shows anything.
NAMED_INVISIBLES = [
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",  # zero-width space, non-joiner, joiner, word joiner, BOM
    "\u3164", "\u115f", "\u1160", "\uffa0",  # Hangul fillers
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",  # bidi
    "\u200e", "\u200f", "\u061c",  # direction marks
    "\u00ad", "\u034f", "\u180e", "\u2800", "\ufe0f", "\U000e0041", "\U000e0100",  # soft hyphen … tags
    "\u00a0", "\u2002", "\u3000", "\u2028", "\u2029", " ", "\t", "\n", "\r",  # spaces and breaks
]

#: Any code point at all, lone surrogates included (Discord's JSON can carry a ``\\ud83d`` escape).
ANY_CHAR = st.one_of(st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))
ANY_TEXT = st.text(alphabet=ANY_CHAR, max_size=60)
INVISIBLE_CHAR = st.one_of(
    st.sampled_from(NAMED_INVISIBLES),
    st.sampled_from(DEFAULT_IGNORABLE).flatmap(lambda r: st.integers(r[0], r[1])).map(chr),
    st.characters(categories=["Zs", "Zl", "Zp", "Cf"]),
    st.characters(categories=["Mn", "Me"]),  # combining marks have nothing to sit on
)
LAYOUT_OR_INVISIBLE = st.one_of(INVISIBLE_CHAR.filter(lambda c: c not in "\t\r"), st.sampled_from(" \n\u3000\u00a0"))


# -- invisible takes -----------------------------------------------------------------------------


@pytest.mark.parametrize("char", NAMED_INVISIBLES, ids=lambda c: f"U+{ord(c):04X}")
def test_a_take_of_only_an_invisible_character_is_refused(char: str) -> None:
    with pytest.raises(TakeRejected, match="empty"):
        check_text(char * 40, RULES)
    assert not has_visible_content(char * 3)
    assert is_invisible(char) or unicodedata.category(char) == "Mn"


@fuzz(3000)
@given(st.text(alphabet=INVISIBLE_CHAR.filter(lambda c: unicodedata.category(c) != "Cc"), max_size=80))
def test_any_mix_of_invisible_characters_is_refused(text: str) -> None:
    with pytest.raises(TakeRejected, match="empty"):
        check_text(text, RULES)


@fuzz(3000)
@given(st.text(alphabet=LAYOUT_OR_INVISIBLE, max_size=30), st.characters(categories=["L", "N", "P", "S"]),
       st.text(alphabet=LAYOUT_OR_INVISIBLE, max_size=30))
def test_one_visible_character_among_invisible_ones_is_a_real_take(before: str, visible: str, after: str) -> None:
    if visible in "\u3164\u115f\u1160\uffa0\u2800\U0001d159" or is_invisible(visible):
        return  # the blank-looking letters and symbols, covered above
    check_text(before + visible + after, RULES)


@pytest.mark.parametrize("text", ["a", "😀", "🇫🇷", "👩\u200d⚕️", "é", "e\u0301", "نعم", "שלום", "中文", "1", "?"])
def test_short_real_takes_in_any_script_are_accepted(text: str) -> None:
    check_text(text, RULES)


# -- characters that cannot be stored --------------------------------------------------------------


@pytest.mark.parametrize("surrogate", ["\ud83d", "\ude00", "\udfff", "\ud800"])
def test_a_lone_surrogate_is_refused_with_what_is_wrong(surrogate: str) -> None:
    with pytest.raises(TakeRejected) as refused:
        check_text(f"A fine take {surrogate} on the article", RULES)
    message = str(refused.value)
    assert "Character 13" in message and "broken" in message and "emoji" in message
    assert "database" not in message and "try again" not in message.lower()
    message.encode("utf-8")  # the answer itself can be sent


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b"])
def test_control_characters_are_refused_not_stripped(control: str) -> None:
    with pytest.raises(TakeRejected, match="control character"):
        check_text(f"abc{control}def", RULES)


def test_tabs_and_line_breaks_are_layout_and_kept() -> None:
    check_text("Point one:\n\tthe alliance\r\nPoint two.", RULES)


@fuzz(5000)
@given(ANY_TEXT)
def test_every_take_is_accepted_exactly_or_refused_with_a_sendable_reason(text: str) -> None:
    try:
        check_text(text, RULES)
    except TakeRejected as refused:
        answer = with_draft(str(refused), text)
        answer["content"].encode("utf-8")  # never a UnicodeEncodeError on the way back to the member
        assert discord_length(answer["content"]) <= 2000
        if "file" in answer:
            answer["file"].fp.read().decode("utf-8")
        return
    # Accepted: nothing in it would be changed or lost by storing it, and a reader sees something.
    text.encode("utf-8")
    assert unstorable_problem(text) is None and has_visible_content(text)
    assert discord_length(text) <= RULES.max_length


def test_lengths_are_counted_in_code_points_as_discord_counts_them() -> None:
    rules = TakeRules(max_length=20, cooldown=dt.timedelta(0), duplicate_window=dt.timedelta(0),
                      channel_ids=frozenset())
    check_text("😀" * 20, rules)  # 20 code points (40 UTF-16 units, 80 UTF-8 bytes) fit
    with pytest.raises(TakeRejected, match="21 characters; the limit here is 20"):
        check_text("😀" * 21, rules)
    assert discord_length("👩\u200d⚕️") == 4 and discord_length("🇫🇷") == 2


def test_printable_replaces_only_lone_surrogates() -> None:
    assert printable("ok \ud83d 😀") == "ok \ufffd 😀"
    assert printable("plain") == "plain"


# -- the prefix ----------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["\u200b", "\u2060", "\u3164", "\u202e!", "\u200b!", "!\u200d", "\ufeff!",
                                    "\u2800", "\u0301!", "\u200e?", "\u2066!\u2069", "\ud83d!", "!\x00"])
def test_an_invisible_prefix_or_one_with_invisible_parts_is_refused(prefix: str) -> None:
    with pytest.raises(InvalidSetting, match=r"see and type.*U\+[0-9A-F]{4}"):
        parse_prefix(prefix, None, Settings())


@pytest.mark.parametrize("prefix", ["!", "?", "cf!", "$", "¿", "！", "ß!", "😀"])
def test_typeable_prefixes_are_kept(prefix: str) -> None:
    assert parse_prefix(f" {prefix} ", None, Settings()) == prefix


@fuzz(5000)
@given(st.text(alphabet=ANY_CHAR, max_size=8))
def test_an_accepted_prefix_is_short_visible_and_typeable(text: str) -> None:
    try:
        prefix = parse_prefix(text, None, Settings())
    except InvalidSetting as refused:
        str(refused).encode("utf-8")
        return
    assert 1 <= discord_length(prefix) <= MAX_PREFIX_LENGTH
    assert not any(is_invisible(c) for c in prefix) and has_visible_content(prefix[0])
    assert not PREFIX_FORBIDDEN.search(prefix) and not prefix.startswith("/")


# -- formula-safe CSV ------------------------------------------------------------------------------

FORMULA = "=+-@"
FULL_WIDTH = "\uff1d\uff0b\uff0d\uff20"
TRIMMED = st.text(alphabet=st.one_of(st.sampled_from(" \t\r\n\u00a0\u3000\u200b\ufeff\u2028\v\f"),
                                     st.characters(categories=["Zs"])), max_size=6)


def evaluated_by_a_spreadsheet(cell: str) -> bool:
    """The strictest reading any spreadsheet makes: trim every leading space, break or invisible
    character (Python's Unicode whitespace and the default-ignorables), then a formula sign starts
    a formula. A leading apostrophe makes the cell text."""
    if cell.startswith("'"):
        return False
    if cell[:1] in ("\t", "\r"):
        return True
    lead = re.sub(r"^[\s\u200b-\u200f\u2060-\u206f\ufeff\u00ad\u180e\u3164\u2800]*", "", cell)
    return lead[:1] in set(FORMULA + FULL_WIDTH)


@pytest.mark.parametrize("cell", [" =1+1", "\n=1+1", "\t+1", "\r\n-2+3", "  @SUM(A1)", "\u3000=1", "\u00a0=1",
                                  "\u200b=HYPERLINK(\"x\")", "\uff1d1+1", " \uff0bcmd", "=1", "\r=1"])
def test_cells_a_spreadsheet_would_trim_into_a_formula_are_neutralised(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell
    assert not evaluated_by_a_spreadsheet(safe_cell(cell))


@pytest.mark.parametrize("cell", ["a = b", "The alliance", "3 - 2", "", "'quoted", "x\n=1"])
def test_ordinary_cells_are_left_alone(cell: str) -> None:
    assert safe_cell(cell) == cell


@fuzz(5000)
@given(st.one_of(
    st.text(max_size=40),
    st.tuples(TRIMMED, st.sampled_from(FORMULA + FULL_WIDTH), st.text(max_size=20)).map("".join),
))
def test_no_cell_a_spreadsheet_would_evaluate_survives(text: str) -> None:
    cell = safe_cell(text)
    assert cell in (text, "'" + text)  # nothing else changes: the take is still there, exactly
    assert not evaluated_by_a_spreadsheet(cell)


def _take(content: str, author_name: str) -> Take:
    return Take(id=1, guild_id=1, channel_id=2, article="demo", author_id=3, author_name=author_name,
                content=content, source="command", created_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                edited_at=None, message_url=None)


@fuzz(1500)
@given(st.tuples(TRIMMED, st.sampled_from(FORMULA + FULL_WIDTH), st.text(max_size=20)).map("".join),
       st.text(max_size=20))
def test_a_written_csv_neutralises_every_cell_and_reads_back(content: str, name: str) -> None:
    data = takes_to_csv([_take(content, name)])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header, row = rows
    record = dict(zip(header, row, strict=True))
    assert not any(evaluated_by_a_spreadsheet(cell) for cell in row)
    assert record["text"].removeprefix("'") == content or record["text"] == content
    assert safe_cell(content) == record["text"]


# -- hostile article files -------------------------------------------------------------------------


def mention(field: str, text: str) -> str:
    return VALID_ARTICLE.replace(f'{field} = "', f'{field} = "{text} ', 1)


def write(folder: Path, text: str, name: str = "bad.toml", **kwargs: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding=kwargs.get("encoding", "utf-8"))
    return path


def one_line_error(path: Path) -> str:
    with pytest.raises(ArticleError) as caught:
        load_article(path)
    report = str(caught.value)
    assert report.startswith(f"{path.name}: ") and "\n" not in report and "\r" not in report
    assert "Traceback" not in report and len(report) < 1000
    return report


HOSTILE = {
    "deep-arrays": ("command = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested far too deeply"),
    "deep-inline-tables": ("command = " + "{a=" * 100_000 + "1" + "}" * 100_000 + "\n", "nested far too deeply"),
    "deep-but-parseable": ('title = "x"\nextra = ' + "[" * 200 + "]" * 200 + "\n",
                           f"nested more than {MAX_DEPTH} levels deep"),
    "huge": (VALID_ARTICLE + "#" + "x" * (MAX_FILE_BYTES + 10) + "\n", "an article file is at most 1,024 KiB"),
    "everyone": (VALID_ARTICLE.replace('title = "', 'title = "@everyone ', 1), "title: contains a mention (@everyone)"),
    "here-in-faq": (VALID_ARTICLE.replace('answer = "', 'answer = "ask @here ', 1), "contains a mention (@here)"),
    "user-mention": (mention("summary", "<@123456789012345678>"), "<@123456789012345678>"),
    "nick-mention": (VALID_ARTICLE.replace('summary = "', 'summary = "<@!1234> ', 1), "<@!1234>"),
    "role-mention": (mention("author", "<@&987654321098765432>"), "<@&987654321098765432>"),
    "wrong-type": (VALID_ARTICLE.replace('title = "', 'title = 5 #"', 1), "title: Input should be a valid string"),
    "wrong-list": (re.sub(r"key_points = \[.*?\]", "key_points = 3", VALID_ARTICLE, count=1, flags=re.S),
                   "key_points: Input should be a valid list"),
    "nul": (VALID_ARTICLE.replace('title = "', 'title = "a\\u0000', 1), "control character"),
    "bidi": (VALID_ARTICLE.replace('title = "', 'title = "\u202e', 1), "bidi control character (U+202E"),
    "invisible-title": (re.sub(r'^title = ".*"$', 'title = "\u200b\u3164"', VALID_ARTICLE, count=1, flags=re.M),
                        "title: is only invisible characters"),
    "newline-key": (VALID_ARTICLE + '\n"a\\nb" = 1\n', "a\\nb"),
    "binary": ("\x00\x01\x02 not toml", "not valid TOML"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_article_file_is_one_clear_line(tmp_path: Path, name: str) -> None:
    text, expected = HOSTILE[name]
    report = one_line_error(write(tmp_path, text))
    assert expected in report


def test_a_file_with_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    article = load_article(write(tmp_path, VALID_ARTICLE, encoding="utf-8-sig"))
    assert isinstance(article, Article) and article.command == "placebo"


def test_a_file_that_is_not_utf8_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(VALID_ARTICLE.encode("utf-16"))
    assert "not UTF-8" in one_line_error(path)


@fuzz(1500)
@given(st.binary(max_size=300))
def test_any_bytes_load_or_are_refused_in_one_line(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "any.toml"
    path.write_bytes(data)
    try:
        load_article(path)
    except ArticleError as error:
        assert "\n" not in str(error)


def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, for the characters JSON escapes)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


@fuzz(1500)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_any_title_is_loaded_as_written_or_refused_in_one_line(tmp_path_factory: pytest.TempPathFactory,
                                                               title: str) -> None:
    text = re.sub(r'^title = ".*"$', lambda _: f"title = {toml_string(title)}", VALID_ARTICLE, count=1,
                  flags=re.M)
    path = tmp_path_factory.mktemp("fuzz") / "any.toml"
    path.write_text(text, encoding="utf-8")
    try:
        article = load_article(path)
    except ArticleError as error:
        assert "\n" not in str(error)
        return
    assert article.title == title.strip()
    assert has_visible_content(article.title) and "@everyone" not in article.title.lower()


def test_check_reports_a_deeply_nested_file_in_one_line_and_never_half_loads(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write(folder, VALID_ARTICLE, name="a-good.toml")
    write(folder, HOSTILE["deep-arrays"][0], name="b-deep.toml")
    result = subprocess.run([sys.executable, "-m", "bot", "check"], cwd=tmp_path, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATA_DIR": str(folder)},
                            timeout=120)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "commonfactors-bot: b-deep.toml: not valid TOML (arrays or tables nested far too deeply)"]
    assert "ok " not in result.stdout  # the good file is not reported as loaded: nothing starts half-way
    with pytest.raises(ArticleError):
        load_articles(folder)


@pytest.mark.parametrize("name", ["huge", "everyone", "wrong-type", "deep-inline-tables"])
def test_starting_the_bot_on_a_hostile_file_is_one_line(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "articles"
    write(folder, HOSTILE[name][0])
    result = subprocess.run([sys.executable, "-m", "bot"], cwd=tmp_path, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATA_DIR": str(folder),
                                 "DISCORD_TOKEN": "x.y.z"}, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("commonfactors-bot: bad.toml: ")


@pytest.mark.parametrize(("text", "refused"), [
    ("write to info@here.org", False), ("the @heretic", False), ("@here", True), ("ask @everyone", True),
    ("(@Everyone)", True), ("<@42>", True), ("<@!42>", True), ("<@&42>", True), ("<#42>", False)])
def test_mentions_in_article_text_are_refused_but_addresses_are_not(tmp_path: Path, text: str,
                                                                    refused: bool) -> None:
    path = write(tmp_path, mention("summary", text.replace('"', "'")))
    if refused:
        assert "contains a mention" in one_line_error(path)
    else:
        load_article(path)
