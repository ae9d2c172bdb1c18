"""Meeting times as people write them, read in the server's time zone (pure, property-tested).

``2027-01-14 19:00``, ``tomorrow 19:00``, ``next thursday 7pm``, ``friday 18:30``, ``in 2 hours``:
:func:`parse_when` turns them into a UTC instant, or refuses with one line that shows a form
that works. A time the zone skips (the spring-forward gap) or passes twice (the autumn fold) is
refused as ambiguous rather than guessed, and so is a date like ``01/02/2027`` (January or
February?). Times in the past and more than a year ahead are refused too: both are typos far
more often than plans.

Times go back to members as Discord timestamps (``<t:…:F>``), so every reader sees their own zone.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from bot.errors import UserError

#: The furthest ahead a meeting may be scheduled.
MAX_AHEAD = dt.timedelta(days=366)
MIN_DURATION = 15
MAX_DURATION = 6 * 60
DEFAULT_DURATION = 60
EXAMPLE = "`2027-01-14 19:00`, `tomorrow 19:00` or `next thursday 7pm`"

WEEKDAYS = {name: number for number, names in enumerate((
    ("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed"), ("thursday", "thu", "thur", "thurs"),
    ("friday", "fri"), ("saturday", "sat"), ("sunday", "sun"))) for name in names}

_TIME = re.compile(r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<half>am|pm|a\.m\.|p\.m\.)?|(?P<word>noon|midnight)")
_DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})")
_SLASHED = re.compile(r"\d{1,4}[/.]\d{1,2}[/.]\d{1,4}")
_DURATION = re.compile(r"(?:(?P<hours>\d{1,2}(?:\.\d{1,2})?)h(?:ours?)?)?"
                       r"(?:(?P<minutes>\d{1,3})(?:m|min|mins|minutes?)?)?")
_IN = re.compile(r"in\s+(?P<count>\d{1,4})\s*(?P<unit>m|min|mins|minutes?|h|hrs?|hours?|d|days?)")


class BadWhen(UserError):
    """A meeting time that cannot be used; the message says why and shows forms that work."""


class BadTimezone(UserError):
    pass


def zone(name: str | None) -> zoneinfo.ZoneInfo:
    """The server's zone; ``None`` is UTC."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise BadTimezone(f"`{(name or '')[:40]}` is not a time zone I know. Use an IANA name like "
                          "`Europe/Berlin`, `America/New_York` or `UTC`.") from exc


def parse_timezone(text: str) -> str:
    """An IANA zone name as the zone database spells it (``europe/berlin`` → ``Europe/Berlin``)."""
    cleaned = text.strip().replace(" ", "_")
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]{1,64}", cleaned) or ".." in cleaned:
        raise BadTimezone("A time zone is an IANA name like `Europe/Berlin`, `America/New_York` or `UTC`.")
    if cleaned.casefold() == "utc":
        return "UTC"
    known = {name.casefold(): name for name in zoneinfo.available_timezones()}
    found = known.get(cleaned.casefold())
    if found is None:
        raise BadTimezone(f"`{cleaned}` is not a time zone I know. Use an IANA name like `Europe/Berlin`, "
                          "`America/New_York` or `UTC`.")
    return found


def _refuse(why: str) -> BadWhen:
    return BadWhen(f"{why} Write the time like {EXAMPLE} (in the server's time zone).")


def _clock_time(text: str) -> dt.time:
    text = text.strip().removeprefix("at ").strip()
    if not text:
        raise _refuse("Add the time of day.")
    match = _TIME.fullmatch(text)
    if not match:
        raise _refuse(f"I can't read `{text.strip()[:30]}` as a time of day.")
    if match["word"]:
        return dt.time(12 if match["word"] == "noon" else 0, 0)
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    half = (match["half"] or "").replace(".", "")
    if half:
        if not 1 <= hour <= 12:
            raise _refuse(f"`{text.strip()}` is not a time of day.")
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif match["minute"] is None:
        raise _refuse(f"`{text.strip()}` could be morning or evening: say `{hour}:00`, `{hour}am` or `{hour}pm`.")
    if hour > 23 or minute > 59:
        raise _refuse(f"`{text.strip()}` is not a time of day.")
    return dt.time(hour, minute)


def _local(day: dt.date, at: dt.time, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The instant a wall-clock time names, refusing one the zone skips or passes twice."""
    naive = dt.datetime.combine(day, at)
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        gap = first.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) != naive
        what = "does not exist" if gap else "happens twice"
        raise _refuse(f"{naive:%Y-%m-%d %H:%M} {what} in {tz.key} (the clocks change that night); pick another time.")
    return first.astimezone(dt.UTC)


def parse_when(text: str, *, now: dt.datetime, timezone: str | None) -> dt.datetime:
    """The UTC instant ``text`` names, read in ``timezone`` (IANA; ``None`` is UTC) at ``now``."""
    tz = zone(timezone)
    words = " ".join(text.lower().replace(",", " ").split())
    if not words:
        raise _refuse("When should the meeting start?")
    local_now = now.astimezone(tz)
    when = _read(words, local_now, tz, now)
    if when <= now:
        raise _refuse(f"{when.astimezone(tz):%Y-%m-%d %H:%M} has already passed.")
    if when - now > MAX_AHEAD:
        raise _refuse("That is more than a year ahead.")
    return when


def _read(words: str, local_now: dt.datetime, tz: zoneinfo.ZoneInfo, now: dt.datetime) -> dt.datetime:
    relative = _IN.fullmatch(words)
    if relative:
        count, unit = int(relative["count"]), relative["unit"][0]
        return now + dt.timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: count})
    if _SLASHED.match(words):
        raise _refuse(f"`{words.split()[0]}` could be read two ways (day/month or month/day).")
    head, _, rest = words.partition(" ")
    date = _DATE.fullmatch(head)
    if date:
        try:
            day = dt.date(int(date["year"]), int(date["month"]), int(date["day"]))
        except ValueError:
            raise _refuse(f"`{head}` is not a date.") from None
        return _local(day, _clock_time(rest), tz)
    if head in {"today", "tonight", "tomorrow"}:
        day = local_now.date() + dt.timedelta(days=1 if head == "tomorrow" else 0)
        return _local(day, _clock_time(rest), tz)
    if head == "next":
        head, _, rest = rest.partition(" ")
    weekday = WEEKDAYS.get(head)
    if weekday is not None:
        ahead = (weekday - local_now.weekday() - 1) % 7 + 1  # the coming one, never today
        return _local(local_now.date() + dt.timedelta(days=ahead), _clock_time(rest), tz)
    raise _refuse(f"I can't read `{words[:40]}` as a date and time.")


def parse_duration(text: str | None) -> int:
    """Minutes: ``90``, ``90m``, ``1h``, ``1h30m``, ``1.5h``; from 15 minutes to 6 hours."""
    if text is None or not text.strip():
        return DEFAULT_DURATION
    cleaned = text.strip().lower().replace(" ", "")
    match = _DURATION.fullmatch(cleaned)
    if not match or not (match["hours"] or match["minutes"]):
        raise BadWhen("A duration is minutes or hours: `90`, `90m`, `1h` or `1h30m`.")
    minutes = round(float(match["hours"] or 0) * 60) + int(match["minutes"] or 0)
    if not MIN_DURATION <= minutes <= MAX_DURATION:
        raise BadWhen(f"A meeting lasts from {MIN_DURATION} minutes to {MAX_DURATION // 60} hours; "
                      f"`{cleaned[:20]}` is {minutes} minutes.")
    return minutes
