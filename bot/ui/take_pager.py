"""Stateless pagers for lists of takes (`takes`, `takes @member`, `mytakes`).

Nothing is kept in memory for a listing: every button's custom id says which list it belongs to
(article, whose takes, who may turn the pages) and which page it shows, like the FAQ picker's.
A click reads that one page from the store (one query, whatever the page) and redraws the
message, so a listing works for as long as Discord keeps the message, across restarts, and
a thousand listings cost nothing while no one clicks. Whether names are shown is decided at
each click, so a list opened before a server made takes anonymous stops naming authors.
"""

from __future__ import annotations

import re
from typing import Any, Literal, cast

import discord

from bot.article import Article
from bot.errors import NotAllowed, NotFound, UserError
from bot.services import ServiceHost
from bot.ui import rendering
from bot.ui.base import ReportingItem
from bot.ui.take_form import submitted_value

#: ``all`` takes, one ``member``'s (``takes @member``), the viewer's own (``mytakes``), or the most
#: agreed first (``takes sort:top``).
ListKind = Literal["all", "member", "mine", "top"]
_KINDS: dict[str, ListKind] = {"a": "all", "m": "member", "y": "mine", "t": "top"}
_CODES = {kind: code for code, kind in _KINDS.items()}
#: The page indicator opens a "Go to page" form from this many pages up.
JUMP_FROM_PAGES = 3

#: The list: its article, kind, who may turn its pages, and its subject (the member whose takes a
#: ``member`` list shows; the server of a ``mine`` list, which may be shown in a DM; 0 for ``all``).
_LIST = r"(?P<article>[a-z0-9_-]{1,32}):tp:(?P<kind>[amyt]):(?P<owner>[0-9]{1,20}):(?P<subject>[0-9]{1,20})"
JUMP_FORM_ID = re.compile(r"cf:" + _LIST.replace(":tp:", ":tpjump:"))


class TakeList:
    """Which list a pager shows: enough to draw any of its pages again from the store."""

    def __init__(self, article: str, kind: ListKind, owner_id: int, subject_id: int) -> None:
        self.article = article
        self.kind = kind
        self.owner_id = owner_id
        self.subject_id = subject_id

    @classmethod
    def from_match(cls, match: re.Match[str]) -> TakeList:
        return cls(match["article"], _KINDS[match["kind"]], int(match["owner"]), int(match["subject"]))

    @property
    def key(self) -> str:
        return f"{self.article}:tp:{_CODES[self.kind]}:{self.owner_id}:{self.subject_id}"

    @property
    def author_id(self) -> int | None:
        """Whose takes the list shows (``None``: everyone's)."""
        return {"all": None, "member": self.subject_id, "mine": self.owner_id, "top": None}[self.kind]

    def guild_id(self, guild: discord.Guild | None) -> int:
        """The server of the list: a ``mine`` list says so itself (it may be shown in a DM)."""
        if self.kind == "mine":
            return self.subject_id
        if guild is None:
            raise NotFound("This list belongs to a server.")
        return guild.id

    async def draw(self, host: ServiceHost, guild: discord.Guild | None, viewer: discord.abc.User,
                   page: int | None, *, private: bool) -> tuple[discord.Embed, discord.ui.View | None]:
        """Page ``page`` (``None``: the last), clamped to the pages there are now, as ``viewer``
        may see it now (``private``: the answer is ephemeral)."""
        takes = host.services.takes
        article = host.articles.get(self.article)
        if article is None:
            raise NotFound("This article is no longer available on this bot.")
        guild_id = self.guild_id(guild)
        author = self.author_id
        if self.kind == "mine":  # one's own takes: named, except in a channel of a server gone anonymous
            show_names = private or guild is None or not await takes.anonymous(guild_id)
        else:
            show_names = (await takes.visibility(guild_id, viewer, can_be_private=private)).show_names
            if self.kind == "member" and not show_names:
                raise NotAllowed("Takes are anonymous in this server now, so lists here never name anyone.")
        total = await self.count(host, guild_id)
        pages = max(1, -(-total // rendering.TAKES_PER_PAGE))
        index = pages - 1 if page is None else min(max(page, 0), pages - 1)
        offset = index * rendering.TAKES_PER_PAGE
        meetings = host.services.meetings
        if self.kind == "top":
            shown = await meetings.most_agreed(guild_id, self.article, offset=offset, limit=rendering.TAKES_PER_PAGE)
        else:
            shown = await takes.page(guild_id, self.article, author_id=author, before_id=None, offset=offset,
                                     limit=rendering.TAKES_PER_PAGE)
        agreed = await meetings.agreement_counts(guild_id, [take.id for take in shown])
        embed = rendering.takes_page(self.title(guild, article, shown), shown, page=index, total=total,
                                     show_names=show_names, agreements=agreed,
                                     order="most agreed first" if self.kind == "top" else "newest first")
        return embed, self.view(index, pages) if pages > 1 else None

    async def count(self, host: ServiceHost, guild_id: int) -> int:
        if self.kind == "top":
            return await host.services.meetings.count_agreed(guild_id, self.article)
        return await host.services.takes.count(guild_id, self.article, author_id=self.author_id)

    def title(self, guild: discord.Guild | None, article: Article, shown: list[Any]) -> str:
        if self.kind == "mine":
            return f"Your takes on {article.title}"
        if self.kind == "member":
            member = guild.get_member(self.subject_id) if guild is not None else None
            name = member.display_name if member else (shown[0].author_name if shown else "a member")
            return f"Takes by {name} on {article.title}"
        if self.kind == "top":
            return f"Most agreed takes on {article.title}"
        return f"Takes on {article.title}"

    def view(self, index: int, pages: int) -> discord.ui.View:
        """The five controls for page ``index`` of ``pages``. The view is finished before it is
        sent, so discord.py keeps nothing: the dynamic items answer the clicks."""
        view = discord.ui.View(timeout=None)
        last = index >= pages - 1
        for role, label, target, disabled, style in (
            ("f", "≪", 0, index == 0, discord.ButtonStyle.secondary),
            ("p", "‹ Prev", max(0, index - 1), index == 0, discord.ButtonStyle.secondary),
            ("j", f"{index + 1}/{pages}", index, pages < JUMP_FROM_PAGES, discord.ButtonStyle.secondary),
            ("n", "Next ›", index + 1, last, discord.ButtonStyle.primary),
            ("l", "≫", pages - 1, last, discord.ButtonStyle.secondary),
        ):
            view.add_item(PagerButton(self, role, target, label=label, disabled=disabled, style=style))
        view.stop()
        return view


class PagerButton(ReportingItem[discord.ui.Button[Any]],
                  template=r"cf:" + _LIST + r":(?P<role>[fpjnl])(?P<page>[0-9]{1,7})"):
    def __init__(self, listing: TakeList, role: str, page: int, *, label: str = "", disabled: bool = False,
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary) -> None:
        super().__init__(discord.ui.Button(label=label, style=style, disabled=disabled,
                                           custom_id=f"cf:{listing.key}:{role}{page}"))
        self.listing = listing
        self.role = role
        self.page = page

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> PagerButton:
        return cls(TakeList.from_match(match), match["role"], int(match["page"]))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.listing.owner_id:
            return True
        await interaction.response.send_message(
            "Only the member who ran this command can turn its pages; run it yourself to browse.", ephemeral=True)
        return False

    async def act(self, interaction: discord.Interaction[Any]) -> None:
        if self.role == "j":
            await interaction.response.send_modal(JumpForm(self.listing))
            return
        await show_page(interaction, self.listing, None if self.role == "l" else self.page)


class JumpForm(discord.ui.Modal):
    """"Go to page": answered from its custom id by :func:`handle_jump_form`, never kept in memory."""

    def __init__(self, listing: TakeList) -> None:
        super().__init__(title="Go to page", custom_id=f"cf:{listing.key.replace(':tp:', ':tpjump:')}")
        self.add_item(discord.ui.TextInput(label="Page number", min_length=1, max_length=7, custom_id="page"))
        self.stop()


async def show_page(interaction: discord.Interaction[Any], listing: TakeList, page: int | None) -> None:
    private = bool(interaction.message and interaction.message.flags.ephemeral)
    embed, view = await listing.draw(cast(ServiceHost, interaction.client), interaction.guild, interaction.user,
                                     page, private=private)
    await interaction.response.edit_message(embed=embed, view=view)


async def handle_jump_form(interaction: discord.Interaction[Any]) -> bool:
    """Answer a submitted "Go to page" form; ``False`` if the interaction is not one of ours."""
    data: Any = interaction.data or {}
    match = JUMP_FORM_ID.fullmatch(str(data.get("custom_id", "")))
    if interaction.type is not discord.InteractionType.modal_submit or match is None:
        return False
    listing = TakeList.from_match(match)
    text = (submitted_value(data.get("components"), "page") or "").strip()
    host = cast(ServiceHost, interaction.client)
    total = await listing.count(host, listing.guild_id(interaction.guild))
    pages = max(1, -(-total // rendering.TAKES_PER_PAGE))
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= pages:
        raise UserError(f"Pick a page from 1 to {pages}.")
    await show_page(interaction, listing, int(text) - 1)
    return True
