"""``python -m bot try`` as a person would use it, scripted on standard input: a member's path
(FAQ, a take by command and by the form) and a moderator's (pin, export); a draft article; the
browser preview in a real headless Chromium."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.processes import PROJECT_ROOT, BotProcess, bot_environment

TEST_DATA = Path(__file__).parent / "data"


def tryout(script: str, *args: str, data_dir: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "try", *args], input=script, text=True,
                          capture_output=True, cwd=PROJECT_ROOT, timeout=timeout,
                          env=bot_environment(DATA_DIR=str(data_dir)))


def section(output: str, command: str) -> str:
    """What was printed after ``command`` was typed, up to the next prompt."""
    start = output.index(f"> {command}\n") + len(f"> {command}\n")
    following = re.search(r"^\w+> ", output[start:], re.MULTILINE)
    return output[start:start + following.start()] if following else output[start:]


MEMBER_AND_MODERATOR = """\
!commonfactors faq
/select 9
!commonfactors faq alliance
/commonfactors faq query:alliance
!commonfactors take The alliance is built through the work.
/wait 30
/commonfactors take
Model first,\\nthen relationship.
!commonfactors
/click Add your take
/cancel
/as mod
!commonfactors pin
/commonfactors-mod export
/quit
"""


def test_a_member_and_a_moderator_try_the_bot(tmp_path: Path, data_dir: Path) -> None:
    database = tmp_path / "tried.db"
    done = tryout(MEMBER_AND_MODERATOR, "--database", str(database), data_dir=data_dir)

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "You are alice, a member." in out and "Traceback" not in done.stderr + out

    # The FAQ list with its menu, numbered; choosing from it answers privately.
    listing = section(out, "!commonfactors faq")
    assert "menu ▾ Read an answer…:" in listing and "   9. What is a working alliance?" in listing
    picked = section(out, "/select 9")
    assert "(only you can see this)" in picked and "│ **FAQ 9: What is a working alliance?**" in picked
    # FAQ, on both paths: the answer as a box with its title.
    for command in ("!commonfactors faq alliance", "/commonfactors faq query:alliance"):
        answer = section(out, command)
        assert "╭" in answer and "│ **FAQ 3: Does this mean technique matters more than the alliance?**" in answer
    # A take by command, acknowledged in the channel.
    assert "Saved your take **#1**" in section(out, "!commonfactors take The alliance is built through the work.")
    # A take by the form: the form is shown, filled, and the answer is private.
    form = section(out, "/commonfactors take")
    assert "── form: Your take on" in form and "(several lines, required, up to 1500 characters)" in form
    assert "(only you can see this)" in form and "Saved your take **#2**" in form
    # A form can be closed without sending.
    assert "-- form closed without sending" in out
    # The moderator pins the summary (shown pinned, with its buttons) and exports (files with sizes).
    pinned = section(out, "!commonfactors pin")
    assert "(📌 pinned)" in pinned and "buttons: [Summary] [Citations] [FAQ] [Add your take]" in pinned
    assert "Pinned the summary" in pinned
    export = section(out, "/commonfactors-mod export")
    assert "(only you can see this)" in export
    assert re.search(r"file: takes-commonfactors-\d+-\d{4}-\d\d-\d\d\.csv \(\d+ B\)", export)
    assert re.search(r"file: takes-commonfactors-\d+-\d{4}-\d\d-\d\d\.json \(\d+ B\)", export)

    # --database keeps what was tried, in the real schema.
    with sqlite3.connect(database) as db:
        takes = db.execute("SELECT content, source FROM takes ORDER BY id").fetchall()
    assert takes == [("The alliance is built through the work.", "command"),
                     ("Model first,\nthen relationship.", "modal")]


def test_mistakes_get_one_line_each(data_dir: Path) -> None:
    done = tryout("/as nobody\n/click Nope\n/commonfactors faq quer:x\n/nosuch thing\n/wait soon\n", data_dir=data_dir)

    assert done.returncode == 0
    assert "?? there is no nobody here; try one of: alice, bob, mod, admin" in done.stdout
    assert "?? no button labelled 'Nope' on the messages you can see" in done.stdout
    assert "?? /commonfactors faq has no option quer: (its options: query:)" in done.stdout
    assert "?? there is no slash command /nosuch thing; you can use:" in done.stdout
    assert "?? /wait takes a number of seconds" in done.stdout


def test_without_database_the_takes_are_thrown_away(tmp_path: Path, data_dir: Path) -> None:
    done = tryout("!commonfactors take Gone afterwards.\n", data_dir=data_dir)

    assert done.returncode == 0 and "Saved your take" in done.stdout
    assert "Takes go to a throwaway database." in done.stdout
    assert not list(data_dir.glob("*.db")) and not list(tmp_path.glob("**/*.db"))


def test_a_draft_article_is_validated_and_shown_as_members_will_see_it(data_dir: Path, tmp_path: Path) -> None:
    draft = tmp_path / "draft.toml"
    shutil.copy(TEST_DATA / "placebo.toml", draft)
    (data_dir / "placebo.toml").unlink()

    done = tryout("!placebo faq\n", "--article", str(draft), data_dir=data_dir)

    assert done.returncode == 0, done.stderr
    assert "ok  placebo: A tiny test article about expectancy (" in done.stdout
    card = section(done.stdout, "!placebo")
    assert "│ **A tiny test article about expectancy**" in card and "buttons: [Summary]" in card


def test_a_broken_draft_is_refused_like_check_does(data_dir: Path, tmp_path: Path) -> None:
    draft = tmp_path / "draft.toml"
    draft.write_text('command = "draft"\ntitle = "No more than a title"\n', encoding="utf-8")

    done = tryout("", "--article", str(draft), data_dir=data_dir)

    assert done.returncode == 1
    assert done.stderr.startswith("commonfactors-bot: ") and "draft.toml" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_without_simcord_the_try_out_says_how_to_install_it(data_dir: Path) -> None:
    blocker = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'simcord' or name.startswith('simcord.'):\n"
        "            raise ModuleNotFoundError(\"No module named 'simcord'\", name='simcord')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from bot.__main__ import main\n"
        "sys.exit(main(['try']))\n"
    )
    done = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          timeout=60, env=bot_environment(DATA_DIR=str(data_dir)))

    assert done.returncode == 1
    assert done.stderr.strip() == ("commonfactors-bot: the try-out needs SimCord, which is not installed: "
                                   'run pip install -e ".[try]" in the bot\'s folder')


async def test_the_try_out_stops_cleanly_on_sigterm(tmp_path: Path, data_dir: Path) -> None:
    database = tmp_path / "tried.db"
    bot = await BotProcess.start("try", "--database", str(database), stdin=True,
                                 env=bot_environment(DATA_DIR=str(data_dir), LOG_LEVEL="INFO"))
    try:
        assert bot.process.stdin is not None and bot.process.stdout is not None
        bot.process.stdin.write(b"!commonfactors take Kept across the stop.\n")
        await bot.process.stdin.drain()
        async with asyncio.timeout(30):
            while b"Saved your take" not in await bot.process.stdout.readline():
                pass
        bot.process.terminate()
        assert await bot.finish() == 0
    finally:
        bot.kill()
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT content FROM takes").fetchall() == [("Kept across the stop.",)]
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


async def test_the_browser_preview_renders_the_bot_in_headless_chromium(data_dir: Path) -> None:
    # .ci/run installs both; a developer without them is told what to install.
    assert shutil.which("chromium"), "this test needs Debian's Chromium: apt-get install chromium"
    bot = await BotProcess.start("try", "--browser", stdin=True, env=bot_environment(DATA_DIR=str(data_dir)))
    try:
        assert bot.process.stdin is not None and bot.process.stdout is not None
        bot.process.stdin.write(b"!commonfactors\n")
        await bot.process.stdin.drain()
        url = ""
        async with asyncio.timeout(30):
            while not url:
                line = (await bot.process.stdout.readline()).decode()
                assert line, "the try-out ended before printing the preview address"
                if "Browser preview" in line:
                    url = line.split(": ", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:") and "#" in url
        chromium = await asyncio.create_subprocess_exec(
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
            "--dump-dom", url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        dom, _ = await asyncio.wait_for(chromium.communicate(), 90)
        page = dom.decode()
        assert "journal-club" in page
        assert "Therapeutic relationship vs. treatment model" in page and "Add your take" in page
        bot.process.stdin.close()
        assert await bot.finish() == 0
    finally:
        bot.kill()


MEETING = """\
/as mod
!commonfactors meeting schedule in 2 hours
/wait 3700
/wait 3700
/quit
"""


def test_waiting_in_the_try_out_brings_a_scheduled_meeting_and_its_reminder(tmp_path: Path, data_dir: Path) -> None:
    done = tryout(MEETING, "--database", str(tmp_path / "tried.db"), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Traceback" not in done.stderr + out
    assert "Scheduled the journal club" in section(out, "!commonfactors meeting schedule in 2 hours")
    waited = out[out.index("> /wait 3700"):]
    assert "Journal club in an hour" in waited  # the reminder an hour before
    assert "Therapeutic relationship vs. treatment model · 2026-01-01" in waited  # the meeting's thread opened
