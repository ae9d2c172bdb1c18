"""The try-out session: the real bot on SimCord, driven by lines of text.

Lines that start with ``/`` and name a session command (``/as``, ``/click``…) steer the session;
other ``/`` lines are slash commands (``/commonfactors faq query:alliance``); anything else is
a message the current member sends in #journal-club (``!commonfactors faq alliance``).
"""

from __future__ import annotations

import contextlib
import logging
import re
import shlex
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from simcord import ChannelHandle, Env, GuildHandle, InteractionResult, MemberActor, SetupError
from simcord.backend.errors import BackendError

from bot.logs import RequestIdFilter, SecretFilter
from bot.tryout.render import BOT_NAME, WIDTH, modal_fields, render_message, render_modal
from bot.ui.reporting import user_message

HELP = """\
Type what a member types in #journal-club:
  {card:<35}the article card (prefix commands work as on Discord)
  /commonfactors faq query:alliance  a slash command, options as name:value
Session commands:
  /as NAME          act as someone else: {people}
  /click LABEL      press a button on the newest message that has it (the label's
                    start is enough: /click add)
  /select OPTION    choose in the newest menu that offers it: a number, an option's
                    text, or a role (@moderators), channel (#journal-club) or person
  /wait SECONDS     let simulated time pass (cooldowns, expiring buttons, meetings and reminders)
  /commands         the slash commands the current member can use here
  /pins             the channel's pinned messages
  /help             this text
  /quit             leave (Ctrl-D too)
"""

ROLES = {
    "alice": "a member",
    "bob": "a member",
    "mod": "a moderator (Moderators role: Manage Messages)",
    "admin": "an admin (Admins role: Manage Server, Manage Messages)",
}
SESSION_COMMANDS = {"as", "click", "select", "wait", "commands", "pins", "help", "quit", "exit", "cancel"}
_OPTION = re.compile(r"(?:^|\s)([a-z_][a-z0-9_-]*):", re.IGNORECASE)

Say = Callable[[str], None]
Ask = Callable[[str], Awaitable[str | None]]


class TryOutError(Exception):
    """Something the person typed cannot be done; shown as one line."""


_ERROR_ID = re.compile(r"unexpected error (\S+) in ")


class FailureLog(logging.Handler):
    """The log lines of unexpected errors (ERROR and above), kept to be printed in the session
    right after what the member saw: the try-out has no log file to send anyone to."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.addFilter(RequestIdFilter())
        self.addFilter(SecretFilter(secrets))
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s [%(request_id)s] %(message)s"))
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        """Each failure logged since the last call: a heading with its error id, then its log line
        and the exception's last line."""
        lines: list[str] = []
        for record in self.records:
            found = _ERROR_ID.search(record.getMessage())
            error_id = found.group(1) if found else getattr(record, "request_id", "-")
            lines.append(f"!! the bot failed (error id {error_id}); the log says:" if error_id != "-"
                         else "!! the bot failed; the log says:")
            lines.append("   " + self.format(record).splitlines()[0])
            if record.exc_info and record.exc_info[1] is not None:
                error = record.exc_info[1]
                lines.append(f"   {type(error).__name__}: {error}")
        self.records.clear()
        return lines


class Session:
    """The simulated server and its people, created before the bot starts so that their ids
    are the same in every run (a kept database's takes stay theirs)."""

    def __init__(self, env: Env, say: Say, ask: Ask, failures: FailureLog | None = None) -> None:
        self.env = env
        self.say = say
        self.ask = ask
        self.failures = failures
        self.guild: GuildHandle = env.create_guild("Clinic (try-out)")
        self.channel: ChannelHandle = self.guild.create_text_channel("journal-club")
        mods = self.guild.create_role("Moderators", permissions=discord.Permissions(manage_messages=True))
        admins = self.guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True,
                                                                                  manage_messages=True))
        self.roles = {"moderators": mods, "admins": admins}
        self.people: dict[str, MemberActor] = {
            "alice": self.guild.add_member(env.create_user("alice")),
            "bob": self.guild.add_member(env.create_user("bob")),
            "mod": self.guild.add_member(env.create_user("mod"), roles=[mods]),
            "admin": self.guild.add_member(env.create_user("admin"), roles=[admins]),
        }
        self.actor = self.people["alice"]
        env.backend.bot_user.name = BOT_NAME  # SimCord's default is "TestBot"
        #: How mentions are drawn: @alice, @Moderators, #journal-club.
        self.names: dict[int, str] = {
            **{person.id: f"@{name}" for name, person in self.people.items()},
            **{role.id: f"@{role.name}" for role in self.roles.values()},
            self.channel.id: "#journal-club",
            env.backend.bot_user.id: f"@{BOT_NAME}",
        }
        self.shown: dict[int, tuple[Any, ...]] = {}
        self.error_cursor = env.error_cursor
        self._mark_all_shown()

    @property
    def prompt(self) -> str:
        return f"{self.actor.name}> "

    @property
    def prefix(self) -> str:
        """The prefix typed commands start with here, as the server's settings say now."""
        prefix_for = getattr(self.env.bot, "prefix_for", None)
        return str(prefix_for(discord.Object(id=self.guild.id))) if prefix_for is not None else "!"

    # -- what the current person sees ----------------------------------------------------------
    def _fingerprint(self, message: discord.Message) -> tuple[Any, ...]:
        return (message.content, [e.to_dict() for e in message.embeds], [c.to_dict() for c in message.components],
                message.pinned, [a.filename for a in message.attachments])

    def _visible(self) -> list[tuple[discord.Message, str]]:
        out = [(m, "#journal-club") for m in self.channel.history(viewer=self.actor)]
        with contextlib.suppress(SetupError, BackendError, AttributeError):
            out.extend((m, f"DM to {self.actor.name}") for m in self._dm_channel().history())
        return out

    def _dm_channel(self) -> ChannelHandle:
        return self.actor.user.dm_channel

    def _mark_all_shown(self) -> None:
        for message in self.channel.history():
            self.shown[message.id] = self._fingerprint(message)

    def show_new(self) -> None:
        """Print the bot's messages that are new or changed, as the current member sees them."""
        for message, where in self._visible():
            if not message.author.bot:
                continue
            fingerprint = self._fingerprint(message)
            before = self.shown.get(message.id)
            if before == fingerprint:
                continue
            self.shown[message.id] = fingerprint
            for line in render_message(message, edited=before is not None, where=where, now=self.env.now(),
                                       names=self.names):
                self.say(line)
        self._mark_all_shown()
        # A refusal (a duplicate take, an unknown FAQ, a member's pin) is what the member was just
        # shown; only what no member caused is a failure, with its id and log line.
        logged = self.failures.take() if self.failures is not None else []
        unexplained = [error for error in self.env.errors_since(self.error_cursor) if user_message(error) is None]
        self.error_cursor = self.env.error_cursor
        for line in logged:
            self.say(line)
        if not logged:
            for error in unexplained:
                self.say(f"!! the bot failed: {type(error).__name__}: {error}")

    # -- the loop --------------------------------------------------------------------------------
    async def handle(self, line: str) -> bool:
        """Act on one line; False when the session should end."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        try:
            if line.startswith("/"):
                word, _, rest = line[1:].partition(" ")
                if word.lower() in SESSION_COMMANDS:
                    return await self._session_command(word.lower(), rest.strip())
                await self._slash(line[1:])
            else:
                await self.actor.send(self.channel, line)
                self.show_new()
        except TryOutError as exc:
            self.say(f"?? {exc}")
        except (SetupError, BackendError) as exc:
            self.say(f"?? Discord would not allow that: {exc}")
        return True

    async def _session_command(self, word: str, rest: str) -> bool:
        if word in {"quit", "exit"}:
            return False
        if word == "help":
            for text in HELP.format(people=", ".join(self.people), card=f"{self.prefix}commonfactors").splitlines():
                self.say(text)
        elif word == "as":
            name = rest.lower().lstrip("@")
            if name not in self.people:
                raise TryOutError(f"there is no {rest or 'one'} here; try one of: {', '.join(self.people)}")
            self.actor = self.people[name]
            self.say(f"-- you are now {name}, {ROLES[name]}")
        elif word == "click":
            await self._click(rest)
        elif word == "select":
            await self._select(rest)
        elif word == "wait":
            try:
                seconds = float(rest)
            except ValueError:
                raise TryOutError("/wait takes a number of seconds, e.g. /wait 30") from None
            await self.env.advance_time(seconds)
            self.say(f"-- {seconds:g} s later")
            self.show_new()
        elif word == "commands":
            for name in sorted(self.actor.available_commands(self.channel)):
                self.say(f"  /{name}")
        elif word == "pins":
            pinned = self.channel.pinned_messages()
            if not pinned:
                self.say("-- nothing is pinned in #journal-club")
            for message in pinned:
                for text in render_message(message, where="#journal-club", now=self.env.now(), names=self.names):
                    self.say(text)
        elif word == "cancel":
            self.say("-- there is no open form")
        return True

    # -- interactions ----------------------------------------------------------------------------
    async def _after_interaction(self, result: InteractionResult) -> None:
        self.show_new()
        if result.modal is not None:
            await self._fill(result)
        elif not result.acknowledged:
            self.say("-- the bot did not answer (Discord shows \"This interaction failed\")")

    async def _fill(self, shown: InteractionResult) -> None:
        modal = shown.modal or {}
        for text in render_modal(modal):
            self.say(text)
        values: dict[str, str] = {}
        for field in modal_fields(modal):
            answer = await self.ask(f"  {field['label']}: ")
            if answer is None or answer.strip() == "/cancel":
                self.say("-- form closed without sending")
                return
            if answer.strip():
                values[str(field["custom_id"])] = answer.replace("\\n", "\n")
        result = await self.actor.submit_modal(shown, values)
        await self._after_interaction(result)

    def _newest_first(self) -> list[discord.Message]:
        return [m for m, _ in reversed(self._visible()) if m.author.bot]

    def _button_label(self, wanted: str) -> str:
        """The label ``wanted`` names: itself, or the only label it begins (any case)."""
        labels = {(b.label or "").strip().lower() for m in self._newest_first() for b in _buttons(m)}
        if wanted in labels:
            return wanted
        begun = sorted(label for label in labels if label.startswith(wanted))
        if len(begun) > 1:
            raise TryOutError(f"{wanted!r} begins several buttons' labels: " + ", ".join(f"[{b}]" for b in begun))
        return begun[0] if begun else wanted

    async def _click(self, label: str) -> None:
        wanted = label.strip().lower()
        if not wanted:
            raise TryOutError("/click needs a button's label, e.g. /click Add your take")
        wanted = self._button_label(wanted)
        for message in self._newest_first():
            for button in _buttons(message):
                if (button.label or "").strip().lower() != wanted:
                    continue
                if button.url:
                    raise TryOutError(f"that button is a link: it opens {button.url}")
                if button.disabled:
                    raise TryOutError("that button is greyed out")
                result = await self.actor.click(message, custom_id=button.custom_id)
                await self._after_interaction(result)
                return
        raise TryOutError(f"no button labelled {label!r} on the messages you can see")

    async def _select(self, option: str) -> None:
        wanted = option.strip().lower()
        if not wanted:
            raise TryOutError("/select needs an option's text, e.g. /select 1")
        for message in self._newest_first():
            for menu in _menus(message):
                values = self._menu_values(menu, wanted)
                if values:
                    result = await self.actor.select(message, values, custom_id=menu.custom_id)
                    await self._after_interaction(result)
                    return
        raise TryOutError(f"no menu offers {option!r}")

    def _menu_values(self, menu: discord.SelectMenu, wanted: str) -> list[Any]:
        """What choosing ``wanted`` in ``menu`` means: an option (by number, text or value), or
        for a role, channel or member menu, that role, channel or person."""
        kind = menu.type
        name = wanted.lstrip("@#")
        if kind is discord.ComponentType.role_select or (kind is discord.ComponentType.mentionable_select
                                                          and name in self.roles):
            return [self.roles[name]] if name in self.roles else []
        if kind is discord.ComponentType.channel_select:
            return [self.channel] if name == "journal-club" else []
        if kind in (discord.ComponentType.user_select, discord.ComponentType.mentionable_select):
            return [self.people[name]] if name in self.people else []
        if wanted.isdigit() and 1 <= int(wanted) <= len(menu.options):
            return [menu.options[int(wanted) - 1].value]
        for choice in menu.options:
            label = choice.label.lower()
            if label == wanted or label.startswith(wanted) or choice.value.lower() == wanted:
                return [choice.value]
        return []

    async def _slash(self, text: str) -> None:
        name, raw_options = split_slash(text)
        if not name:
            raise TryOutError("type a slash command after the /, e.g. /commonfactors faq")
        command = self._find_command(name)
        options = {key: self._convert(command, key, value) for key, value in raw_options.items()}
        result = await self.actor.slash(self.channel, name, **options)
        await self._after_interaction(result)

    def _find_command(self, name: str) -> app_commands.Command[Any, ..., Any]:
        words = name.split()
        tree: app_commands.CommandTree[Any] = getattr(self.env.bot, "tree")  # noqa: B009  (a commands.Bot)
        found: Any = tree.get_command(words[0])
        for word in words[1:]:
            found = found.get_command(word) if isinstance(found, app_commands.Group) else None
        if not isinstance(found, app_commands.Command):
            known = ", ".join(f"/{n}" for n in sorted(self.actor.available_commands(self.channel)))
            raise TryOutError(f"there is no slash command /{name}; you can use: {known}")
        return found

    def _convert(self, command: app_commands.Command[Any, ..., Any], key: str, value: str) -> Any:
        parameter = next((p for p in command.parameters if p.name == key), None)
        if parameter is None:
            names = ", ".join(f"{p.name}:" for p in command.parameters) or "none"
            raise TryOutError(f"/{command.qualified_name} has no option {key}: (its options: {names})")
        kind = parameter.type
        option = discord.AppCommandOptionType
        try:
            if kind is option.integer:
                return int(value)
            if kind is option.number:
                return float(value)
            if kind is option.boolean:
                return value.lower() in {"true", "yes", "1", "on"}
        except ValueError:
            raise TryOutError(f"{key}: wants a number, not {value!r}") from None
        if kind in (option.user, option.mentionable):
            person = self.people.get(value.lower().lstrip("@"))
            if person is None:
                raise TryOutError(f"{key}: no one called {value!r} here ({', '.join(self.people)})")
            return person
        if kind is option.channel:
            return self.channel
        if kind is option.attachment:
            path = Path(value).expanduser()
            try:
                return (path.name, path.read_bytes())
            except OSError as exc:
                raise TryOutError(f"{key}: cannot read {path}: {exc.strerror or exc}") from None
        return value


def split_slash(text: str) -> tuple[str, dict[str, str]]:
    """``commonfactors faq query:the alliance`` → (``commonfactors faq``, {query: the alliance})."""
    matches = list(_OPTION.finditer(text))
    name = (text[: matches[0].start()] if matches else text).strip()
    options: dict[str, str] = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        value = text[match.end():end].strip()
        with contextlib.suppress(ValueError):
            if value[:1] in {'"', "'"}:
                value = " ".join(shlex.split(value))
        options[match.group(1).lower()] = value
    return " ".join(name.split()).lower(), options


def _buttons(message: discord.Message) -> list[discord.Button]:
    return [c for row in message.components for c in getattr(row, "children", [row]) if isinstance(c, discord.Button)]


def _menus(message: discord.Message) -> list[discord.SelectMenu]:
    return [c for row in message.components for c in getattr(row, "children", [row])
            if isinstance(c, discord.SelectMenu)]


def rule(title: str) -> str:
    return f"== {title} " + "=" * max(3, WIDTH - len(title) - 4)
