"""Per-guild settings a moderator changes with ``settings <name> <value>``: parsing, validation,
how each is shown, and applying a change.

Each setting is one :class:`Setting`; adding one is adding an entry to :data:`SETTINGS` (and a
column to the store). Values come as text from both command paths; ``default`` (or ``reset``)
puts any setting back to the bot-wide default.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import discord

from bot.audit import AuditLog
from bot.errors import NotAllowed, NotSaved, UserError, refuse_if_unreachable
from bot.locks import KeyedLocks
from bot.settings import Settings
from bot.storage import GuildSettings, StorageError, Store
from bot.text import describe_char, first_invisible, is_visible_base
from bot.when import BadTimezone, parse_timezone

log = logging.getLogger("bot.settings")

RESET_WORDS = frozenset({"default", "reset"})
MIN_TAKE_LENGTH = 20
#: Discord's own ceiling for a text input, where takes are written on slash.
MAX_TAKE_LENGTH = 4000
MAX_COOLDOWN_SECONDS = 24 * 60 * 60
MAX_TAKE_CHANNELS = 25
MAX_PREFIX_LENGTH = 5
PREFIX_FORBIDDEN = re.compile(r"[\s`<>@#*_~|\\]")
TRUE_WORDS = frozenset({"on", "yes", "true", "anonymous", "hide", "hidden", "1"})
FALSE_WORDS = frozenset({"off", "no", "false", "names", "show", "shown", "0"})


#: Where takes can be written (and so what the settings card's channel menu offers).
TAKE_CHANNEL_TYPES = (discord.ChannelType.text, discord.ChannelType.news, discord.ChannelType.forum,
                      discord.ChannelType.voice, discord.ChannelType.stage_voice, discord.ChannelType.public_thread,
                      discord.ChannelType.private_thread, discord.ChannelType.news_thread)


class InvalidSetting(UserError):
    pass


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    label: str
    about: str
    example: str
    #: (text, guild, bot settings) -> the value to store; raises InvalidSetting.
    parse: Callable[[str, Any, Settings], Any]
    #: The GuildSettings field it changes.
    field: str
    #: The stored value, shown; ``None`` means the bot-wide default.
    show: Callable[[Any, Settings], str]


def _int_in_range(text: str, low: int, high: int, what: str) -> int:
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not re.fullmatch(r"\d{1,9}", cleaned):
        raise InvalidSetting(f"{what} must be a whole number from {low} to {high}.")
    value = int(cleaned)
    if not low <= value <= high:
        raise InvalidSetting(f"{what} must be from {low} to {high}; {value} is out of range.")
    return value


def parse_role(text: str, guild: Any, _: Settings) -> int:
    token = text.strip().replace("\u200b", "")  # Discord clients defuse a typed @everyone with a zero-width space
    match = re.fullmatch(r"<@&(\d{15,21})>|(\d{15,21})", token)
    role: discord.Role | None
    if match:
        role = guild.get_role(int(match[1] or match[2]))
    else:
        name = token.lstrip("@").casefold()
        found = [r for r in guild.roles if r.name.lstrip("@").casefold() == name]
        if len(found) > 1:
            raise InvalidSetting(f"{len(found)} roles are called `{_shown(token)}`; mention the role instead.")
        role = found[0] if found else None
    if role is None:
        raise InvalidSetting(f"There is no role `{_shown(token)}` in this server. Mention it, or give its exact name.")
    if role.is_default():
        raise InvalidSetting("@everyone cannot be the moderator role: every member would be a moderator.")
    if role.managed:
        raise InvalidSetting(f"`{_shown(role.name)}` is managed by an integration; choose a role members are given.")
    return role.id


def parse_take_length(text: str, _: Any, __: Settings) -> int:
    return _int_in_range(text, MIN_TAKE_LENGTH, MAX_TAKE_LENGTH, "The take length limit")


def parse_cooldown(text: str, _: Any, __: Settings) -> int:
    match = re.fullmatch(r"\s*(\d{1,9})\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)?\s*", text.lower())
    if not match:
        raise InvalidSetting("The cooldown is a number of seconds (or with a unit: `30s`, `5m`, `1h`), "
                             f"from 0 to {MAX_COOLDOWN_SECONDS}.")
    unit = (match[2] or "s")[0]
    seconds = int(match[1]) * {"s": 1, "m": 60, "h": 3600}[unit]
    if seconds > MAX_COOLDOWN_SECONDS:
        raise InvalidSetting(f"The cooldown can be at most a day ({MAX_COOLDOWN_SECONDS} seconds).")
    return seconds


def parse_channels(text: str, guild: Any, _: Settings) -> frozenset[int]:
    if text.strip().lower() in {"all", "any", "everywhere"}:
        return frozenset()
    tokens = [t for t in re.split(r"[\s,]+", text.strip()) if t]
    ids: set[int] = set()
    for token in tokens:
        match = re.fullmatch(r"<#(\d{15,21})>|(\d{15,21})", token)
        channel: Any
        if match:
            channel = guild.get_channel_or_thread(int(match[1] or match[2]))
        else:
            name = token.lstrip("#").casefold()
            named = [c for c in [*guild.channels, *guild.threads]
                     if c.name.casefold() == name and c.type in TAKE_CHANNEL_TYPES]
            if len(named) > 1:
                raise InvalidSetting(f"{len(named)} channels are called `{_shown(token)}`; mention the one you mean.")
            channel = named[0] if named else None
        if channel is None:
            raise InvalidSetting(f"There is no channel `{_shown(token)}` in this server.")
        if channel.type not in TAKE_CHANNEL_TYPES:
            raise InvalidSetting(f"`{_shown(channel.name)}` is not a channel members can write in.")
        ids.add(channel.id)
    if len(ids) > MAX_TAKE_CHANNELS:
        raise InvalidSetting(f"Takes can be limited to at most {MAX_TAKE_CHANNELS} channels.")
    if not ids:
        raise InvalidSetting("Name the channels (mention them), or `all` for every channel.")
    return frozenset(ids)


def _on_or_off(text: str, meaning: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InvalidSetting(f"Say {meaning}.")


def parse_anonymous(text: str, _: Any, __: Settings) -> bool:
    return _on_or_off(text, "`on` (lists hide names from members) or `off` (lists show names)")


def parse_prefix(text: str, _: Any, __: Settings) -> str:
    prefix = text.strip()
    invisible = first_invisible(prefix)
    if invisible is not None or (prefix and not is_visible_base(prefix[0])):
        shown = describe_char(invisible if invisible is not None else prefix[0])
        raise InvalidSetting(f"A prefix must be characters members can see and type; this one contains {shown}, "
                             "which is invisible or cannot stand first. Try `!` or `cf!`.")
    if not 1 <= len(prefix) <= MAX_PREFIX_LENGTH:
        raise InvalidSetting(f"A prefix is 1 to {MAX_PREFIX_LENGTH} characters, like `!` or `cf!`.")
    if PREFIX_FORBIDDEN.search(prefix) or prefix.startswith("/"):
        raise InvalidSetting("A prefix cannot contain spaces, mentions or formatting characters, "
                             "and cannot start with `/` (Discord keeps that for slash commands).")
    return prefix


def parse_zone(text: str, _: Any, __: Settings) -> str:
    try:
        return parse_timezone(text)
    except BadTimezone as exc:
        raise InvalidSetting(str(exc)) from None


def parse_reminders(text: str, _: Any, __: Settings) -> bool:
    return _on_or_off(text, "`on` (reminders a day and an hour before a meeting) or `off`")


def _shown(text: str) -> str:
    return text[:40].replace("`", "'")


def _show_default(value: Any, default: str) -> str:
    return f"{value}" if value is not None else f"{default} *(default)*"


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("moderator_role", "Moderator role",
            "Members with this role can use moderator commands, besides those with Manage Messages.",
            "@Facilitators", parse_role, "moderator_role_id",
            lambda v, _: f"<@&{v}>" if v is not None else "none *(Manage Messages only)*"),
    Setting("take_length", "Take length limit", "The most characters one take may have.",
            "1500", parse_take_length, "take_max_length",
            lambda v, s: _show_default(f"{v} characters" if v is not None else None,
                                       f"{s.take_max_length} characters")),
    Setting("cooldown", "Take cooldown", "How long a member waits between two takes.",
            "2m", parse_cooldown, "take_cooldown_seconds",
            lambda v, s: _show_default(f"{v} s" if v is not None else None, f"{s.take_cooldown_seconds} s")),
    Setting("channels", "Take channels", "Where takes are accepted; `all` for every channel.",
            "#journal-club #reading-room", parse_channels, "take_channel_ids",
            lambda v, _: " ".join(f"<#{c}>" for c in sorted(v)) if v else "every channel *(default)*"),
    Setting("anonymous", "Anonymous lists",
            "`on`: take lists hide authors from members (moderators still see them).",
            "on", parse_anonymous, "anonymous_lists",
            lambda v, _: "on: members see takes without names" if v else "off: lists show names *(default)*"),
    Setting("timezone", "Time zone", "The zone meeting times are written in (an IANA name).",
            "Europe/Berlin", parse_zone, "timezone", lambda v, _: _show_default(v, "UTC")),
    Setting("meeting_reminders", "Meeting reminders",
            "`on`: a reminder in the channel a day and an hour before each meeting.",
            "off", parse_reminders, "meeting_reminders",
            lambda v, _: "on: a day and an hour before *(default)*" if v else "off"),
    Setting("prefix", "Command prefix", "What starts a typed command here; mentioning the bot always works.",
            "?", parse_prefix, "prefix",
            lambda v, s: _show_default(f"`{v}`" if v is not None else None, f"`{s.prefix}`")),
)}

DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(GuildSettings) if f.name != "guild_id"}
DEFAULTS["take_channel_ids"] = frozenset()


def find_setting(name: str) -> Setting:
    key = name.strip().lower().replace("-", "_")
    setting = SETTINGS.get(key)
    if setting is None:
        raise InvalidSetting(f"There is no setting `{_shown(name)}`. The settings are: "
                             f"{', '.join(f'`{n}`' for n in SETTINGS)}.")
    return setting


@dataclass(frozen=True, slots=True)
class Change:
    setting: Setting
    before: GuildSettings
    after: GuildSettings

    def describe(self, bot_settings: Settings) -> str:
        field = self.setting.field
        old = self.setting.show(getattr(self.before, field), bot_settings)
        new = self.setting.show(getattr(self.after, field), bot_settings)
        return f"{self.setting.label}: {old} → {new}"


def change(current: GuildSettings, name: str, value: str, guild: Any, bot_settings: Settings) -> Change:
    """Validate ``value`` for setting ``name`` and return the new settings; nothing is saved."""
    setting = find_setting(name)
    if value.strip().lower() in RESET_WORDS:
        parsed = DEFAULTS[setting.field]
    else:
        parsed = setting.parse(value, guild, bot_settings)
    return Change(setting, current, dataclasses.replace(current, **{setting.field: parsed}))


def rows(current: GuildSettings, bot_settings: Settings) -> list[tuple[str, str, str]]:
    return [(f"{s.label} · `{s.name}`", s.show(getattr(current, s.field), bot_settings),
             f"{s.about} Example: `{s.name} {s.example}`") for s in SETTINGS.values()]


# -- applying changes ---------------------------------------------------------------------------

#: Settings that decide who moderates, or how every member talks to the bot: Manage Server only.
SERVER_MANAGER_SETTINGS = frozenset({"moderator_role", "prefix"})


class GuildSettingsService:
    """Each server's settings: read, changed (validated, saved under a lock, applied, audited)
    from the command and the settings card alike, and the prefix the resolver reads."""

    def __init__(self, store: Store, defaults: Settings, locks: KeyedLocks, audit: AuditLog) -> None:
        self._store = store
        self.defaults = defaults
        self._locks = locks
        self._audit = audit
        self._prefixes: dict[int, str] = {}

    async def load(self) -> None:
        """Read every server's prefix once at start; changes keep the map current."""
        self._prefixes = await self._store.guild_prefixes()

    def prefix_for(self, guild_id: int | None) -> str:
        return self._prefixes.get(guild_id, self.defaults.prefix) if guild_id is not None else self.defaults.prefix

    async def get(self, guild_id: int) -> GuildSettings:
        return await self._store.get_guild_settings(guild_id)

    def rows(self, current: GuildSettings) -> list[tuple[str, str, str]]:
        return rows(current, self.defaults)

    def show(self, setting: Setting, current: GuildSettings) -> str:
        return setting.show(getattr(current, setting.field), self.defaults)

    async def apply(self, guild: discord.Guild, actor: discord.abc.User, name: str,
                    value: str | Callable[[GuildSettings], str]) -> tuple[Change, bool]:
        """Validate, save, apply and audit one change. ``value`` may be computed from the stored
        settings (a toggle). Returns the change and whether anything changed."""
        setting = find_setting(name)
        if setting.name in SERVER_MANAGER_SETTINGS and not (
                isinstance(actor, discord.Member) and actor.guild_permissions.manage_guild):
            raise NotAllowed(f"Changing the {setting.label.lower()} takes **Manage Server**: it decides who "
                             "moderates, or how everyone here talks to the bot.")
        made: list[Change] = []

        def changed(current: GuildSettings) -> GuildSettings:
            text = value(current) if callable(value) else value
            made[:] = [change(current, setting.name, text, guild, self.defaults)]
            return made[0].after

        # Two moderators at once, in this process or another: the store reads, changes and saves
        # as one step, so neither change is lost.
        async with self._locks("settings", guild.id):
            try:
                before, after = await self._store.update_guild_settings(guild.id, changed)
            except StorageError as exc:
                refuse_if_unreachable(exc)
                log.error("settings not saved for guild %s: %s", guild.id, exc, exc_info=exc)
                raise NotSaved("Nothing changed: the database could not be written. Please try again.") from exc
            result = made[0]
            if after == before:
                return result, False
            self._apply_prefix(guild.id, after.prefix)
        await self._audit.record(guild.id, actor.id, "settings", result.describe(self.defaults))
        return result, True

    def _apply_prefix(self, guild_id: int, prefix: str | None) -> None:
        if prefix is None:
            self._prefixes.pop(guild_id, None)
        else:
            self._prefixes[guild_id] = prefix

    async def forget_channel(self, guild_id: int, channel_id: int, name: str | None, *, articles: Iterable[str],
                             actor_id: int) -> None:
        """A deleted channel leaves the take channels (an empty list means every channel again) and
        its pinned-summary records go; a settings change is audited so moderators see it."""
        label = f"#{name}" if name else f"channel {channel_id}"

        def without_channel(current: GuildSettings) -> GuildSettings:
            return dataclasses.replace(current, take_channel_ids=current.take_channel_ids - {channel_id})

        async with self._locks("settings", guild_id):
            before, after = await self._store.update_guild_settings(guild_id, without_channel)
        if after != before:
            remaining = "the others remain" if after.take_channel_ids else "takes are accepted in every channel again"
            await self._audit.record(guild_id, actor_id, "settings", f"Take channels: {label} was deleted; {remaining}")
        for article in articles:
            await self._store.delete_pin(guild_id, channel_id, article)

    async def forget_role(self, guild_id: int, role_id: int, name: str, *, actor_id: int) -> None:
        def without_role(current: GuildSettings) -> GuildSettings:
            return dataclasses.replace(current, moderator_role_id=None) if current.moderator_role_id == role_id \
                else current

        async with self._locks("settings", guild_id):
            before, after = await self._store.update_guild_settings(guild_id, without_role)
        if after != before:
            await self._audit.record(guild_id, actor_id, "settings",
                                     f"Moderator role: @{name} was deleted, so none is set")
