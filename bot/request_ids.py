"""The id of the request (message or interaction) being handled, in a context variable.

Set where a request enters (``bot.lifecycle.EventGate``); asyncio copies it into every task the
request starts. Log lines carry it (``bot.logs``), and an unexpected error is reported under it
(``bot.errors.report_unexpected``), so the id a member quotes finds every line of their request.
"""

from __future__ import annotations

import contextvars

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return request_id.get()
