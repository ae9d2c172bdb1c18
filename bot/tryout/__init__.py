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
from pathlib import Path

# Imported first: without SimCord, ``python -m bot try`` says in one line how to install it.
import simcord

from bot import logs
from bot.app import create_bot
from bot.article import Article, load_article, load_articles
from bot.settings import Settings, sqlite_url
from bot.tryout.session import Session, rule

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


async def _session(settings: Settings, draft: Path | None, browser: bool, kept: bool) -> int:
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
    try:
        async with simcord.run(bot, check_errors=False) as env, contextlib.AsyncExitStack() as stack:
            session = Session(env, say=lambda text: print(text, flush=True), ask=ask)
            print(rule(f"try-out: {', '.join('!' + a.command for a in articles)} in #journal-club of a "
                       "simulated server"))
            where = settings.database_url.removeprefix("sqlite:///") if kept else "a throwaway database"
            print(f"You are alice, a member. /as mod to moderate, /help for more. Takes go to {where}.")
            if browser:
                url = await stack.enter_async_context(open_preview(env, session, interactive=interactive))
                print(f"Browser preview (this machine only; the address is the key): {url}", flush=True)
            if shown is not None:  # the draft's card, as a member asking for it sees it
                print(f"{session.prompt}!{shown.command}", flush=True)
                await session.handle(f"!{shown.command}")
            while not stop.is_set():
                reading = asyncio.ensure_future(ask(session.prompt))
                stopping = asyncio.ensure_future(stop.wait())
                await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if not reading.done():
                    reading.cancel()
                    break
                line = reading.result()
                if line is None or not await session.handle(line):
                    break
            if stop.is_set():
                print("-- stopping (signal)", flush=True)
            await bot.events.drain(10.0)
    finally:
        if bot._store is not None:
            await bot._store.close()
            bot._store = None
    return 0


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


def run_tryout(settings: Settings, *, database: str | None, article: Path | None, browser: bool) -> int:
    # Only what needs attention (an unexpected error and its id): the session is the output.
    logs.configure(level="WARNING", fmt=settings.log_format)
    with tempfile.TemporaryDirectory(prefix="commonfactors-tryout-") as folder:
        url = sqlite_url(Path(database).resolve()) if database else sqlite_url(Path(folder) / "tryout-takes.db")
        tried = settings.with_changes(token=None, database_url=url, dev_guild_id=None)
        return asyncio.run(_session(tried, article, browser, kept=database is not None))
