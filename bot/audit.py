"""The moderators' audit trail: who did what, and when.

An entry is written *after* the action it records, so a failed write is logged with an id and
never undoes the action or hides its answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.clock import Clock
from bot.errors import report_unexpected
from bot.storage import AuditEntry, DatabaseUnreachable, StorageError, Store

log = logging.getLogger("bot.audit")


class AuditLog:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def record(self, guild_id: int, actor_id: int, action: str, detail: str) -> None:
        try:
            await self._store.add_audit(guild_id, actor_id, action, detail, self._clock())
        except DatabaseUnreachable:  # an outage the store has already reported once: no traceback
            log.warning("audit entry %r for server %s not written: the database is unreachable", action, guild_id)
        except StorageError as exc:
            report_unexpected(exc, where=f"audit {action}", context={"guild": guild_id, "actor": actor_id})

    async def recent(self, guild_id: int, *, limit: int) -> Sequence[AuditEntry]:
        return await self._store.list_audit(guild_id, limit=limit)
