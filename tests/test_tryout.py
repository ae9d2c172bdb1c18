"""``python -m bot try`` as a person would use it, scripted on standard input: a member's path
(FAQ, a take by command and by the form) and a moderator's (pin, export); a draft article; the
browser preview in a real headless Chromium."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import simcord

from bot import Settings, create_bot
from bot.app import CommonFactorsBot
from bot.tryout.session import FailureLog, Session
from tests.postgres_server import PostgresServer
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
    assert "   9. What is a working alliance?" in listing
    # More than 25 questions: one menu per 25, as Discord allows.
    assert "menu ▾ Read an answer (questions 1–25)…:" in listing
    assert "menu ▾ Read an answer (questions 26–29)…:" in listing
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


#: Set by .ci/run, which installs Chromium: there the browser test never skips.
REQUIRE_BROWSER = "CF_REQUIRE_BROWSER"


def need_chromium() -> None:
    """The one test that may skip: where no Chromium is installed, it says so in the summary."""
    if shutil.which("chromium"):
        return
    reason = ("test_the_browser_preview_renders_the_bot_in_headless_chromium needs a Chromium "
              "(`chromium` on PATH, e.g. Debian's `apt-get install chromium`); CI installs it and runs this test")
    if os.environ.get(REQUIRE_BROWSER, "").strip() not in {"", "0"}:
        pytest.fail(f"{REQUIRE_BROWSER} is set but there is no Chromium: {reason}")
    pytest.skip(reason)


async def test_the_browser_preview_renders_the_bot_in_headless_chromium(data_dir: Path) -> None:
    need_chromium()
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
        assert "commonfactors-bot" in page and "TestBot" not in page
        bot.process.stdin.close()
        assert await bot.finish() == 0
    finally:
        bot.kill()


REFUSALS = """\
!commonfactors take The same words twice.
!commonfactors take The same words twice.
!commonfactors faq 99
!commonfactors pin
!commonfactors take
/quit
"""


def test_refusals_are_printed_as_members_see_them_not_as_failures(data_dir: Path) -> None:
    done = tryout(REFUSALS, data_dir=data_dir)

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "failed" not in out and "Refused" not in out and "error id" not in out
    repeated = out.split("> !commonfactors take The same words twice.\n")[2]
    assert repeated.startswith("── commonfactors-bot [BOT] · #journal-club")
    assert "There is no FAQ with that number" in section(out, "!commonfactors faq 99")
    assert section(out, "!commonfactors pin").startswith("── commonfactors-bot [BOT]")
    assert section(out, "!commonfactors take").startswith("── commonfactors-bot [BOT]")


async def test_an_unexpected_error_shows_its_id_and_its_log_line_in_the_session(
        settings: Settings, bots: list[CommonFactorsBot], monkeypatch: pytest.MonkeyPatch) -> None:
    bot = create_bot(settings)
    bots.append(bot)
    env = simcord.Env(bot, check_errors=False)
    said: list[str] = []
    failures = FailureLog([])
    logging.getLogger().addHandler(failures)
    session = Session(env, say=said.append, ask=lambda prompt: asyncio.sleep(0, None), failures=failures)
    try:
        await env.start()
        with env.time_context():
            async def broken(*args: object, **kwargs: object) -> None:
                raise RuntimeError("the disk caught fire")

            # The bot carries the application's name, not SimCord's "TestBot".
            assert bot.user is not None and bot.user.name == "commonfactors-bot"
            monkeypatch.setattr(bot.store, "list_takes", broken)
            await session.handle("!commonfactors takes")
            await env.shutdown()
    finally:
        logging.getLogger().removeHandler(failures)

    shown = "\n".join(said)
    answer = re.search(r"tell a moderator or\s+the bot's operator the error id `(E-\w+)`", shown)
    assert answer, shown
    error_id = answer.group(1)
    assert f"!! the bot failed (error id {error_id}); the log says:" in said
    log_line = said[said.index(f"!! the bot failed (error id {error_id}); the log says:") + 1]
    assert log_line.startswith("   ERROR bot.errors") and f"unexpected error {error_id} in" in log_line
    assert "   RuntimeError: the disk caught fire" in said


TWO_RUNS = ["""\
!commonfactors take Kept from the first run.
/as admin
/commonfactors-mod settings name:prefix value:?
""", """\
?commonfactors takes
/commonfactors faq query:alliance
/as bob
?commonfactors take Added in the second run.
!commonfactors take The old prefix no longer answers.
"""]


def test_two_runs_on_one_database_file_keep_the_takes_the_prefix_and_slash_commands(
        tmp_path: Path, data_dir: Path) -> None:
    database = tmp_path / "kept.db"
    first = tryout(TWO_RUNS[0], "--database", str(database), data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    assert "Saved your take **#1**" in first.stdout and "→ `?`" in first.stdout

    second = tryout(TWO_RUNS[1], "--database", str(database), data_dir=data_dir)

    assert second.returncode == 0, second.stderr
    out = second.stdout
    # The banner shows the stored prefix, and it is the one that works.
    assert "== try-out: ?commonfactors, ?placebo in #journal-club" in out
    # The same server and people: the first run's take is alice's, listed (an hour ago).
    listing = section(out, "?commonfactors takes")
    assert "**#1** · alice · 1 h ago" in listing and "Kept from the first run." in listing
    # Slash commands are synced to this run's simulated Discord.
    assert "│ **FAQ 3:" in section(out, "/commonfactors faq query:alliance")
    assert "Saved your take **#2**" in section(out, "?commonfactors take Added in the second run.")
    assert section(out, "!commonfactors take The old prefix no longer answers.") == ""
    assert "failed" not in out and "??" not in out
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT author_name, guild_id FROM takes ORDER BY id").fetchall()
    assert [name for name, _ in rows] == ["alice", "bob"] and rows[0][1] == rows[1][1]


def test_a_postgresql_database_is_used_and_its_password_never_shown(
        postgres_server: PostgresServer, data_dir: Path) -> None:
    database = postgres_server.create_database()
    password = "tryout-s3cret-passw0rd"
    postgres_server.psql(f"CREATE ROLE tryout LOGIN PASSWORD '{password}'; "
                         f'GRANT ALL ON DATABASE "{database}" TO tryout; ALTER DATABASE "{database}" OWNER TO tryout')
    url = postgres_server.url(database).replace("postgres@", f"tryout:{password}@")
    try:
        done = tryout("!commonfactors take Kept in PostgreSQL.\n", "--database", url, data_dir=data_dir)
        refused = tryout("", "--database", url.replace(f":{postgres_server.port}/", ":1/"), data_dir=data_dir)
    finally:
        postgres_server.drop_database(database)
        postgres_server.psql("DROP ROLE tryout")

    assert done.returncode == 0, done.stderr
    assert f"Takes go to postgresql://tryout:***@127.0.0.1:{postgres_server.port}/{database}." in done.stdout
    assert "Saved your take **#1**" in done.stdout
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith("commonfactors-bot: cannot connect to the PostgreSQL database")
    assert len(refused.stderr.strip().splitlines()) == 1
    for run in (done, refused):
        assert password not in run.stdout + run.stderr
    assert not list(PROJECT_ROOT.glob("postgresql*"))


def test_a_database_url_of_another_kind_is_refused_in_one_line(data_dir: Path) -> None:
    done = tryout("", "--database", "mysql://me:hunter2hunter2@db/x", data_dir=data_dir)

    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == ("commonfactors-bot: --database takes a SQLite file or a postgresql:// URL, "
                           "not mysql://me:***@db/x\n")


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
