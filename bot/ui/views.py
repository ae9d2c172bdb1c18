"""Buttons, selects and pagers.

The article buttons and the FAQ picker are *dynamic items*: their custom ids carry the article,
so any message that shows them (the overview, a pinned summary) keeps working after a restart
and for whoever clicks. Pagers belong to the member who asked and expire.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Sequence
from typing import Any, Protocol, cast

import discord
from discord.ext import commands
from discord.ui.select import BaseSelect  # Select and the role, channel, user menus

from bot.article import Article
from bot.citations import CITATION_STYLES, bibliography_entries
from bot.services import ServiceHost
from bot.ui import rendering
from bot.ui.agree import AgreeButton
from bot.ui.base import ReportingItem, ReportingModal, ReportingView
from bot.ui.take_form import open_take_modal
from bot.ui.take_pager import PagerButton

FAQ_OPTIONS_PER_SELECT = 25
PAGER_TIMEOUT = 300.0
#: Custom ids of transient views start with this, then the bot process's boot id.
TRANSIENT_PREFIX = "cfx"


class TransientView(ReportingView):
    """A view that lives only in this bot process (pagers, confirmations, downloads, settings).

    Its custom ids carry the process's boot id, so a click after a restart is recognised and
    answered ("run the command again", see ``cogs.events``) instead of failing silently. Errors in
    its callbacks go through the one interaction error path.
    """

    def __init__(self, *, boot: str, timeout: float | None) -> None:
        super().__init__(timeout=timeout)
        #: The message showing this view, set by whoever sends it, so a timeout can disable it.
        self.message: discord.Message | discord.InteractionMessage | None = None
        for item in self.children:
            if isinstance(item, (discord.ui.Button, BaseSelect)) and getattr(item, "url", None) is None:
                item.custom_id = f"{TRANSIENT_PREFIX}:{boot}:{secrets.token_hex(6)}"

    async def on_timeout(self) -> None:
        """Grey the controls out. The message may be gone or its token expired: then nothing is left to do."""
        for item in self.children:
            if isinstance(item, (discord.ui.Button, BaseSelect)):
                item.disabled = True
        if self.message is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=self)


def is_expired_component(custom_id: str, boot: str) -> bool:
    parts = custom_id.split(":")
    return len(parts) == 3 and parts[0] == TRANSIENT_PREFIX and parts[1] != boot


class PageSource(Protocol):
    @property
    def page_count(self) -> int | None:
        """How many pages, or ``None`` while unknown (keyset-paged lists)."""

    async def page(self, index: int) -> discord.Embed | None:
        """The page at ``index`` (0-based), or ``None`` past the end."""


class StaticPages:
    def __init__(self, embeds: Sequence[discord.Embed]) -> None:
        self.embeds = list(embeds)

    @property
    def page_count(self) -> int | None:
        return len(self.embeds)

    async def page(self, index: int) -> discord.Embed | None:
        return self.embeds[index] if 0 <= index < len(self.embeds) else None


#: The page indicator opens a "Go to page" form from this many pages up.
JUMP_FROM_PAGES = 3


class Paginator(TransientView):
    """First / previous / next / last, driven only by the member who asked."""

    def __init__(self, source: PageSource, *, owner_id: int, boot: str, timeout: float = PAGER_TIMEOUT) -> None:
        super().__init__(boot=boot, timeout=timeout)
        self.source = source
        self.owner_id = owner_id
        self.index = 0
        self._has_next = True
        self._sync_buttons()

    @classmethod
    async def start(cls, source: PageSource, *, owner_id: int, boot: str) -> tuple[discord.Embed, Paginator | None]:
        first = await source.page(0)
        if first is None:
            raise ValueError("a page source must have a first page")
        count = source.page_count
        if count == 1 or (count is None and await source.page(1) is None):
            return first, None
        return first, cls(source, owner_id=owner_id, boot=boot)

    def _sync_buttons(self) -> None:
        count = self.source.page_count
        self.first.disabled = self.previous.disabled = self.index == 0
        self.next.disabled = not self._has_next
        self.last.disabled = count is None or self.index >= count - 1
        self.indicator.label = f"{self.index + 1}/{count}" if count else f"Page {self.index + 1}"
        # With three pages or more, the indicator opens "Go to page"; with fewer, arrows suffice.
        self.indicator.disabled = count is None or count < JUMP_FROM_PAGES

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            "Only the member who ran this command can turn its pages; run it yourself to browse.",
            ephemeral=True)
        return False

    async def _show(self, interaction: discord.Interaction[Any], index: int) -> None:
        embed = await self.source.page(index)
        if embed is None:
            self._has_next = False
            self._sync_buttons()
            await interaction.response.edit_message(view=self)
            return
        self.index = index
        count = self.source.page_count
        self._has_next = (index < count - 1) if count is not None else (await self.source.page(index + 1)) is not None
        self._sync_buttons()
        await interaction.response.edit_message(embed=embed, view=self)

    @discord.ui.button(label="≪", style=discord.ButtonStyle.secondary)
    async def first(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        await self._show(interaction, 0)

    @discord.ui.button(label="‹ Prev", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        await self._show(interaction, max(0, self.index - 1))

    @discord.ui.button(label="1", style=discord.ButtonStyle.secondary, disabled=True)
    async def indicator(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        await interaction.response.send_modal(JumpModal(self))

    @discord.ui.button(label="Next ›", style=discord.ButtonStyle.primary)
    async def next(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        await self._show(interaction, self.index + 1)

    @discord.ui.button(label="≫", style=discord.ButtonStyle.secondary)
    async def last(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        count = self.source.page_count
        await self._show(interaction, (count or 1) - 1)


class JumpModal(ReportingModal, title="Go to page"):
    page: discord.ui.TextInput[JumpModal] = discord.ui.TextInput(label="Page number", min_length=1, max_length=6,
                                                                 custom_id="page")

    def __init__(self, pager: Paginator) -> None:
        super().__init__()
        self.pager = pager
        self.page.placeholder = f"1 to {pager.source.page_count}"

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        count = self.pager.source.page_count or 1
        text = self.page.value.strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= count:
            await interaction.response.send_message(f"Pick a page from 1 to {count}.", ephemeral=True)
            return
        await self.pager._show(interaction, int(text) - 1)


async def send_pages(ctx: commands.Context[Any], source: PageSource | Sequence[discord.Embed], *,
                     ephemeral: bool = False, content: str | None = None) -> discord.Message:
    """Send the first page with a pager if there are more; ephemeral applies to slash only."""
    if isinstance(source, list) and len(source) == 1:  # one page (most answers): nothing to turn
        return await ctx.send(content, ephemeral=ephemeral, embed=source[0])
    pages = StaticPages(source) if isinstance(source, Sequence) else source
    first, pager = await Paginator.start(pages, owner_id=ctx.author.id, boot=ctx.bot.boot_id)
    kwargs: dict[str, Any] = {"embed": first}
    if pager is not None:
        kwargs["view"] = pager
    message = await ctx.send(content, ephemeral=ephemeral, **kwargs)
    if pager is not None:
        pager.message = message
    return message


async def respond_pages(interaction: discord.Interaction[Any], embeds: Sequence[discord.Embed]) -> None:
    """Answer a button or select privately with the pages."""
    host = cast(ServiceHost, interaction.client)
    first, pager = await Paginator.start(StaticPages(embeds), owner_id=interaction.user.id, boot=host.boot_id)
    if pager is None:
        await interaction.response.send_message(embed=first, ephemeral=True)
        return
    await interaction.response.send_message(embed=first, view=pager, ephemeral=True)
    pager.message = await interaction.original_response()


# -- the article's buttons --------------------------------------------------------------------

ACTIONS = {
    "summary": ("Summary", "📄", discord.ButtonStyle.primary),
    "citations": ("Citations", "📚", discord.ButtonStyle.secondary),
    "faq": ("FAQ", "❓", discord.ButtonStyle.secondary),
    "take": ("Add your take", "✍️", discord.ButtonStyle.success),
}


def _article_of(interaction: discord.Interaction[Any], command: str) -> Article | None:
    return cast(ServiceHost, interaction.client).articles.get(command)


async def _article_gone(interaction: discord.Interaction[Any]) -> None:
    await interaction.response.send_message(
        "This article is no longer available on this bot. Ask a moderator to refresh the pinned summary.",
        ephemeral=True)


class ArticleButton(ReportingItem[discord.ui.Button[Any]],
                    template=r"cf:(?P<article>[a-z0-9_-]{1,32}):(?P<action>summary|citations|faq|take)"):
    def __init__(self, article: str, action: str) -> None:
        label, emoji, style = ACTIONS[action]
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style,
                                           custom_id=f"cf:{article}:{action}"))
        self.article = article
        self.action = action

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> ArticleButton:
        return cls(match["article"], match["action"])

    async def act(self, interaction: discord.Interaction[Any]) -> None:
        article = _article_of(interaction, self.article)
        if article is None:
            await _article_gone(interaction)
            return
        if self.action == "summary":
            await respond_pages(interaction, rendering.summary_embeds(article))
        elif self.action == "citations":
            entries = bibliography_entries(article.citations, "apa")
            await respond_pages(interaction, rendering.citation_embeds(article, entries, CITATION_STYLES["apa"]))
        elif self.action == "faq":
            await interaction.response.send_message(embeds=rendering.faq_list_embeds(article)[:1],
                                                    view=faq_picker(article), ephemeral=True)
        else:
            await open_take_modal(interaction, article, source="button")


def article_view(article: Article, *, with_take: bool = True) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in ACTIONS:
        if action != "take" or with_take:
            view.add_item(ArticleButton(article.command, action))
    return view


async def send_overview(ctx: commands.Context[Any], article: Article) -> None:
    await ctx.send(embed=rendering.overview_embed(article), view=article_view(article))


# -- the FAQ picker ---------------------------------------------------------------------------


class FaqSelect(ReportingItem[discord.ui.Select[Any]],
                template=r"cf:(?P<article>[a-z0-9_-]{1,32}):faqpick:(?P<page>[0-9]{1,2})"):
    """Pick a question to read its answer privately; 25 questions per select, as Discord allows."""

    def __init__(self, article: Article | None, page: int, *, command: str | None = None) -> None:
        start = page * FAQ_OPTIONS_PER_SELECT
        faqs = article.faqs[start : start + FAQ_OPTIONS_PER_SELECT] if article else []
        options = [discord.SelectOption(label=rendering._cut(faq.question, 100), value=str(start + n))
                   for n, faq in enumerate(faqs, start=1)]
        if not options:  # the article (or this page of it) is gone since the message was sent
            options = [discord.SelectOption(label="No longer available", value="0")]
        many = article is not None and len(article.faqs) > FAQ_OPTIONS_PER_SELECT
        placeholder = f"Read an answer (questions {start + 1}–{start + len(faqs)})…" if many else "Read an answer…"
        self.article_command = article.command if article else (command or "")
        super().__init__(discord.ui.Select(custom_id=f"cf:{self.article_command}:faqpick:{page}",
                                           placeholder=placeholder, options=options))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> FaqSelect:
        return cls(_article_of(interaction, match["article"]), int(match["page"]), command=match["article"])

    async def act(self, interaction: discord.Interaction[Any]) -> None:
        article = _article_of(interaction, self.article_command)
        number = int(self.item.values[0])
        if article is None or not 1 <= number <= len(article.faqs):
            await _article_gone(interaction)
            return
        await respond_pages(interaction, rendering.faq_embeds(article, number))


def faq_picker(article: Article) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    pages = (len(article.faqs) + FAQ_OPTIONS_PER_SELECT - 1) // FAQ_OPTIONS_PER_SELECT
    for page in range(min(pages, 5)):  # five rows at most; 125 questions
        view.add_item(FaqSelect(article, page))
    return view


def register_persistent_items(bot: discord.Client) -> None:
    bot.add_dynamic_items(ArticleButton, FaqSelect, PagerButton, AgreeButton)
