"""Run-time settings: keywords in code, the environment (and ``.env``) for a deployed bot.

Everything but the token has a default, so ``Settings()`` is a complete configuration for tests
and for ``python -m bot check``; only connecting to Discord needs ``token``.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def redact_url(url: str) -> str:
    """``postgresql://bot:secret@db/cf`` -> ``postgresql://bot:***@db/cf``: logs never show a password."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    authority, slash, path = rest.partition("/")
    if "@" not in authority:
        return url
    credentials, _, host = authority.rpartition("@")
    user = credentials.partition(":")[0]
    return f"{scheme}://{user}:***@{host}{slash}{path}" if ":" in credentials else url


def url_password(url: str) -> str | None:
    """The password in ``scheme://user:password@host/...``, to mask it wherever it might be logged."""
    authority = url.partition("://")[2].partition("/")[0]
    credentials = authority.rpartition("@")[0]
    password = credentials.partition(":")[2] if ":" in credentials else ""
    return password or None


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """``0,1`` or ``0 1`` or a range ``0-3`` (what a systemd instance name can carry), or a mix."""
    ids: list[int] = []
    try:
        for part in text.replace(",", " ").split():
            first, dash, last = part.partition("-")
            if dash:
                low, high = int(first), int(last)
                if high < low or high - low > 10_000:
                    raise ValueError(part)
                ids.extend(range(low, high + 1))
            else:
                ids.append(int(part))
    except ValueError:
        raise SettingsError("SHARD_IDS must be shard numbers separated by commas, or a range: 0,1 or 0-3") from None
    return tuple(ids)


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy-style URL for a SQLite file (absolute paths get four slashes)."""
    return f"sqlite:///{path}"


@dataclass(frozen=True, kw_only=True)
class Settings:
    token: str | None = field(default=None, repr=False)
    prefix: str = "!"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = field(default="", repr=False)
    #: PostgreSQL only: connections each process keeps open at most.
    database_pool_size: int = 10
    #: PostgreSQL only: disable, allow, prefer, require, verify-ca or verify-full (None: the URL's, or libpq's default).
    database_sslmode: str | None = None
    #: Discord shards: how many the application has in all, and which this process runs
    #: (all when None). Several processes split them; every one on one PostgreSQL database.
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
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
        object.__setattr__(self, "log_level", self.log_level.upper())
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {self.log_level.lower()!r}")
        object.__setattr__(self, "log_format", self.log_format.lower())
        if self.log_format not in {"text", "json"}:
            raise SettingsError(f"LOG_FORMAT must be text or json, not {self.log_format!r}")
        if not self.discord_api_url.startswith(("https://", "http://")):
            raise SettingsError("DISCORD_API_URL must start with https:// (or http:// for a local server)")
        if not self.discord_gateway_url.startswith(("wss://", "ws://")):
            raise SettingsError("DISCORD_GATEWAY_URL must start with wss:// (or ws:// for a local server)")
        if self.takes_retention_days is not None and self.takes_retention_days < 1:
            raise SettingsError("TAKES_RETENTION_DAYS must be at least 1 (or unset to keep takes)")
        if not 2 <= self.database_pool_size <= 1000:
            raise SettingsError("DATABASE_POOL_SIZE must be between 2 and 1000")
        if self.database_sslmode is not None and self.database_sslmode not in SSL_MODES:
            raise SettingsError(f"DATABASE_SSLMODE must be one of {', '.join(SSL_MODES)}")
        self._check_shards()

    def _check_shards(self) -> None:
        if self.shard_ids is not None:
            object.__setattr__(self, "shard_ids", tuple(self.shard_ids))
            if self.shard_count is None:
                raise SettingsError("SHARD_IDS needs SHARD_COUNT: how many shards the application has in all")
            if not self.shard_ids:
                raise SettingsError("SHARD_IDS must name at least one shard")
            if len(set(self.shard_ids)) != len(self.shard_ids):
                raise SettingsError("SHARD_IDS names a shard twice")
            if any(not 0 <= shard < self.shard_count for shard in self.shard_ids):
                raise SettingsError(f"SHARD_IDS must be between 0 and {self.shard_count - 1} (SHARD_COUNT - 1)")
        if self.shard_count is not None and not 1 <= self.shard_count <= 10_000:
            raise SettingsError("SHARD_COUNT must be at least 1")

    @property
    def sharded(self) -> bool:
        return self.shard_count is not None

    @property
    def syncs_commands(self) -> bool:
        """Slash commands are synced from one process only: the one running shard 0."""
        return self.shard_ids is None or 0 in self.shard_ids

    @property
    def secrets(self) -> list[str]:
        """What logs must never show: the token and the database password."""
        password = url_password(self.database_url)
        decoded = urllib.parse.unquote(password) if password else None
        return list(dict.fromkeys(secret for secret in (self.token, password, decoded) if secret))

    @property
    def database_label(self) -> str:
        """The database URL with any password replaced by ***, safe to print."""
        return redact_url(self.database_url)

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
                          ("DATABASE_URL", "database_url"), ("DATABASE_SSLMODE", "database_sslmode"),
                          ("LOG_LEVEL", "log_level"), ("LOG_FORMAT", "log_format"),
                          ("DISCORD_API_URL", "discord_api_url"), ("DISCORD_GATEWAY_URL", "discord_gateway_url")):
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
                          ("TAKES_RETENTION_DAYS", "takes_retention_days"),
                          ("DATABASE_POOL_SIZE", "database_pool_size"), ("SHARD_COUNT", "shard_count")):
            if (number := integer(name)) is not None:
                values[key] = number
        if (owners := text("OWNER_IDS")) is not None:
            try:
                values["owner_ids"] = frozenset(int(part) for part in owners.replace(",", " ").split())
            except ValueError:
                raise SettingsError("OWNER_IDS must be Discord user ids separated by commas") from None
        if (shards := text("SHARD_IDS")) is not None:
            values["shard_ids"] = parse_shard_ids(shards)
        return cls(**values)  # type: ignore[arg-type]

    def describe(self) -> list[str]:
        """Lines for ``python -m bot check``; the token is never shown, only whether it is set."""
        lines = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "token":
                value = "set" if value else "not set"
            elif f.name == "database_url":
                value = self.database_label
            lines.append(f"{f.name} = {value}")
        return lines
