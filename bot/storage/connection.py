"""One ``sqlite3`` connection on aiosqlite's thread, with whole functions run there in one hop.

aiosqlite gives each connection one worker thread and sends it every statement as a separate
call. At a thousand takes a second those hops, not the disk, were the cost (six per take). The
store therefore hands the thread whole functions (:meth:`SqliteThread.run`): a group of takes
with their checks, or an edit and its re-read, is one hop and one transaction.

aiosqlite runs all of its own methods through ``Connection._execute(fn, *args)``, which queues a
function for its thread and awaits the result; :meth:`run` uses the same door for our
functions, and :meth:`submit` (a group commit) the queue behind it, ``_tx``. They are the
internal names of aiosqlite we rely on (checked by
``tests/test_storage.py::test_the_store_runs_on_aiosqlites_thread``, and the version range in
``pyproject.toml`` is the one tested). ``execute`` and ``execute_fetchall`` remain for one-off
statements (the migration runner, tests).
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, TypeVarTuple

import aiosqlite

T = TypeVar("T")
P = ParamSpec("P")
Ts = TypeVarTuple("Ts")

#: Rows aiosqlite fetches per hop when iterating a cursor (we iterate inside our functions).
ITER_CHUNK_SIZE = 256


class AsyncConnection(Protocol):
    """What the migration runner needs of a connection."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]: ...


@dataclass(frozen=True, slots=True)
class Executed:
    rowcount: int
    lastrowid: int | None


class SqliteThread:
    """An aiosqlite connection, and the raw ``sqlite3`` connection its thread drives.

    A closed connection raises :class:`ValueError` (the store reports it as a StorageError),
    as aiosqlite does.
    """

    def __init__(self, db: aiosqlite.Connection, raw: sqlite3.Connection) -> None:
        self._db = db
        self.raw = raw
        self._closed = False

    @classmethod
    async def connect(cls, target: Path | str, *, name: str, uri: bool = False) -> SqliteThread:
        """Open ``target`` in autocommit mode (the store owns every transaction)."""
        opened: list[sqlite3.Connection] = []

        def connect() -> sqlite3.Connection:  # runs on aiosqlite's thread
            raw = sqlite3.connect(target, isolation_level=None, check_same_thread=False, uri=uri)
            raw.row_factory = sqlite3.Row
            opened.append(raw)
            return raw

        db = aiosqlite.Connection(connect, ITER_CHUNK_SIZE)
        await db
        return cls(db, opened[0])

    @property
    def closed(self) -> bool:
        return self._closed

    async def run(self, fn: Callable[Concatenate[sqlite3.Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Call ``fn(connection, *args)`` on the connection's thread and return what it returns."""
        if self._closed:
            raise ValueError("the database connection is closed")
        result: T = await self._db._execute(fn, self.raw, *args, **kwargs)
        return result

    def submit(self, fn: Callable[[sqlite3.Connection, *Ts], T], *args: *Ts) -> asyncio.Future[T]:
        """Like :meth:`run`, as a future: the call is queued for the thread now (not one turn of
        the event loop later, as a task awaiting ``_execute`` would) and happens whether or not
        anyone awaits it. It is what ``_execute`` does, without the coroutine around it: the
        (future, function) pair on the connection's queue (``_tx``), which its thread answers
        with ``call_soon_threadsafe``."""
        if self._closed or not self._db._running:
            raise ValueError("the database connection is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._db._tx.put_nowait((future, functools.partial(fn, self.raw, *args)))
        return future

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
        """Close the connection, then let its thread end; closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        await self._db.close()
