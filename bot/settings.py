"""Run-time settings: keywords in code, the environment (and ``.env``) for a deployed bot.

Everything but the token has a default, so ``Settings()`` is a complete configuration for tests
and for ``python -m bot check``; only connecting to Discord needs ``token``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy-style URL for a SQLite file (absolute paths get four slashes)."""
    return f"sqlite:///{path}"


@dataclass(frozen=True, kw_only=True)
class Settings:
    token: str | None = field(default=None, repr=False)
    prefix: str = "!"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    message_content_intent: bool = True
    owner_ids: frozenset[int] = frozenset()
    #: For ``python -m bot invite`` without a token; otherwise read from the token.
    application_id: int | None = None
    #: A guild to sync slash commands to instantly while developing (global sync otherwise).
    dev_guild_id: int | None = None
    take_max_length: int = 1500
    take_cooldown_seconds: int = 30
    duplicate_window_seconds: int = 600
    takes_retention_days: int | None = None
    log_level: str = "INFO"
    #: ``text`` (readable lines) or ``json`` (one JSON object per line, for a log collector).
    log_format: str = "text"
    #: Discord's REST API and gateway; change them only for a Discord-compatible server or proxy.
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg/"

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if not self.database_url:
            object.__setattr__(self, "database_url", sqlite_url(self.data_dir / "commonfactors.db"))
        if not self.prefix or any(c.isspace() for c in self.prefix) or len(self.prefix) > 5:
            raise SettingsError("COMMAND_PREFIX must be 1 to 5 characters without spaces")
        if not 1 <= self.take_max_length <= 4000:
            raise SettingsError("TAKE_MAX_LENGTH must be between 1 and 4000")
        if self.take_cooldown_seconds < 0:
            raise SettingsError("TAKE_COOLDOWN_SECONDS must not be negative")
        if self.duplicate_window_seconds < 0:
            raise SettingsError("DUPLICATE_WINDOW_SECONDS must not be negative")
        object.__setattr__(self, "log_format", self.log_format.lower())
        if self.log_format not in {"text", "json"}:
            raise SettingsError(f"LOG_FORMAT must be text or json, not {self.log_format!r}")
        if not self.discord_api_url.startswith(("https://", "http://")):
            raise SettingsError("DISCORD_API_URL must start with https:// (or http:// for a local server)")
        if not self.discord_gateway_url.startswith(("wss://", "ws://")):
            raise SettingsError("DISCORD_GATEWAY_URL must start with wss:// (or ws:// for a local server)")
        if self.takes_retention_days is not None and self.takes_retention_days < 1:
            raise SettingsError("TAKES_RETENTION_DAYS must be at least 1 (or unset to keep takes)")

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
        """Read settings from the environment, after loading ``.env`` when asked.

        Variables already in the environment win over ``.env``, as python-dotenv does.
        """
        if dotenv:
            from dotenv import load_dotenv

            load_dotenv(PROJECT_ROOT / ".env")
            load_dotenv()  # a .env in the working directory, if that is elsewhere
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}

        def text(name: str) -> str | None:
            raw = env.get(name)
            return raw.strip() if raw is not None and raw.strip() else None

        def integer(name: str) -> int | None:
            raw = text(name)
            if raw is None:
                return None
            try:
                return int(raw)
            except ValueError:
                raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None

        def boolean(name: str) -> bool | None:
            raw = text(name)
            if raw is None:
                return None
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise SettingsError(f"{name} must be true or false, not {raw!r}")

        for name, key in (("DISCORD_TOKEN", "token"), ("COMMAND_PREFIX", "prefix"),
                          ("DATABASE_URL", "database_url"), ("LOG_LEVEL", "log_level"),
                          ("LOG_FORMAT", "log_format"), ("DISCORD_API_URL", "discord_api_url"),
                          ("DISCORD_GATEWAY_URL", "discord_gateway_url")):
            if (value := text(name)) is not None:
                values[key] = value
        if (data_dir := text("DATA_DIR")) is not None:
            values["data_dir"] = Path(data_dir)
        if (intent := boolean("MESSAGE_CONTENT_INTENT")) is not None:
            values["message_content_intent"] = intent
        for name, key in (("DEV_GUILD_ID", "dev_guild_id"), ("APPLICATION_ID", "application_id"),
                          ("TAKE_MAX_LENGTH", "take_max_length"),
                          ("TAKE_COOLDOWN_SECONDS", "take_cooldown_seconds"),
                          ("DUPLICATE_WINDOW_SECONDS", "duplicate_window_seconds"),
                          ("TAKES_RETENTION_DAYS", "takes_retention_days")):
            if (number := integer(name)) is not None:
                values[key] = number
        if (owners := text("OWNER_IDS")) is not None:
            try:
                values["owner_ids"] = frozenset(int(part) for part in owners.replace(",", " ").split())
            except ValueError:
                raise SettingsError("OWNER_IDS must be Discord user ids separated by commas") from None
        return cls(**values)  # type: ignore[arg-type]

    def describe(self) -> list[str]:
        """Lines for ``python -m bot check``; the token is never shown, only whether it is set."""
        lines = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "token":
                value = "set" if value else "not set"
            lines.append(f"{f.name} = {value}")
        return lines
