"""One ``sqlite3`` connection driven from one thread of its own, awaited from asyncio.

This replaces aiosqlite for the store. aiosqlite sends every statement to its thread as a
separate hop, and at a thousand takes a second the hops, not the disk, were the cost (six per
take). Here a caller hands the thread a whole function (``run``): a batch of takes with their
checks, or an edit and its re-read, is one hop and one transaction. ``execute`` and
``execute_fetchall`` remain for one-off statements (the migration runner, tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from queue import SimpleQueue
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, TypeVarTuple

T = TypeVar("T")
P = ParamSpec("P")
Ts = TypeVarTuple("Ts")


class AsyncConnection(Protocol):
    """What the migration runner needs of a connection."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]: ...


@dataclass(frozen=True, slots=True)
class Executed:
    rowcount: int
    lastrowid: int | None


class SqliteThread:
    """A connection and the single thread that uses it.

    The thread is our own (like aiosqlite's), not an executor's: a queue of calls in, results
    handed back to the event loop with ``call_soon_threadsafe``. It is a daemon, so a store
    someone forgot to close never keeps the interpreter from exiting (an interrupted
    transaction is rolled back by SQLite at the next open). A closed connection raises
    :class:`ValueError` (the store reports it as a StorageError), like aiosqlite did.
    """

    def __init__(self, raw: sqlite3.Connection, calls: SimpleQueue[_Call | None], thread: threading.Thread) -> None:
        self.raw = raw
        self._calls = calls
        self._thread = thread
        self._closed = False

    @classmethod
    async def connect(cls, target: Path | str, *, name: str, uri: bool = False) -> SqliteThread:
        """Open ``target`` in autocommit mode (the store owns every transaction)."""
        calls: SimpleQueue[_Call | None] = SimpleQueue()
        thread = threading.Thread(target=_serve, args=(calls,), name=name, daemon=True)
        thread.start()

        def connect() -> sqlite3.Connection:
            raw = sqlite3.connect(target, isolation_level=None, check_same_thread=False, uri=uri)
            raw.row_factory = sqlite3.Row
            return raw

        try:
            raw = await _submit(calls, connect)
        except BaseException:
            calls.put(None)
            raise
        return cls(raw, calls, thread)

    @property
    def closed(self) -> bool:
        return self._closed

    async def run(self, fn: Callable[Concatenate[sqlite3.Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Call ``fn(connection, *args)`` on the connection's thread and return what it returns."""
        if self._closed:
            raise ValueError("the database connection is closed")
        return await _submit(self._calls, lambda: fn(self.raw, *args, **kwargs))

    def submit(self, fn: Callable[[sqlite3.Connection, *Ts], T], *args: *Ts) -> asyncio.Future[T]:
        """Like :meth:`run`, as a future: the call happens whether or not anyone awaits it."""
        if self._closed:
            raise ValueError("the database connection is closed")
        return _submit(self._calls, lambda: fn(self.raw, *args))

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Executed:
        def execute(raw: sqlite3.Connection) -> Executed:
            cursor = raw.execute(sql, params)
            try:
                return Executed(cursor.rowcount, cursor.lastrowid)
            finally:
                cursor.close()

        return await self.run(execute)

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return await self.run(lambda raw: raw.execute(sql, params).fetchall())

    async def close(self) -> None:
        """Close the connection on its thread, then let the thread end; closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        try:
            await _submit(self._calls, self.raw.close)
        finally:
            self._calls.put(None)


@dataclass(frozen=True, slots=True)
class _Call:
    fn: Callable[[], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


def _submit(calls: SimpleQueue[_Call | None], fn: Callable[[], T]) -> asyncio.Future[T]:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    calls.put(_Call(fn, future, loop))
    return future


def _serve(calls: SimpleQueue[_Call | None]) -> None:
    """The connection's thread: run each call, hand its outcome to the loop that asked."""
    while (call := calls.get()) is not None:
        try:
            result = call.fn()
        except BaseException as exc:
            _deliver(call, _settle_exception, exc)
        else:
            _deliver(call, _settle_result, result)


def _deliver(call: _Call, settle: Callable[[asyncio.Future[Any], Any], None], value: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: no one is waiting any more
        call.loop.call_soon_threadsafe(settle, call.future, value)


def _settle_result(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():  # the caller may have been cancelled
        future.set_result(value)


def _settle_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
