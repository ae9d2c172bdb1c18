"""Run ``python -m bot …`` as a real child process and read what it logs, line by line."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Generous: a bounded wait for something the process will do, never a pause.
WAIT_SECONDS = 30.0


def bot_environment(**variables: str) -> dict[str, str]:
    """The environment minus anything Discord-related the developer may have set, plus ``variables``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DISCORD_", "DEV_GUILD", "DATABASE_URL", "DATA_DIR", "LOG_", "OWNER_IDS",
                                "APPLICATION_ID"))}
    env.update(PYTHONUNBUFFERED="1", **variables)
    return env


class BotProcess:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        assert process.stderr is not None
        self._reader = asyncio.create_task(self._read(process.stderr))

    @classmethod
    async def start(cls, *args: str, env: Mapping[str, str], stdin: bool = False) -> BotProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=PROJECT_ROOT, env=dict(env),
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        return cls(process)

    async def _read(self, stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            async with self._changed:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[list[str]], bool]) -> list[str]:
        """Wait until the log lines so far satisfy ``predicate`` (or fail, showing them)."""
        async def waiting() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self.lines) or self._reader.done())

        try:
            await asyncio.wait_for(waiting(), WAIT_SECONDS)
        except TimeoutError:
            raise AssertionError("the bot never logged what was expected:\n" + "\n".join(self.lines)) from None
        assert predicate(self.lines), "the bot exited first:\n" + "\n".join(self.lines)
        return self.lines

    async def wait_for_line(self, text: str) -> str:
        await self.wait_for(lambda lines: any(text in line for line in lines))
        return next(line for line in self.lines if text in line)

    async def finish(self) -> int:
        """Wait for the exit (bounded); returns the exit code."""
        try:
            code = await asyncio.wait_for(self.process.wait(), WAIT_SECONDS)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError("the bot did not exit:\n" + "\n".join(self.lines)) from None
        await self._reader
        return code

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
