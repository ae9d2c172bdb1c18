"""Who counts as a moderator: one rule for commands, buttons and deletions alike."""

from __future__ import annotations

from typing import Any

import discord


def is_moderator(member: discord.abc.User, moderator_role_id: int | None = None, *, channel: Any = None) -> bool:
    """Manage Messages in the server, or the server's moderator role; with ``channel``, Manage
    Messages in that channel alone also counts (a channel's own moderators run its pinned summary
    and tidy its takes, but not the whole server's settings, exports or audit)."""
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_messages:
        return True
    if moderator_role_id is not None and any(r.id == moderator_role_id for r in member.roles):
        return True
    return (channel is not None and hasattr(channel, "permissions_for")
            and channel.permissions_for(member).manage_messages)
