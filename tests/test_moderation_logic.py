"""Moderation logic without Discord: packing exports under the upload limit, date ranges, the
settings' parsers, and what a pinned summary hashes to."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import guild_settings
from bot.article import load_articles
from bot.export import (
    FILES_PER_MESSAGE,
    ExportRangeError,
    ExportTooLarge,
    pack_export,
    parse_range,
    takes_to_csv,
)
from bot.guild_settings import InvalidSetting
from bot.pins import pin_digest
from bot.settings import DEFAULT_DATA_DIR, Settings
from bot.storage import GuildSettings, Take
from bot.ui import rendering
from bot.ui.views import article_view

NOW = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)
chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00")


def take(n: int, content: str) -> Take:
    return Take(id=n, guild_id=1, channel_id=2, article="a", author_id=3, author_name="Dr. Ng", content=content,
                source="command", created_at=NOW, edited_at=None, message_url=None)


def unpack(messages: list[list[tuple[str, bytes]]]) -> list[dict[str, Any]]:
    """Every take an export carries, read back the way a moderator would: from the JSON files."""
    rows: list[dict[str, Any]] = []
    for batch in messages:
        for name, data in batch:
            if name.endswith(".json"):
                rows += json.loads(data)
            elif name.endswith(".zip"):
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    for inner in sorted(archive.namelist()):
                        if inner.endswith(".json"):
                            rows += json.loads(archive.read(inner))
                        else:
                            assert archive.read(inner).startswith(b"\xef\xbb\xbf")
    return rows


def test_a_small_export_is_two_plain_files() -> None:
    [[(csv_name, _), (json_name, _)]] = pack_export([take(1, "hi")], "takes-a", limit=10 * 1024 * 1024)
    assert (csv_name, json_name) == ("takes-a.csv", "takes-a.json")


def test_a_large_export_is_zipped_when_that_fits() -> None:
    takes = [take(n, "the alliance grows out of the work " * 50) for n in range(1, 400)]
    size = len(takes_to_csv(takes))
    [[(name, data)]] = pack_export(takes, "takes-a", limit=size)
    assert name == "takes-a.zip" and len(data) < size
    assert [r["id"] for r in unpack([[(name, data)]])] == [t.id for t in takes]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(chars, min_size=1, max_size=4000), min_size=1, max_size=60),
       st.integers(min_value=30_000, max_value=400_000))
def test_any_export_fits_the_limit_and_loses_nothing(contents: list[str], limit: int) -> None:
    takes = [take(n, c) for n, c in enumerate(contents, start=1)]
    messages = pack_export(takes, "takes-a", limit=limit)
    for batch in messages:
        assert 1 <= len(batch) <= FILES_PER_MESSAGE
        assert sum(len(d) for _, d in batch) <= limit
    assert [(r["id"], r["text"]) for r in unpack(messages)] == [(t.id, t.content) for t in takes]
    names = [n for batch in messages for n, _ in batch]
    assert len(set(names)) == len(names)


def test_incompressible_takes_are_split_into_numbered_parts() -> None:
    import random

    rng = random.Random(4)
    takes = [take(n, "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(3000))) for n in range(1, 200)]
    messages = pack_export(takes, "takes-a", limit=400_000)
    names = [n for batch in messages for n, _ in batch]
    assert len(names) > 1 and all("-part" in n and n.endswith(".zip") for n in names)
    assert [r["id"] for r in unpack(messages)] == list(range(1, 200))


def test_a_take_larger_than_the_limit_is_refused() -> None:
    with pytest.raises(ExportTooLarge):
        pack_export([take(1, "x" * 4000)], "t", limit=200)


@given(st.lists(st.text(chars, max_size=50), min_size=1, max_size=20))
def test_csv_cells_never_start_a_formula(cells: list[str]) -> None:
    takes = [take(n, c) for n, c in enumerate(cells, start=1)]
    rows = list(csv.reader(io.StringIO(takes_to_csv(takes).decode("utf-8-sig"), newline="")))
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


# -- date ranges --------------------------------------------------------------------------------


def test_range_covers_whole_days_inclusive() -> None:
    low, high, label = parse_range("2026-11-01", "2026-11-03", today=NOW.date())
    assert low == dt.datetime(2026, 11, 1, tzinfo=dt.UTC) and high == dt.datetime(2026, 11, 4, tzinfo=dt.UTC)
    assert "2026-11-01" in label and "inclusive" in label


def test_range_understands_today_and_days_ago() -> None:
    low, high, _ = parse_range("7d", "today", today=NOW.date())
    assert low == dt.datetime(2026, 11, 20, tzinfo=dt.UTC) and high == dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
    assert parse_range(None, None, today=NOW.date())[:2] == (None, None)


@pytest.mark.parametrize(("since", "until"), [("soon", None), ("2026-13-01", None), (None, "2026-02-30"),
                                               ("2026-11-05", "2026-11-01")])
def test_bad_ranges_are_explained(since: str | None, until: str | None) -> None:
    with pytest.raises(ExportRangeError):
        parse_range(since, until, today=NOW.date())


# -- settings -----------------------------------------------------------------------------------

BOT = Settings()


def test_numbers_are_validated_with_their_range() -> None:
    assert guild_settings.parse_take_length("1,500", None, BOT) == 1500
    assert guild_settings.parse_cooldown("5m", None, BOT) == 300
    assert guild_settings.parse_cooldown("1 hour", None, BOT) == 3600
    assert guild_settings.parse_cooldown("0", None, BOT) == 0
    for bad in ("19", "4001", "-3", "1e3", ""):
        with pytest.raises(InvalidSetting):
            guild_settings.parse_take_length(bad, None, BOT)


@given(st.text(chars, max_size=8))
def test_an_accepted_prefix_is_short_and_plain(text: str) -> None:
    try:
        prefix = guild_settings.parse_prefix(text, None, BOT)
    except InvalidSetting:
        return
    assert 1 <= len(prefix) <= guild_settings.MAX_PREFIX_LENGTH
    assert not any(c.isspace() for c in prefix) and "`" not in prefix and "@" not in prefix
    assert not prefix.startswith("/")


def test_change_validates_resets_and_describes() -> None:
    current = GuildSettings(guild_id=1, take_max_length=900, prefix="?")
    change = guild_settings.change(current, "take-length", "1200", None, BOT)
    assert change.after.take_max_length == 1200 and change.after.prefix == "?"
    assert change.describe(BOT) == "Take length limit: 900 characters → 1200 characters"

    reset = guild_settings.change(current, "prefix", "default", None, BOT)
    assert reset.after.prefix is None and "(default)" in reset.describe(BOT)
    with pytest.raises(InvalidSetting, match="no setting"):
        guild_settings.change(current, "volume", "11", None, BOT)


def test_every_setting_is_shown_and_every_field_can_be_reset() -> None:
    rows = guild_settings.rows(GuildSettings(guild_id=1), BOT)
    assert len(rows) == len(guild_settings.SETTINGS)
    for setting in guild_settings.SETTINGS.values():
        changed = guild_settings.change(GuildSettings(guild_id=1), setting.name, "reset", None, BOT)
        assert changed.after == GuildSettings(guild_id=1)
    assert rendering.within_limits(rendering.settings_embed("G" * 100, rows, "cf?"))


# -- pins ---------------------------------------------------------------------------------------


def test_pin_digest_changes_with_what_the_message_shows() -> None:
    article = load_articles(DEFAULT_DATA_DIR)[0]
    view = article_view(article)
    embed = rendering.pinned_embed(article)
    assert pin_digest(embed, view) == pin_digest(rendering.pinned_embed(article), article_view(article))
    changed = article.model_copy(update={"short_summary": article.short_summary + " More."})
    assert pin_digest(rendering.pinned_embed(changed), view) != pin_digest(embed, view)
    assert rendering.within_limits(embed)
