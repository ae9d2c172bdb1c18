"""``python -m bot try``: the real bot (``create_bot``, the cogs, the database code) against
SimCord's simulated Discord, on this machine: no token, no network.

A terminal session lets the person act as a member or a moderator of a simulated server and see
what members would see. When standard input is not a terminal, lines are read from it and
echoed after the prompt, so a session can be scripted (and is, in the tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path

# Imported first: without SimCord, ``python -m bot try`` says in one line how to install it.
import simcord

from bot import logs
from bot.app import CommonFactorsBot, create_bot
from bot.article import Article, load_article, load_articles
from bot.settings import Settings, redact_url, sqlite_url
from bot.storage import is_postgres_url
from bot.tryout.session import FailureLog, Session, rule

log = logging.getLogger("bot.tryout")

__all__ = ["TryOutUnavailable", "run_tryout"]


class LineReader:
    """Lines from standard input, without blocking the event loop or the exit.

    A daemon thread reads; ``asyncio.run`` does not wait for it, so a signal ends the session
    even while nobody types. From a pipe each line is echoed after the prompt, so the transcript
    shows who typed what; at a terminal the prompt comes first, as usual."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, terminal: bool = False) -> None:
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.loop = loop
        self.terminal = terminal
        threading.Thread(target=self._read, name="stdin", daemon=True).start()

    def _read(self) -> None:
        for line in sys.stdin:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, line.rstrip("\n"))
        self.loop.call_soon_threadsafe(self.queue.put_nowait, None)

    async def __call__(self, prompt: str) -> str | None:
        if self.terminal:
            print(prompt, end="", flush=True)
        line = await self.queue.get()
        if line is not None and not self.terminal:
            print(f"{prompt}{line}", flush=True)
        return line


def _terminal_reader(loop: asyncio.AbstractEventLoop) -> Callable[[str], Awaitable[str | None]]:
    """prompt-toolkit's line editor and history when installed, else plain lines."""
    try:
        from prompt_toolkit import PromptSession
    except ImportError:
        return LineReader(loop, terminal=True)
    session: PromptSession[str] = PromptSession()

    async def rich(prompt: str) -> str | None:
        try:
            return await session.prompt_async(prompt)
        except EOFError:
            return None
        except KeyboardInterrupt:
            return ""

    return rich


def load_draft(articles: list[Article], draft: Path) -> tuple[list[Article], Article]:
    """The shipped articles with the draft added (or replacing the one with its command)."""
    article = load_article(draft)
    return [a for a in articles if a.command != article.command] + [article], article


#: Where a kept database remembers the simulated clock, so that a new run starts after the last
#: one (its messages get new ids, and cooldowns and "2 min ago" stay true): as if the person came
#: back an hour later.
CLOCK_KEY = "tryout:clock"
COMING_BACK = 3600.0


async def _restore_clock(bot: CommonFactorsBot, env: simcord.Env) -> None:
    stored = await bot.store.get_meta(CLOCK_KEY)
    if not stored:
        return
    with contextlib.suppress(ValueError):
        ahead = (datetime.fromisoformat(stored) - env.now()).total_seconds()
        await env.advance_time(max(0.0, ahead) + COMING_BACK)


async def _session(settings: Settings, draft: Path | None, browser: bool, kept: str | None) -> int:
    articles = load_articles(settings.data_dir)
    shown: Article | None = None
    if draft is not None:
        articles, shown = load_draft(articles, draft)
        print(f"ok  {shown.command}: {shown.title} ({len(shown.faqs)} FAQs, {len(shown.citations)} references)")
    bot = create_bot(settings, articles=articles)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT) if not sys.stdin.isatty() else (signal.SIGTERM,):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    interactive = sys.stdin.isatty()
    ask: Callable[[str], Awaitable[str | None]] = _terminal_reader(loop) if interactive else LineReader(loop)
    failures = FailureLog(settings.secrets)
    logging.getLogger().addHandler(failures)
    env = simcord.Env(bot, check_errors=False)
    # The server and its people first, so that their ids are the same in every run.
    session = Session(env, say=lambda text: print(text, flush=True), ask=ask, failures=failures)
    try:
        await env.start()
        with env.time_context():
            async with contextlib.AsyncExitStack() as stack:
                stack.push_async_callback(env.shutdown)
                if kept is not None:
                    await _restore_clock(bot, env)
                if not bot.synced_commands:  # a new simulated Discord each run: it has no commands yet
                    await bot.sync_commands_if_changed(force=True)
                prefix = session.prefix
                print(rule(f"try-out: {', '.join(prefix + a.command for a in articles)} in #journal-club of a "
                           "simulated server"))
                where = kept if kept is not None else "a throwaway database"
                print(f"You are alice, a member. /as mod to moderate, /help for more. Takes go to {where}.")
                if browser:
                    url = await stack.enter_async_context(open_preview(env, session, interactive=interactive))
                    print(f"Browser preview (this machine only; the address is the key): {url}", flush=True)
                if shown is not None:  # the draft's card, as a member asking for it sees it
                    print(f"{session.prompt}{prefix}{shown.command}", flush=True)
                    await session.handle(f"{prefix}{shown.command}")
                await _converse(session, ask, stop)
                if stop.is_set():
                    print("-- stopping (signal)", flush=True)
                await bot.events.drain(10.0)
                if kept is not None:
                    await bot.store.set_meta(CLOCK_KEY, env.now().isoformat())
    finally:
        logging.getLogger().removeHandler(failures)
        if bot._store is not None:
            await bot._store.close()
            bot._store = None
    return 0


async def _converse(session: Session, ask: Callable[[str], Awaitable[str | None]], stop: asyncio.Event) -> None:
    """Read and act on lines until /quit, the end of the input or a signal."""
    while not stop.is_set():
        reading = asyncio.ensure_future(ask(session.prompt))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not reading.done():
            reading.cancel()
            return
        line = reading.result()
        if line is None or not await session.handle(line):
            return


@contextlib.asynccontextmanager
async def open_preview(env: simcord.Env, session: Session, *, interactive: bool) -> AsyncIterator[str]:
    """SimCord's browser preview of #journal-club, for any of the session's people."""
    try:
        preview = env.preview(session.channel, viewers=list(session.people.values()), layout="channel")
        async with preview:
            if interactive:
                import webbrowser

                with contextlib.suppress(Exception):
                    webbrowser.open(preview.url)
            yield preview.url
    except simcord.SetupError as exc:
        if "requires" in str(exc) or "reinstall" in str(exc):
            raise TryOutUnavailable('--browser needs SimCord\'s preview: pip install -e ".[try,browser]"') from None
        raise


class TryOutUnavailable(Exception):
    """A part of the try-out that cannot run here; said in one line."""


def tryout_database(database: str | None, folder: Path) -> tuple[str, str | None]:
    """The try-out's database URL and how to name it in the banner (None: a throwaway one).
    ``--database`` is a SQLite file, or a ``sqlite://`` or ``postgresql://`` URL; a password
    is never shown."""
    if not database:
        return sqlite_url(folder / "tryout-takes.db"), None
    if "://" not in database:
        path = Path(database).expanduser().resolve()
        return sqlite_url(path), str(path)
    if is_postgres_url(database):
        return database, redact_url(database)
    if database.partition("://")[0].lower() == "sqlite":
        return database, database
    raise TryOutUnavailable(f"--database takes a SQLite file or a postgresql:// URL, not {redact_url(database)}")


def run_tryout(settings: Settings, *, database: str | None, article: Path | None, browser: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="commonfactors-tryout-") as folder:
        url, kept = tryout_database(database, Path(folder))
        tried = settings.with_changes(token=None, database_url=url, dev_guild_id=None)
        # Only what needs attention (an unexpected error and its id): the session is the output.
        logs.configure(level="WARNING", fmt=settings.log_format, secrets=tried.secrets)
        return asyncio.run(_session(tried, article, browser, kept=kept))
