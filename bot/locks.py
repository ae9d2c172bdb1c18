"""Keyed locks for read-check-write sequences that must not interleave in this process.

A member's takes (cooldown), a guild's settings and a channel's pinned summary each get a lock
of their own, created on first use and dropped when nobody holds or awaits it. A guild lives on
one shard, so one process holds all of a guild's locks.
"""

from __future__ import annotations

import asyncio
import weakref


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[tuple[object, ...], asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, *key: object) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock
