"""Logging for the operator: readable lines by default, JSON lines with ``LOG_FORMAT=json``.

Every line written while the bot handles one message or interaction carries that request's id
(``bot.logs.request_id``), the same id a member is shown if the request fails unexpectedly, so
``grep E-7KQ2MX`` finds everything that happened. The bot's token never reaches a log line: a
filter masks it wherever it appears, message or traceback.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.request_ids import current_request_id, request_id

__all__ = ["JsonFormatter", "RequestIdFilter", "SecretFilter", "TextFormatter", "configure",
           "current_request_id", "describe_network_error", "request_id", "silence_voice_warnings"]

LOG_FORMATS = ("text", "json")
_MASK = "[token hidden]"

#: discord.py's own reconnect loop logs a full traceback per attempt; one line says the same.
#: (A sharded bot's says "Attempting a reconnect for shard ID %s in %.2fs".)
_RECONNECT_PREFIX = "Attempting a reconnect"


class RequestIdFilter(logging.Filter):
    """Stamps ``record.request_id`` from the context (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get() or "-"
        return True


class SecretFilter(logging.Filter):
    """Replaces the token (and anything else secret) wherever it appears in a record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Short strings would mask innocent words; tokens are ~70 characters.
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, _MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            text = "".join(traceback.format_exception(*record.exc_info))
            if any(s in text for s in self.secrets):
                record.exc_text = self._clean(text).rstrip("\n")
                record.exc_info = None
        return True


class ReconnectFilter(logging.Filter):
    """discord.py's "Attempting a reconnect in …" with a traceback becomes one line with the cause;
    its "logging in using static token" (once per start-up attempt) is dropped: the runner says
    what matters about each attempt."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "discord.client" and record.msg == "logging in using static token":
            return False
        if isinstance(record.msg, str) and record.msg.startswith(_RECONNECT_PREFIX) and record.exc_info:
            error = record.exc_info[1]
            cause = describe_network_error(error) if error is not None else "unknown cause"
            args = record.args if isinstance(record.args, tuple) else ()
            delay = args[-1] if args else 0.0
            shard = f" (shard {args[0]})" if len(args) == 2 else ""
            record.msg, record.args = "lost the connection to Discord%s (%s); reconnecting in %.0f s", (shard, cause,
                                                                                                        delay)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


def describe_network_error(error: BaseException) -> str:
    """A short cause for a network failure, without the traceback: "connection refused"."""
    import asyncio

    import aiohttp
    import discord

    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return "the name does not resolve (DNS)"
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return "its TLS certificate was refused"
    if isinstance(error, aiohttp.ClientConnectorError):
        cause = error.os_error
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        return cause.strerror or str(cause) or type(cause).__name__
    if isinstance(error, aiohttp.WSServerHandshakeError):
        return f"the gateway refused the connection ({error.status})"
    if isinstance(error, aiohttp.ClientResponseError):
        return f"it answered {error.status}"
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return "timed out"
    if isinstance(error, discord.ConnectionClosed):
        return f"the gateway closed the connection (code {error.code})"
    if isinstance(error, discord.GatewayNotFound):
        return "the gateway could not be found"
    if isinstance(error, discord.DiscordServerError):
        return f"Discord answered {error.status} (a Discord outage)"
    if isinstance(error, discord.HTTPException):
        return f"Discord answered {error.status}"
    if isinstance(error, OSError):
        return error.strerror or str(error) or type(error).__name__
    return str(error) or type(error).__name__


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s",
                         datefmt="%Y-%m-%d %H:%M:%S")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request_id, message (and exception)."""

    def format(self, record: logging.LogRecord) -> str:
        stamped = getattr(record, "request_id", "-")
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": None if stamped == "-" else stamped,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def silence_voice_warnings() -> None:
    """The bot never joins voice: discord.py's PyNaCl/davey warnings are noise for it."""
    from discord.voice_client import VoiceClient

    VoiceClient.warn_nacl = False
    VoiceClient.warn_dave = False


def configure(*, level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = (),
              stream: TextIO | None = None) -> logging.Handler:
    """Set up the root logger for a process (the bot, the try-out, the tools). Idempotent."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {fmt!r}")
    silence_voice_warnings()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    # Filters on the handler see records from every logger, including propagated ones.
    handler.addFilter(RequestIdFilter())
    handler.addFilter(ReconnectFilter())
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_commonfactors", False)]:
        root.removeHandler(old)
    handler._commonfactors = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # At DEBUG these two would log request bodies and SQL parameters: members' words.
    for chatty in ("discord.http", "aiosqlite"):
        logging.getLogger(chatty).setLevel(max(root.level, logging.INFO))
    logging.captureWarnings(True)
    return handler
