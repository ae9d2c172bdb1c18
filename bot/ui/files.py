"""Packed export files as Discord attachments."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import discord


def discord_files(batch: Sequence[tuple[str, bytes | Path]]) -> list[discord.File]:
    """One message's worth of packed files, ready to send: bytes, or a packed file on disk
    (read as it is uploaded, so a large export is never all in memory)."""
    return [discord.File(io.BytesIO(data) if isinstance(data, bytes) else data, filename=name) for name, data in batch]
