"""Meeting times as people write them: what is understood, and one clear line for the rest."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.when import BadTimezone, BadWhen, parse_duration, parse_timezone, parse_when

# A Wednesday afternoon in Berlin (UTC+1 in January).
NOW = dt.datetime(2027, 1, 13, 15, 0, tzinfo=dt.UTC)
BERLIN = "Europe/Berlin"
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"]


def berlin(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zoneinfo.ZoneInfo(BERLIN)).astimezone(dt.UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("2027-01-14 19:00", berlin(2027, 1, 14, 19, 0)),
    ("tomorrow 19:00", berlin(2027, 1, 14, 19, 0)),
    ("next thursday 7pm", berlin(2027, 1, 14, 19, 0)),
    ("Thursday at 7:30 pm", berlin(2027, 1, 14, 19, 30)),
    ("wed 18:00", berlin(2027, 1, 20, 18, 0)),  # today is Wednesday: the coming one, never today
    ("today 23:15", berlin(2027, 1, 13, 23, 15)),
    ("tomorrow noon", berlin(2027, 1, 14, 12, 0)),
    ("in 2 hours", NOW + dt.timedelta(hours=2)),
    ("in 90 min", NOW + dt.timedelta(minutes=90)),
])
def test_times_people_write_are_read_in_the_servers_zone(text: str, expected: dt.datetime) -> None:
    assert parse_when(text, now=NOW, timezone=BERLIN) == expected


@pytest.mark.parametrize(("text", "why"), [
    ("2027-01-12 19:00", "already passed"),
    ("today 9:00", "already passed"),
    ("2029-01-01 10:00", "more than a year"),
    ("01/02/2027 19:00", "two ways"),
    ("tomorrow 7", "morning or evening"),
    ("tomorrow", "Add the time"),
    ("someday soon", "can't read"),
    ("2027-02-30 10:00", "not a date"),
    ("tomorrow 25:00", "not a time of day"),
    ("2027-03-28 02:30", "does not exist"),  # Berlin springs forward that night
    ("2027-10-31 02:30", "happens twice"),  # and falls back
    ("", "When should"),
])
def test_unusable_times_get_one_line_with_an_example_that_works(text: str, why: str) -> None:
    with pytest.raises(BadWhen) as refused:
        parse_when(text, now=NOW, timezone=BERLIN)
    message = str(refused.value)
    assert why in message and "`tomorrow 19:00`" in message and "\n" not in message


@given(st.sampled_from(ZONES), st.integers(min_value=1, max_value=365 * 24 * 60))
def test_a_written_local_time_comes_back_as_the_same_instant(name: str, minutes_ahead: int) -> None:
    tz = zoneinfo.ZoneInfo(name)
    instant = (NOW + dt.timedelta(minutes=minutes_ahead)).replace(second=0)
    written = instant.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    try:
        parsed = parse_when(written, now=NOW, timezone=name)
    except BadWhen as refused:  # only a wall-clock time the zone passes twice may be refused
        assert "happens twice" in str(refused) or "already passed" in str(refused)
        return
    assert parsed == instant


@given(st.text(max_size=60), st.sampled_from(ZONES))
def test_any_text_is_either_a_future_time_within_a_year_or_a_clear_refusal(text: str, name: str) -> None:
    try:
        parsed = parse_when(text, now=NOW, timezone=name)
    except BadWhen as refused:
        assert "\n" not in str(refused)
        return
    assert NOW < parsed <= NOW + dt.timedelta(days=366) and parsed.tzinfo is not None


@pytest.mark.parametrize(("text", "minutes"), [(None, 60), ("90", 90), ("90m", 90), ("1h", 60), ("1h30m", 90),
                                               ("1.5h", 90), ("2 hours", 120)])
def test_durations(text: str | None, minutes: int) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["5m", "7h", "forever", "h"])
def test_unusable_durations_are_refused(text: str) -> None:
    with pytest.raises(BadWhen):
        parse_duration(text)


def test_time_zones_are_iana_names_spelled_as_the_database_does() -> None:
    assert parse_timezone("europe/berlin") == "Europe/Berlin"
    assert parse_timezone("utc") == "UTC"
    for bad in ("Mars/Olympus", "../../etc/passwd", "CET; DROP"):
        with pytest.raises(BadTimezone):
            parse_timezone(bad)
