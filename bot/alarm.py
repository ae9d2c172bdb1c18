"""An alarm: a job that runs at the moment it names itself, with nothing alive in between.

The job is a coroutine function returning how many seconds until it should run again. Between
runs there is only a timer on the event loop (``loop.call_later``), not a sleeping task: the bot
has no task alive that does nothing, and a moment moved earlier (a meeting scheduled for
tonight) is one timer replaced. ``wake`` asks for a run soon; a wake that comes while the job
is running is kept and honoured when it ends, so what the run could not see is not left for
the next regular round.

A job that raises is logged with its name and run again after ``retry`` seconds: one bad round
never stops the alarm.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable

log = logging.getLogger("bot.alarm")


class Alarm:
    def __init__(self, job: Callable[[], Awaitable[float]], *, name: str, retry: float) -> None:
        self._job = job
        self.name = name
        self._retry = retry
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._again: float | None = None  # a wake that came while the job ran
        self._running = False

    def start(self, delay: float = 0.0) -> None:
        """Run the job after ``delay`` seconds, then whenever it says. Starting twice is one alarm."""
        if self._running:
            return
        self._running = True
        self._arm(delay)

    def is_running(self) -> bool:
        return self._running

    def cancel(self) -> None:
        """Stop: the timer is dropped and a run in progress is cancelled."""
        self._running = False
        self._again = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    def wake(self, delay: float = 0.0) -> None:
        """Run within ``delay`` seconds (sooner if already due sooner); after the current run if
        one is in progress."""
        if not self._running:
            return
        if self._task is not None and not self._task.done():
            self._again = delay if self._again is None else min(self._again, delay)
            return
        loop = asyncio.get_running_loop()
        if self._handle is None or self._handle.when() > loop.time() + delay:
            self._arm(delay)

    @property
    def next_run_in(self) -> float | None:
        """Seconds until the timer fires; ``None`` while the job runs or when stopped."""
        if self._handle is None:
            return None
        return max(0.0, self._handle.when() - asyncio.get_running_loop().time())

    def _arm(self, delay: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        delay = delay if math.isfinite(delay) else self._retry
        self._handle = asyncio.get_running_loop().call_later(max(0.0, delay), self._fire)

    def _fire(self) -> None:
        self._handle = None
        if self._running:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"alarm {self.name}")

    async def _run(self) -> None:
        try:
            delay = await self._job()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: the run failed; trying again in %.0f s", self.name, self._retry)
            delay = self._retry
        self._task = None
        if not self._running:
            return
        if self._again is not None:
            delay, self._again = min(delay, self._again), None
        self._arm(delay)
