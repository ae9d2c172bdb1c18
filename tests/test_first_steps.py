"""The small things a newcomer meets first: settings refused in one line, the invite, the
benchmark's help, and how the try-out draws times, mentions, counts and buttons."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
import sys
from pathlib import Path

import discord
import pytest

from bot.__main__ import main
from bot.article import load_articles
from bot.settings import DEFAULT_DATA_DIR, Settings, SettingsError
from bot.storage.base import TakeStats
from bot.tryout.render import mentions, render_message, timestamps
from bot.ui import rendering
from tests.processes import PROJECT_ROOT, bot_environment
from tests.test_tryout import section, tryout

NOW = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)


def at(seconds: float) -> str:
    return f"<t:{int((NOW + dt.timedelta(seconds=seconds)).timestamp())}:R>"


def test_relative_times_read_as_a_person_would_say_them() -> None:
    assert timestamps(f"saved {at(0)}", NOW) == "saved just now"
    assert timestamps(at(30), NOW) == "in 30 s" and timestamps(at(-59), NOW) == "59 s ago"
    assert timestamps(at(-120), NOW) == "2 min ago" and timestamps(at(-3600), NOW) == "1 h ago"
    assert timestamps(at(-3 * 86400), NOW) == "3 days ago"


def test_mentions_are_drawn_as_names() -> None:
    names = {1: "@alice", 2: "@Moderators", 3: "#journal-club"}
    assert mentions("<@1> and <@!1> of <@&2> in <#3>, not <@4>", names) == \
        "@alice and @alice of @Moderators in #journal-club, not @unknown"


def test_a_mention_in_an_embed_keeps_the_box_straight() -> None:
    message = discord.Message.__new__(discord.Message)
    embed = discord.Embed(description="Set by <@1456074443980800008> " + at(0))
    for name, value in {"content": "", "embeds": [embed], "components": [], "attachments": [], "pinned": False,
                        "flags": discord.MessageFlags(), "author": discord.Object(id=1)}.items():
        setattr(message, name, value)
    message.author.bot = True  # type: ignore[attr-defined]

    lines = render_message(message, now=NOW, names={1456074443980800008: "@admin"})

    assert "│ Set by @admin just now" in "\n".join(lines)
    assert len({len(line) for line in lines[1:]}) == 1


def test_one_take_is_one_take_in_the_stats() -> None:
    day = dt.date(2026, 1, 1)
    shipped = load_articles(DEFAULT_DATA_DIR)[0]
    embed = rendering.stats_embed(shipped, TakeStats(takes=1, members=1, per_day=((day, 1),)))

    assert [f.name for f in embed.fields][-1] == "Last 1 day (1 take)"


def test_a_log_level_that_does_not_exist_is_refused_in_one_line() -> None:
    with pytest.raises(SettingsError, match=r"^LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, "
                                            r"not 'verbose'$"):
        Settings(log_level="verbose")
    assert Settings(log_level="warning").log_level == "WARNING"


def test_invite_with_a_malformed_token_says_it_is_malformed(capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APPLICATION_ID", raising=False)
    monkeypatch.setenv("DISCORD_TOKEN", "not-a-token-at-all")
    assert main(["invite"]) == 1
    assert capsys.readouterr().err.startswith("commonfactors-bot: DISCORD_TOKEN is malformed")

    token = base64.b64encode(b"123456789012345678").decode().rstrip("=") + ".abc.def"
    monkeypatch.setenv("DISCORD_TOKEN", token)
    assert main(["invite"]) == 0
    assert "client_id=123456789012345678" in capsys.readouterr().out


def test_the_backend_benchmarks_help_says_the_whole_sentence() -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks.backends", "--help"], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=60, env=bot_environment())
    assert done.returncode == 0
    assert " ".join(done.stdout.split()).count("listing, counting and stats on a database of a million takes.") == 1


def test_click_takes_the_start_of_a_label_in_any_case(data_dir: Path) -> None:
    done = tryout("!commonfactors\n/click add\n/cancel\n/click SUMM\n/click zzz\n", data_dir=data_dir)

    assert done.returncode == 0, done.stderr
    assert "── form: Your take on" in section(done.stdout, "/click add")
    assert "(only you can see this)" in section(done.stdout, "/click SUMM")
    assert "?? no button labelled 'zzz' on the messages you can see" in done.stdout
