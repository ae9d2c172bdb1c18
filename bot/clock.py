"""The bot's clock: one injectable source of "now" (UTC, timezone-aware).

Rules take a :data:`Clock` instead of calling ``datetime.now()`` themselves, so tests and the
offline try-out control time and storage never invents timestamps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
