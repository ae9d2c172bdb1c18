"""commonfactors-bot: a Discord bot that turns a published article into a structured discussion.

``create_bot(Settings(...))`` builds a configured bot without connecting; ``python -m bot``
runs one. The names are loaded on first use, so importing a core module (``bot.citations``,
``bot.takes``) does not load the bot class or discord.py's command framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.app import CommonFactorsBot, create_bot
    from bot.settings import Settings

__all__ = ["CommonFactorsBot", "Settings", "create_bot"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in {"CommonFactorsBot", "create_bot"}:
        from bot import app

        return getattr(app, name)
    if name == "Settings":
        from bot.settings import Settings

        return Settings
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
