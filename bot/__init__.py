"""commonfactors-bot: a Discord bot that turns a published article into a structured discussion.

``create_bot(Settings(...))`` builds a configured bot without connecting; ``python -m bot``
runs one.
"""

from bot.app import CommonFactorsBot, create_bot
from bot.settings import Settings

__all__ = ["CommonFactorsBot", "Settings", "create_bot"]
__version__ = "0.1.0"
