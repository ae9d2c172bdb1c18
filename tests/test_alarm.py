"""The alarm that runs the meetings' due work: it runs when its job says, sooner when woken, and
between runs nothing but a timer is alive (unit tests of :class:`bot.alarm.Alarm`; the meetings
tests drive it through Discord with SimCord's clock)."""

from __future__ import annotations

import asyncio

import pytest

from bot.alarm import Alarm

HOUR = 3600.0


async def turns(n: int = 5) -> None:
    """Let the loop run what is ready (zero-delay timers and the tasks they start); no waiting."""
    for _ in range(n):
        await asyncio.sleep(0)


class Job:
    def __init__(self, delay: float = HOUR) -> None:
        self.runs = 0
        self.delay = delay
        self.gate: asyncio.Event | None = None
        self.fail = False

    async def __call__(self) -> float:
        self.runs += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("the database said no")
        return self.delay


def alive_besides_me() -> set[asyncio.Task[object]]:
    return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]


async def test_it_runs_at_start_then_when_the_job_says_with_no_task_alive_between() -> None:
    job = Job(HOUR)
    alarm = Alarm(job, name="test", retry=30)
    alarm.start()
    await turns()
    assert job.runs == 1 and alarm.is_running()
    assert alarm.next_run_in is not None and HOUR - 1 < alarm.next_run_in <= HOUR
    assert not alive_besides_me()  # only a timer waits
    alarm.cancel()


async def test_a_wake_runs_it_soon_and_a_wake_during_a_run_is_kept_for_after_it() -> None:
    job = Job(HOUR)
    alarm = Alarm(job, name="test", retry=30)
    alarm.start()
    await turns()
    alarm.wake(0)
    await turns()
    assert job.runs == 2
    alarm.wake(HOUR * 2)  # later than it is already set for: changes nothing
    assert alarm.next_run_in is not None and alarm.next_run_in <= HOUR

    job.gate = asyncio.Event()
    alarm.wake(0)
    await turns()
    assert job.runs == 3 and alarm.next_run_in is None  # running, waiting on its gate
    alarm.wake(0)  # e.g. a meeting scheduled while the round reads what is due
    job.gate.set()
    await turns()
    assert job.runs == 4  # run again at once, not an hour later
    assert alarm.next_run_in is not None and alarm.next_run_in > HOUR - 1
    alarm.cancel()


async def test_a_failing_run_is_logged_and_tried_again_after_the_retry_delay(caplog: pytest.LogCaptureFixture) -> None:
    job = Job(HOUR)
    job.fail = True
    alarm = Alarm(job, name="meetings due work", retry=30)
    alarm.start()
    await turns()
    assert job.runs == 1 and alarm.is_running()
    assert alarm.next_run_in is not None and 29 < alarm.next_run_in <= 30
    assert any("meetings due work: the run failed" in r.getMessage() and r.exc_info for r in caplog.records)
    alarm.cancel()


async def test_cancelled_it_never_runs_again_and_a_run_in_progress_stops() -> None:
    job = Job(0)
    job.gate = asyncio.Event()
    alarm = Alarm(job, name="test", retry=30)
    alarm.start()
    await turns()
    assert job.runs == 1 and alive_besides_me()
    alarm.cancel()
    await turns()
    assert not alarm.is_running() and not alive_besides_me() and alarm.next_run_in is None
    job.gate.set()
    alarm.wake(0)
    await turns()
    assert job.runs == 1
    job.delay = HOUR
    alarm.start(0)  # started again (the cog reloaded): one alarm, running
    alarm.start(0)
    await turns()
    assert job.runs == 2
    alarm.cancel()
