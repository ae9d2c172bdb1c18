"""Group commit, the part both backends share: the queue of takes waiting for a transaction.

Takes that arrive while a transaction is committing wait here; the next transaction takes all
of them (up to a maximum). Each caller's future is settled only after the COMMIT that holds its
take: with the take, with its own refusal or failure, or, if the COMMIT itself failed, with a
:class:`StorageError` ("not saved") for every take in it. The backend supplies the function that
inserts a group in one transaction and records each take's ``outcome``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .base import DatabaseFileGone, DatabaseUnreachable, NewTake, StorageError, Take, TakeChecks


@dataclass(slots=True)
class Pending:
    """A take waiting for the next group commit, and the future its caller awaits."""

    take: NewTake
    checks: TakeChecks | None
    future: asyncio.Future[Take]
    #: What the backend prepared for its INSERT (SQLite: the row's parameters), if anything.
    params: tuple[Any, ...] = ()
    #: Filled by the commit: the saved take, a refusal, or this take's own failure.
    outcome: Take | BaseException | None = None


def storage_error(exc: BaseException) -> StorageError:
    error = StorageError(f"the database refused the write: {exc}; nothing was saved")
    error.__cause__ = exc
    return error


def fail(future: asyncio.Future[Take], exc: BaseException) -> None:
    """Fail one caller's take with a StorageError of its own (the member hears "not saved")."""
    if future.done():
        return
    if isinstance(exc, StorageError):
        kind = type(exc) if isinstance(exc, (DatabaseFileGone, DatabaseUnreachable)) else StorageError
        error: BaseException = kind(str(exc))
        error.__cause__ = exc.__cause__ or exc
    elif isinstance(exc, Exception):
        error = storage_error(exc)
    else:
        error = StorageError("the bot stopped before the take was committed; nothing was saved")
    future.set_exception(error)


class GroupCommitQueue:
    """Takes waiting to be committed together, and the one task that commits them.

    A take that finds nothing committing and nothing waiting, and no other take sent in the same
    turn of the event loop, is committed by its own caller, without a task: a task per take
    measured as a tenth of a lone take's time on PostgreSQL. Only that caller's take is in that
    commit, so its cancellation concerns no one else; takes that arrive meanwhile wait, and the
    task commits them when it is done. A group of more than one is always the task's, which a
    caller's cancellation cannot interrupt.
    """

    def __init__(self, commit: Callable[[list[Pending]], Awaitable[None]], *, max_group: int) -> None:
        self._commit = commit
        self._max_group = max_group
        self._pending: list[Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        #: Resolved when the lone take its caller is committing (if any) is done.
        self._alone: asyncio.Future[None] | None = None

    async def submit(self, take: NewTake, checks: TakeChecks | None, params: tuple[Any, ...] = ()) -> Take:
        """Queue the take and return it once the transaction holding it has committed."""
        loop = asyncio.get_running_loop()
        pending = Pending(take, checks, loop.create_future(), params)
        self._pending.append(pending)
        if self._alone is not None or len(self._pending) > 1 or (
                self._flusher is not None and not self._flusher.done()):
            if self._alone is None:  # (a lone take's caller hands what waits to the task when it is done)
                self._start_flusher()
            return await pending.future  # the task commits this take, after what is under way
        # Nothing committing, no one waiting: this caller may commit its take itself.
        self._alone = loop.create_future()
        queued = True
        try:
            await asyncio.sleep(0)  # takes sent at the same moment join it: they are one group, the task's
            if len(self._pending) > 1:
                queued = False  # the task's now, whatever becomes of this caller
                self._hand_over()
                return await pending.future
            self._pending.remove(pending)
            queued = False
            try:
                await self._commit([pending])
            except Exception as exc:
                fail(pending.future, exc)
        except BaseException:
            if queued:  # cancelled before anything was sent: never saved, and no one else waits on it
                self._pending.remove(pending)
            raise
        finally:
            self._hand_over()
        _settle(pending)
        return pending.future.result()

    def _hand_over(self) -> None:
        """The lone take's caller is done (or found company): the task commits what waits."""
        if self._alone is not None:
            self._alone.set_result(None)
            self._alone = None
        if self._pending:
            self._start_flusher()

    def _start_flusher(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="db-group-commit")

    async def drain(self) -> None:
        """Wait until every take already queued is committed (or failed): before closing."""
        while (self._alone is not None) or (self._flusher is not None and not self._flusher.done()):
            if self._alone is not None:
                await asyncio.shield(self._alone)
            else:
                assert self._flusher is not None
                await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        """Commit queued takes, a group at a time, until the queue is empty."""
        while self._pending:
            group, self._pending = self._pending[:self._max_group], self._pending[self._max_group:]
            try:
                await self._commit(group)
            except BaseException as exc:  # the COMMIT (or whatever came before it) failed
                for pending in group:
                    fail(pending.future, exc)
                if not isinstance(exc, Exception):  # cancelled: nothing left can be committed
                    for pending in self._pending:
                        fail(pending.future, exc)
                    self._pending = []
                    raise
                continue
            for pending in group:
                _settle(pending)


def _settle(pending: Pending) -> None:
    """Hand a committed take's outcome to its caller (unless it gave up waiting: the take is
    saved all the same)."""
    if pending.future.done():
        return
    if isinstance(pending.outcome, Take):
        pending.future.set_result(pending.outcome)
    else:
        assert pending.outcome is not None
        pending.future.set_exception(pending.outcome)
