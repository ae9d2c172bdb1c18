"""Takes: the rules a take must meet, saving it, and the modal members write it in.

Every way a take arrives (command, slash modal, button, reply) goes through :func:`submit_take`,
so the rules and the promise are the same everywhere: a take is acknowledged only after the
store has committed it, and a failed write tells the member it was *not* saved.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bot.article import Article
from bot.audit import record_action
from bot.commands import is_moderator
from bot.errors import (
    GuildOnly,
    NotAllowed,
    NotFound,
    NotSaved,
    TakeRejected,
    UserError,
)
from bot.storage import TAKE_SOURCES, GuildSettings, NewTake, StorageError, Take, TakeSource
from bot.text import discord_length, has_visible_content, printable, unstorable_problem

if TYPE_CHECKING:
    from bot.app import CommonFactorsBot

log = logging.getLogger("bot.takes")

MODAL_TITLE_LIMIT = 45
#: Discord's own ceiling for a text input; per-guild limits sit below it.
TEXT_INPUT_LIMIT = 4000


@dataclass(frozen=True, slots=True)
class TakeRules:
    max_length: int
    cooldown: dt.timedelta
    duplicate_window: dt.timedelta
    channel_ids: frozenset[int]

    def allows_channel(self, channel: Any) -> bool:
        if not self.channel_ids:
            return True
        ids = {getattr(channel, "id", None), getattr(channel, "parent_id", None)}
        return bool(ids & self.channel_ids)


async def rules_for(bot: CommonFactorsBot, guild_id: int) -> TakeRules:
    guild: GuildSettings = await bot.store.get_guild_settings(guild_id)
    s = bot.settings
    return TakeRules(
        max_length=guild.take_max_length or s.take_max_length,
        cooldown=dt.timedelta(seconds=guild.take_cooldown_seconds if guild.take_cooldown_seconds is not None
                              else s.take_cooldown_seconds),
        duplicate_window=dt.timedelta(seconds=s.duplicate_window_seconds),
        channel_ids=guild.take_channel_ids,
    )


def check_text(text: str, rules: TakeRules) -> None:
    """Empty, invisible, unstorable and too-long takes are refused with what to do about it.
    Lengths are counted as Discord counts them (see :mod:`bot.text`)."""
    problem = unstorable_problem(text)
    if problem is not None:
        raise TakeRejected(problem)
    if not has_visible_content(text):
        raise TakeRejected("Your take is empty (or only invisible characters). Write a sentence or two about the "
                           "article and send it again.")
    length = discord_length(text)
    if length > rules.max_length:
        over = length - rules.max_length
        raise TakeRejected(f"Your take is {length} characters; the limit here is {rules.max_length}. "
                           f"Shorten it by {over} and send it again.")


def channels_text(rules: TakeRules) -> str:
    return ", ".join(f"<#{c}>" for c in sorted(rules.channel_ids))


async def submit_take(bot: CommonFactorsBot, *, guild_id: int | None, channel: Any, article: Article,
                      author: discord.abc.User, content: str, source: TakeSource,
                      message_url: str | None = None) -> Take:
    """Validate and save a take; returns it only once it is committed."""
    if guild_id is None:
        raise GuildOnly("Takes belong to a server's discussion, so this works in a server channel, not in DMs.")
    try:
        return await _validate_and_add(bot, guild_id=guild_id, channel=channel, article=article, author=author,
                                       content=content, source=source, message_url=message_url)
    except StorageError as exc:
        log.error("take NOT saved (guild=%s article=%s author=%s source=%s): %s", guild_id, article.command,
                  author.id, source, exc, exc_info=exc)
        raise NotSaved("Your take was **not saved**: the database could not be written. Nothing was kept; "
                       "please try again in a moment.") from exc


async def _validate_and_add(bot: CommonFactorsBot, *, guild_id: int, channel: Any, article: Article,
                            author: discord.abc.User, content: str, source: TakeSource,
                            message_url: str | None) -> Take:
    rules = await rules_for(bot, guild_id)
    check_text(content, rules)
    if not rules.allows_channel(channel):
        raise TakeRejected(f"Takes on this article are collected in {channels_text(rules)}.")
    async with bot.lock("take", guild_id, author.id):  # two takes at once cannot both pass the cooldown
        now = bot.now()
        if await bot.store.has_recent_duplicate(guild_id, article.command, author.id, content,
                                                now - rules.duplicate_window):
            minutes = int(rules.duplicate_window.total_seconds() // 60)
            raise TakeRejected(f"You already saved this exact take in the last {minutes} minutes.")
        last = await bot.store.last_take_at(guild_id, author.id)
        if last is not None and now - last < rules.cooldown:
            ready = last + rules.cooldown
            raise TakeRejected(f"One take every {int(rules.cooldown.total_seconds())} s: you can add the next one "
                               f"{discord.utils.format_dt(ready, 'R')}.")
        return await bot.store.add_take(NewTake(
            guild_id=guild_id, channel_id=channel.id, article=article.command, author_id=author.id,
            author_name=printable(getattr(author, "display_name", author.name)), content=content, source=source,
            created_at=now, message_url=message_url))


@dataclass(frozen=True, slots=True)
class NameVisibility:
    show_names: bool
    #: Names are shown only to the viewer (an ephemeral answer), because lists are anonymous.
    private: bool


async def name_visibility(bot: CommonFactorsBot, guild_id: int, member: discord.abc.User, *,
                          can_be_private: bool) -> NameVisibility:
    """Lists name authors unless the guild made them anonymous. Then moderators still see names,
    but only in an answer no one else sees (slash); a message in the channel never names anyone."""
    settings = await bot.store.get_guild_settings(guild_id)
    if not settings.anonymous_lists:
        return NameVisibility(show_names=True, private=False)
    if can_be_private and is_moderator(member, settings.moderator_role_id):
        return NameVisibility(show_names=True, private=True)
    return NameVisibility(show_names=False, private=False)


async def find_take(bot: CommonFactorsBot, guild_id: int | None, take_id: int) -> Take:
    """A take of this guild; another guild's id is "not found", exactly like a missing one."""
    if guild_id is None:
        raise GuildOnly("Takes belong to a server's discussion, so this works in a server channel, not in DMs.")
    take = await bot.store.get_take(guild_id, take_id) if 0 < take_id < 2**63 else None
    if take is None:
        raise NotFound(f"There is no take #{take_id} in this server.")
    return take


async def edit_take(bot: CommonFactorsBot, *, guild_id: int | None, member: discord.abc.User, take_id: int,
                    content: str) -> Take:
    take = await find_take(bot, guild_id, take_id)
    if take.author_id != member.id:
        raise NotAllowed("You can only edit your own takes.")
    assert guild_id is not None
    check_text(content, await rules_for(bot, guild_id))
    try:
        edited = await bot.store.edit_take(guild_id, take_id, content, bot.now())
    except StorageError as exc:
        log.error("edit NOT saved (guild=%s take=%s): %s", guild_id, take_id, exc, exc_info=exc)
        raise NotSaved("Your edit was **not saved**: the database refused the write. The take still reads as "
                       "before; please try again in a moment.") from exc
    if edited is None:
        raise NotFound(f"There is no take #{take_id} in this server.")
    return edited


async def delete_take(bot: CommonFactorsBot, *, guild_id: int | None, member: discord.abc.User, channel: Any,
                      take_id: int) -> Take:
    """Members delete their own takes; moderators any take in their guild (audited)."""
    take = await find_take(bot, guild_id, take_id)
    assert guild_id is not None
    by_moderator = False
    if take.author_id != member.id:
        settings = await bot.store.get_guild_settings(guild_id)
        # A channel's own moderators may delete takes written in that channel.
        written_in = bot.get_channel(take.channel_id)
        if not is_moderator(member, settings.moderator_role_id, channel=written_in):
            raise NotAllowed("You can only delete your own takes; moderators can delete any.")
        by_moderator = True
    try:
        deleted = await bot.store.delete_take(guild_id, take_id)
    except StorageError as exc:
        log.error("delete failed (guild=%s take=%s): %s", guild_id, take_id, exc, exc_info=exc)
        raise NotSaved("The take was **not deleted**: the database refused the write. Please try again.") from exc
    if not deleted:
        raise NotFound(f"There is no take #{take_id} in this server.")
    if by_moderator:
        await record_action(bot, guild_id, member.id, "delete_take", f"take #{take_id}")
    return take


def saved_message(take: Take, article: Article, prefix: str = "/") -> str:
    """``prefix`` is how the member called us (``!`` or ``/``), so the hint is copy-pasteable."""
    group = f"{prefix}{article.command}"
    return (f"Saved your take **#{take.id}** on *{article.title}*. "
            f"Change it with `{group} edit {take.id}` or remove it with `{group} delete {take.id}`.")


def with_draft(message: str, text: str) -> dict[str, Any]:
    """Hand a member's words back when we could not keep them, so they are not lost: quoted under
    the answer when that fits one message, otherwise attached as a text file."""
    text = printable(text)  # a refused lone surrogate cannot be encoded into the answer or the file
    quoted = text.replace("```", "'''")
    extra = f"\n\nYour text, to copy:\n```\n{quoted}\n```"
    if len(message) + len(extra) <= 2000:
        return {"content": message + extra}
    draft = discord.File(io.BytesIO(text.encode("utf-8")), filename="your-take.txt")
    return {"content": message + "\n\nYour text is attached, to copy.", "file": draft}


#: A take form's custom id says everything needed to handle its submission: the article, and
#: either how the take arrived (``form``) or which take is being edited (``edit``).
FORM_ID = re.compile(r"cf:(?P<article>[a-z0-9_-]{1,28}):(?:form:(?P<source>[a-z]{1,10})|edit:(?P<take_id>[0-9]{1,20}))")


class TakeModal(discord.ui.Modal):
    """A paragraph box for writing a take (or editing one, prefilled).

    The form is *stateless*: it is never kept in memory waiting for its answer. Its custom id
    carries the article and the source (or the take being edited), and :func:`handle_take_form`
    answers the submission from that, so a form a member spends an hour on, or one open across
    a restart, still saves.
    """

    def __init__(self, article: Article, *, max_length: int, source: TakeSource, editing: Take | None = None) -> None:
        verb = "Edit your take" if editing else "Your take"
        title = f"{verb} on {article.title}"
        kind = f"edit:{editing.id}" if editing else f"form:{source}"
        super().__init__(title=title if len(title) <= MODAL_TITLE_LIMIT else title[: MODAL_TITLE_LIMIT - 1] + "…",
                         custom_id=f"cf:{article.command}:{kind}")
        self.text: discord.ui.TextInput[TakeModal] = discord.ui.TextInput(
            label="What do you make of it?", style=discord.TextStyle.paragraph, custom_id="take_text",
            placeholder="Your view, a case (anonymised), a question for the group…",
            max_length=min(max_length, TEXT_INPUT_LIMIT), required=True,
            default=editing.content if editing else None)
        self.add_item(self.text)
        # Finished before it is sent, so discord.py does not keep it waiting: submissions are
        # answered by handle_take_form from the custom id alone.
        self.stop()


def _submitted_text(components: Any) -> str | None:
    """The value of the ``take_text`` input, wherever the payload nests it (rows or labels)."""
    if isinstance(components, list):
        for item in components:
            found = _submitted_text(item)
            if found is not None:
                return found
    elif isinstance(components, dict):
        if components.get("custom_id") == "take_text" and "value" in components:
            return str(components["value"])
        for key in ("components", "component"):
            if key in components:
                found = _submitted_text(components[key])
                if found is not None:
                    return found
    return None


async def handle_take_form(bot: CommonFactorsBot, interaction: discord.Interaction[Any]) -> bool:
    """Answer a submitted take form; ``False`` if the interaction is not one of ours."""
    data: Any = interaction.data or {}
    match = FORM_ID.fullmatch(str(data.get("custom_id", "")))
    if interaction.type is not discord.InteractionType.modal_submit or match is None:
        return False
    text = _submitted_text(data.get("components")) or ""
    article = bot.articles.get(match["article"])
    try:
        if article is None:
            raise NotFound("This article is no longer available on this bot, so the take could not be saved.")
        if match["take_id"] is not None:
            take = await edit_take(bot, guild_id=interaction.guild_id, member=interaction.user,
                                   take_id=int(match["take_id"]), content=text)
            await interaction.response.send_message(f"Updated take **#{take.id}**.", ephemeral=True)
            return True
        source: TakeSource = match["source"] if match["source"] in TAKE_SOURCES else "modal"
        take = await submit_take(bot, guild_id=interaction.guild_id, channel=interaction.channel,
                                 article=article, author=interaction.user, content=text, source=source)
    except UserError as error:
        await interaction.response.send_message(**with_draft(str(error), text), ephemeral=True)
        return True
    await interaction.response.send_message(saved_message(take, article), ephemeral=True)
    return True


async def open_take_modal(interaction: discord.Interaction[Any], article: Article, *, source: TakeSource) -> None:
    """Check what can be checked before the member writes, then show the modal."""
    if interaction.guild_id is None:
        await interaction.response.send_message(
            "Takes belong to a server's discussion, so this works in a server channel, not in DMs.", ephemeral=True)
        return
    bot: CommonFactorsBot = interaction.client
    rules = await rules_for(bot, interaction.guild_id)
    if not rules.allows_channel(interaction.channel):
        await interaction.response.send_message(
            f"Takes on this article are collected in {channels_text(rules)}.", ephemeral=True)
        return
    await interaction.response.send_modal(TakeModal(article, max_length=rules.max_length, source=source))


def article_of_message(bot: CommonFactorsBot, message: discord.Message) -> Article | None:
    """Which article a bot message (overview, summary, pinned summary) is about, if any."""
    for row in message.components:
        for child in getattr(row, "children", [row]):
            custom_id = getattr(child, "custom_id", None) or ""
            parts = custom_id.split(":")
            if len(parts) >= 3 and parts[0] == "cf" and parts[1] in bot.articles:
                return bot.articles[parts[1]]
    for embed in message.embeds:
        for article in bot.articles.values():
            if embed.url == str(article.url) and (embed.title or "").startswith("Summary"):
                return article
    return None
