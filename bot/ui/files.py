"""Packed export files as Discord attachments."""

from __future__ import annotations

import io
from collections.abc import Sequence

import discord

from bot.export import ExportFile


def discord_files(batch: Sequence[ExportFile]) -> list[discord.File]:
    """One message's worth of packed files, ready to send."""
    return [discord.File(io.BytesIO(data), filename=name) for name, data in batch]
