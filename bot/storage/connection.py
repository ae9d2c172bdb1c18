"""One ``sqlite3`` connection driven from one thread of its own, awaited from asyncio.

This replaces aiosqlite for the store. aiosqlite sends every statement to its thread as a
separate hop, and at a thousand takes a second the hops, not the disk, were the cost (six per
take). Here a caller hands the thread a whole function (``run``): a batch of takes with their
checks, or an edit and its re-read, is one hop and one transaction. ``execute`` and
``execute_fetchall`` remain for one-off statements (the migration runner, tests).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


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

    A closed connection raises :class:`ValueError` (the store reports it as a StorageError),
    like aiosqlite did.
    """

    def __init__(self, raw: sqlite3.Connection, executor: ThreadPoolExecutor) -> None:
        self.raw = raw
        self._executor = executor
        self._closed = False

    @classmethod
    async def connect(cls, target: Path | str, *, name: str, uri: bool = False) -> SqliteThread:
        """Open ``target`` in autocommit mode (the store owns every transaction)."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

        def connect() -> sqlite3.Connection:
            raw = sqlite3.connect(target, isolation_level=None, check_same_thread=False, uri=uri)
            raw.row_factory = sqlite3.Row
            return raw

        try:
            raw = await asyncio.get_running_loop().run_in_executor(executor, connect)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(raw, executor)

    @property
    def closed(self) -> bool:
        return self._closed

    async def run(self, fn: Callable[Concatenate[sqlite3.Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Call ``fn(connection, *args)`` on the connection's thread and return what it returns."""
        if self._closed:
            raise ValueError("the database connection is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self.raw, *args, **kwargs))

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
        """Close the connection on its thread, then let the thread go; closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self.raw.close)
        finally:
            self._executor.shutdown(wait=False)
