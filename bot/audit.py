"""The moderators' audit trail: who did what, and when.

An entry is written *after* the action it records, so a failed write is logged with an id and
never undoes the action or hides its answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import report_unexpected
from bot.storage import StorageError

if TYPE_CHECKING:
    from bot.app import CommonFactorsBot


async def record_action(bot: CommonFactorsBot, guild_id: int, actor_id: int, action: str, detail: str) -> None:
    try:
        await bot.store.add_audit(guild_id, actor_id, action, detail, bot.now())
    except StorageError as exc:
        report_unexpected(exc, where=f"audit {action}", context={"guild": guild_id, "actor": actor_id})


async def record_automatic(bot: CommonFactorsBot, guild_id: int, detail: str) -> None:
    """A change the bot made itself (a deleted channel or role left the settings)."""
    await record_action(bot, guild_id, bot.user.id if bot.user else 0, "settings", detail)
