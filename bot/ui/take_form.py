"""The take form: a paragraph box to write (or edit) a take, answered from its custom id.

The form is *stateless*: it is never kept in memory waiting for its answer. Its custom id
carries the article and the source (or the take being edited), and :func:`handle_take_form`
answers the submission from that, so a form a member spends an hour on, or one open across a
restart, still saves.
"""

from __future__ import annotations

import io
import re
from typing import Any, cast

import discord

from bot.article import Article
from bot.errors import NotFound, UserError
from bot.services import ServiceHost
from bot.signing import IdSigner
from bot.storage import TAKE_SOURCES, Take, TakeSource
from bot.takes import GUILD_ONLY, channels_text, saved_message
from bot.text import printable
from bot.ui.delivery import confirm_interaction

MODAL_TITLE_LIMIT = 45
#: Discord's own ceiling for a text input; per-guild limits sit below it.
TEXT_INPUT_LIMIT = 4000

#: A take form's custom id says everything needed to handle its submission: the article, and
#: either how the take arrived (``form``) or which take is being edited (``edit``). An edit form
#: names a take, so its id is signed (:mod:`bot.signing`); whose take it may be and in which
#: server still follow from who submits it, and where.
FORM_ID = re.compile(r"cf:(?P<article>[a-z0-9_-]{1,28}):(?:form:(?P<source>[a-z]{1,10})|edit:(?P<take_id>[0-9]{1,20}))")
#: An edit form's id before its signature is checked.
EDIT_FAMILY = re.compile(r"cf:[a-z0-9_-]{1,28}:edit:[!-~]{1,80}")
EDIT_TAMPERED = "This form is out of date or was altered, so nothing was changed. Run the edit command again."


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


class TakeModal(discord.ui.Modal):
    """A paragraph box for writing a take (or editing one, prefilled)."""

    def __init__(self, article: Article, *, max_length: int, source: TakeSource, editing: Take | None = None,
                 signer: IdSigner | None = None) -> None:
        verb = "Edit your take" if editing else "Your take"
        title = f"{verb} on {article.title}"
        custom_id = f"cf:{article.command}:form:{source}"
        if editing is not None:
            if signer is None:
                raise ValueError("an edit form names a take, so its id must be signed")
            custom_id = signer.sign(f"cf:{article.command}:edit:{editing.id}")
        super().__init__(title=title if len(title) <= MODAL_TITLE_LIMIT else title[: MODAL_TITLE_LIMIT - 1] + "…",
                         custom_id=custom_id)
        self.text: discord.ui.TextInput[TakeModal] = discord.ui.TextInput(
            label="What do you make of it?", style=discord.TextStyle.paragraph, custom_id="take_text",
            placeholder="Your view, a case (anonymised), a question for the group…",
            max_length=min(max_length, TEXT_INPUT_LIMIT), required=True,
            default=editing.content if editing else None)
        self.add_item(self.text)
        # Finished before it is sent, so discord.py does not keep it waiting: submissions are
        # answered by handle_take_form from the custom id alone.
        self.stop()


def submitted_value(components: Any, custom_id: str = "take_text") -> str | None:
    """The value of a form's input, wherever the payload nests it (rows or labels)."""
    if isinstance(components, list):
        for item in components:
            found = submitted_value(item, custom_id)
            if found is not None:
                return found
    elif isinstance(components, dict):
        if components.get("custom_id") == custom_id and "value" in components:
            return str(components["value"])
        for key in ("components", "component"):
            if key in components:
                found = submitted_value(components[key], custom_id)
                if found is not None:
                    return found
    return None


async def handle_take_form(interaction: discord.Interaction[Any]) -> bool:
    """Answer a submitted take form; ``False`` if the interaction is not one of ours."""
    data: Any = interaction.data or {}
    custom_id = str(data.get("custom_id", ""))
    if interaction.type is not discord.InteractionType.modal_submit:
        return False
    host = cast(ServiceHost, interaction.client)
    takes = host.services.takes
    text = submitted_value(data.get("components")) or ""
    if EDIT_FAMILY.fullmatch(custom_id):  # refused before it is read, the member's words handed back
        signed = host.services.signer.verify(custom_id)
        match = FORM_ID.fullmatch(signed) if signed is not None else None
        if match is None or match["take_id"] is None:
            await interaction.response.send_message(**with_draft(EDIT_TAMPERED, text), ephemeral=True)
            return True
    else:
        match = FORM_ID.fullmatch(custom_id)
        if match is None or match["take_id"] is not None:
            return False
    article = host.articles.get(match["article"])
    try:
        if article is None:
            raise NotFound("This article is no longer available on this bot, so the take could not be saved.")
        if match["take_id"] is not None:
            take = await takes.edit(guild_id=interaction.guild_id, member=interaction.user,
                                    take_id=int(match["take_id"]), content=text)
            host.services.quotes.wake()  # cards and lists that show it are redrawn
            await confirm_interaction(interaction, f"Updated take **#{take.id}**.")
            return True
        source: TakeSource = match["source"] if match["source"] in TAKE_SOURCES else "modal"
        take = await takes.submit(guild_id=interaction.guild_id, channel=interaction.channel, article=article,
                                  author=interaction.user, content=text, source=source)
    except UserError as error:
        await interaction.response.send_message(**with_draft(str(error), text), ephemeral=True)
        return True
    await confirm_interaction(interaction, saved_message(take, article))
    return True


async def open_take_modal(interaction: discord.Interaction[Any], article: Article, *, source: TakeSource) -> None:
    """Check what can be checked before the member writes, then show the modal."""
    if interaction.guild_id is None:
        await interaction.response.send_message(GUILD_ONLY, ephemeral=True)
        return
    host = cast(ServiceHost, interaction.client)
    rules = await host.services.takes.rules_for(interaction.guild_id)
    if not rules.allows_channel(interaction.channel):
        await interaction.response.send_message(
            f"Takes on this article are collected in {channels_text(rules)}.", ephemeral=True)
        return
    await interaction.response.send_modal(TakeModal(article, max_length=rules.max_length, source=source))


def article_of_message(articles: dict[str, Article], message: discord.Message) -> Article | None:
    """Which article a bot message (overview, summary, pinned summary) is about, if any."""
    for row in message.components:
        for child in getattr(row, "children", [row]):
            custom_id = getattr(child, "custom_id", None) or ""
            parts = custom_id.split(":")
            if len(parts) >= 3 and parts[0] == "cf" and parts[1] in articles:
                return articles[parts[1]]
    for embed in message.embeds:
        for article in articles.values():
            if embed.url == str(article.url) and (embed.title or "").startswith("Summary"):
                return article
    return None
