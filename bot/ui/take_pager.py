"""Stateless pagers for lists of takes (`takes`, `takes @member`, `mytakes`).

Nothing is kept in memory for a listing: every button's custom id says which list it belongs to
(article, whose takes, who may turn the pages) and which page it shows, like the FAQ picker's.
A click reads that one page from the store and redraws the message. "Next ›" and "‹ Prev" carry
the edge of the page they were drawn under (its last or first take's id) and read the page beside
it from there (a keyset: the cost of a page wherever it is); "≪" and "≫" read from the newest or
the oldest take; "Go to page" skips ids in the index from the nearer end. So a listing works
for as long as Discord keeps the message, across restarts, and
a thousand listings cost nothing while no one clicks. Whether names are shown is decided at
each click, so a list opened before a server made takes anonymous stops naming authors.

The ids of the buttons and of the "Go to page" form are signed (:mod:`bot.signing`): an id the
bot did not make is refused before any field of it is read. Signed or not, the fields only say
*what* to show; who may turn the pages and which server's takes are shown follow from the
interaction (who pressed, and where).
"""

from __future__ import annotations

import contextlib
import re
from typing import Any, Literal, NamedTuple, cast

import discord

from bot import quotes
from bot.article import Article
from bot.errors import NotAllowed, NotFound, UserError
from bot.services import ServiceHost
from bot.signing import CUSTOM_ID_LIMIT, TAG_LENGTH, IdSigner
from bot.storage import Take
from bot.takes import TakeService
from bot.ui import rendering
from bot.ui.base import ReportingItem
from bot.ui.reporting import answer_interaction as answer_privately
from bot.ui.take_form import submitted_value

#: ``all`` takes, one ``member``'s (``takes @member``), the viewer's own (``mytakes``), or the most
#: agreed first (``takes sort:top``).
ListKind = Literal["all", "member", "mine", "top"]
_KINDS: dict[str, ListKind] = {"a": "all", "m": "member", "y": "mine", "t": "top"}
_CODES = {kind: code for code, kind in _KINDS.items()}
#: Where a pager button's page lies: just older (``before``) or newer (``after``) than this take.
Edge = tuple[Literal["before", "after"], int]
#: The page indicator opens a "Go to page" form from this many pages up.
JUMP_FROM_PAGES = 3

#: The list: its article, kind, who may turn its pages, and its subject (the member whose takes a
#: ``member`` list shows; the server of a ``mine`` list, which may be shown in a DM; 0 for ``all``).
#: Ids are in base 36 so that the longest signed id fits Discord's 100 characters.
_ID36 = r"[0-9a-z]{1,13}"
_ARTICLE = r"(?P<article>[a-z0-9_-]{1,32})"
_WHO = rf"(?P<owner>{_ID36}):(?P<subject>{_ID36})"
#: A button's id, once its signature is checked: the list, the button's role, its page and, for
#: "Next ›" and "‹ Prev", the edge of the page it was drawn under (when the id has room for it).
BUTTON_BODY = re.compile(rf"cf:{_ARTICLE}:tp:(?P<kind>[amyt])(?P<role>[fpjnl]):{_WHO}:(?P<page>[0-9]{{1,7}})"
                         rf"(?::(?P<edge>{_ID36}))?")
#: A "Go to page" form's id, once its signature is checked.
JUMP_FORM_BODY = re.compile(rf"cf:{_ARTICLE}:tpjump:(?P<kind>[amyt]):{_WHO}")
#: What is recognised as ours before the signature is checked (and then refused if it fails).
BUTTON_FAMILY = r"cf:[a-z0-9_-]{1,32}:tp:[!-~]{1,80}"
JUMP_FORM_FAMILY = re.compile(r"cf:[a-z0-9_-]{1,32}:tpjump:[!-~]{1,80}")
#: What a "Your takes" list posted in a channel says once the server made takes anonymous.
WITHDRAWN = "This list was withdrawn: takes in this server are anonymous now."
WITHDRAWN_ANSWER = "Takes here are anonymous now, so your list is shown only to you."
TAMPERED = ("These controls are out of date or were altered, so they do nothing. "
            "Run the command again for a fresh list.")
NOT_YOURS = "Only the member who ran this command can turn its pages; run it yourself to browse."
FOREIGN_LIST = "This list belongs to another server; run the command here for this server's."


class DrawnPage(NamedTuple):
    embed: discord.Embed
    view: discord.ui.View | None
    #: The takes the page shows, to remember (:mod:`bot.quotes`).
    take_ids: list[int]


class TakeList:
    """Which list a pager shows: enough to draw any of its pages again from the store."""

    def __init__(self, article: str, kind: ListKind, owner_id: int, subject_id: int) -> None:
        self.article = article
        self.kind = kind
        self.owner_id = owner_id
        self.subject_id = subject_id

    @classmethod
    def from_match(cls, match: re.Match[str]) -> TakeList:
        return cls(match["article"], _KINDS[match["kind"]], int(match["owner"], 36), int(match["subject"], 36))

    def button_id(self, signer: IdSigner, role: str, page: int, edge: int | None = None) -> str:
        body = f"cf:{self.article}:tp:{_CODES[self.kind]}{role}:{self._who}:{page}"
        with_edge = f"{body}:{base36(edge)}" if edge is not None else body
        # The edge only saves work: an id without room for it (a long article name and page
        # number) turns the page by its number instead.
        return signer.sign(with_edge if len(with_edge) + 1 + TAG_LENGTH <= CUSTOM_ID_LIMIT else body)

    def jump_form_id(self, signer: IdSigner) -> str:
        return signer.sign(f"cf:{self.article}:tpjump:{_CODES[self.kind]}:{self._who}")

    @property
    def _who(self) -> str:
        return f"{base36(self.owner_id)}:{base36(self.subject_id)}"

    @property
    def author_id(self) -> int | None:
        """Whose takes the list shows (``None``: everyone's)."""
        return {"all": None, "member": self.subject_id, "mine": self.owner_id, "top": None}[self.kind]

    def guild_id(self, guild: discord.Guild | None) -> int:
        """The server of the list: where it is pressed. Only a ``mine`` list shown in a DM (where
        there is no server) takes its server from the list; pressed in a server, it must be that one."""
        if guild is not None:
            if self.kind == "mine" and guild.id != self.subject_id:
                raise NotAllowed(FOREIGN_LIST)
            return guild.id
        if self.kind == "mine":
            return self.subject_id
        raise NotFound("This list belongs to a server.")

    async def admit(self, interaction: discord.Interaction[Any]) -> bool:
        """Whether whoever pressed (or submitted) may turn this list's pages: only the member who
        asked for it, judged from the interaction. Anyone else gets one private line."""
        if interaction.user.id == self.owner_id:
            return True
        await answer_privately(interaction, NOT_YOURS)
        return False

    async def draw(self, host: ServiceHost, guild: discord.Guild | None, viewer: discord.abc.User,
                   page: int | None, *, private: bool, edge: Edge | None = None) -> DrawnPage:
        """Page ``page`` (``None``: the last), clamped to the pages there are now, as ``viewer``
        may see it now (``private``: the answer is ephemeral). ``edge``: the page is the one just
        older (``"before"``) or newer (``"after"``) than that take, as a pager button says."""
        takes = host.services.takes
        article = host.articles.get(self.article)
        if article is None:
            raise NotFound("This article is no longer available on this bot.")
        guild_id = self.guild_id(guild)
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
            # The first page is always the newest takes (its indicator says so); others come from the edge.
            shown = await self.takes_on_page(takes, guild_id, index, total, edge if 0 < index == page else None)
        agreed = await meetings.agreement_counts(guild_id, [take.id for take in shown])
        embed = rendering.takes_page(self.title(guild, article, shown), shown, page=index, total=total,
                                     show_names=show_names, agreements=agreed,
                                     order="most agreed first" if self.kind == "top" else "newest first")
        view = self.view(host.services.signer, index, pages, shown) if pages > 1 else None
        return DrawnPage(embed, view, [take.id for take in shown])

    async def takes_on_page(self, takes: TakeService, guild_id: int, index: int, total: int,
                            edge: Edge | None) -> list[Take]:
        """Page ``index`` of a list of ``total`` takes, newest first. From a button's edge when it
        has one (the list changed since: the page beside the shown one, or by number if that is
        empty or short); else from the nearer end, the ids before the page skipped in the index.
        Whatever the edge says, the list is this guild's and this list's author's: a page shows
        only takes the viewer may see."""
        size = rendering.TAKES_PER_PAGE
        author = self.author_id
        if edge is not None:
            side, take_id = edge
            shown = await takes.page(guild_id, self.article, author_id=author, limit=size,
                                     before_id=take_id if side == "before" else None,
                                     after_id=take_id if side == "after" else None)
            if len(shown) == size or (shown and side == "before"):
                return shown
        offset = index * size
        if offset <= total - offset - size:  # nearer the newest take
            return await takes.page(guild_id, self.article, author_id=author, before_id=None, offset=offset,
                                    limit=size)
        on_page = max(1, min(size, total - offset))  # nearer the oldest: counted up from it
        return await takes.page(guild_id, self.article, author_id=author, before_id=None, after_id=0,
                                offset=max(0, total - offset - on_page), limit=on_page)

    @property
    def quote_kind(self) -> str:
        """How a message showing this list quotes takes (see :mod:`bot.quotes`)."""
        return quotes.listing_kind(self.kind)

    async def remember(self, host: ServiceHost, message: Any, drawn: DrawnPage) -> None:
        """The message now shows this page: erasing one of its takes must reach it."""
        await host.services.quotes.remember(message, drawn.take_ids, self.quote_kind,
                                            guild_id=self.subject_id if self.kind == "mine" else None)

    async def singles_out_its_owner(self, host: ServiceHost, guild: discord.Guild | None) -> bool:
        """Whether showing this list in a server's channel would say whose takes these are: a
        "Your takes" list, once the server has made takes anonymous."""
        return self.kind == "mine" and guild is not None and await host.services.takes.anonymous(guild.id)

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

    def view(self, signer: IdSigner, index: int, pages: int, shown: list[Any] | None = None) -> discord.ui.View:
        """The five controls for page ``index`` of ``pages`` (showing ``shown``, newest first:
        "‹ Prev" and "Next ›" carry its edges). The view is finished before it is sent, so
        discord.py keeps nothing: the dynamic items answer the clicks."""
        view = discord.ui.View(timeout=None)
        last = index >= pages - 1
        keyset = bool(shown) and self.kind != "top"
        for role, label, target, disabled, style, edge in (
            ("f", "≪", 0, index == 0, discord.ButtonStyle.secondary, None),
            ("p", "‹ Prev", max(0, index - 1), index == 0, discord.ButtonStyle.secondary,
             shown[0].id if keyset and shown else None),
            ("j", f"{index + 1}/{pages}", index, pages < JUMP_FROM_PAGES, discord.ButtonStyle.secondary, None),
            ("n", "Next ›", index + 1, last, discord.ButtonStyle.primary, shown[-1].id if keyset and shown else None),
            ("l", "≫", pages - 1, last, discord.ButtonStyle.secondary, None),
        ):
            view.add_item(PagerButton(self.button_id(signer, role, target, edge), self, role, target, label=label,
                                      disabled=disabled, style=style))
        view.stop()
        return view


class PagerButton(ReportingItem[discord.ui.Button[Any]], template=BUTTON_FAMILY):
    """A pager's button. ``listing`` is ``None`` for an id that failed its signature check: the
    press is answered with :data:`TAMPERED` and nothing else."""

    def __init__(self, custom_id: str, listing: TakeList | None, role: str = "", page: int = 0, *,
                 label: str = "", disabled: bool = False, style: discord.ButtonStyle = discord.ButtonStyle.secondary,
                 edge: Edge | None = None) -> None:
        super().__init__(discord.ui.Button(label=label, style=style, disabled=disabled, custom_id=custom_id))
        self.listing = listing
        self.role = role
        self.page = page
        self.edge = edge

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> PagerButton:
        custom_id = match.string
        body = verified_body(interaction, custom_id, BUTTON_BODY)
        if body is None:
            return cls(custom_id, None)
        edge: Edge | None = None
        if body["edge"] is not None and body["role"] in "np":
            edge = ("before" if body["role"] == "n" else "after", int(body["edge"], 36))
        return cls(custom_id, TakeList.from_match(body), body["role"], int(body["page"]), edge=edge)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if self.listing is None:
            await answer_privately(interaction, TAMPERED)
            return False
        return await self.listing.admit(interaction)

    async def act(self, interaction: discord.Interaction[Any]) -> None:
        assert self.listing is not None  # refused by interaction_check
        if self.role == "j":
            signer = cast(ServiceHost, interaction.client).services.signer
            await interaction.response.send_modal(JumpForm(self.listing, signer))
            return
        await show_page(interaction, self.listing, None if self.role == "l" else self.page, self.edge)


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = digits[digit] + text
        if number == 0:
            return text


def verified_body(interaction: discord.Interaction[Any], custom_id: str, body: re.Pattern[str]) -> re.Match[str] | None:
    """The fields of a signed id, or ``None`` when its signature fails (or, signed, it is not of
    this family): nothing of an unsigned id is read."""
    signed = cast(ServiceHost, interaction.client).services.signer.verify(custom_id)
    return body.fullmatch(signed) if signed is not None else None


class JumpForm(discord.ui.Modal):
    """"Go to page": answered from its custom id by :func:`handle_jump_form`, never kept in memory."""

    def __init__(self, listing: TakeList, signer: IdSigner) -> None:
        super().__init__(title="Go to page", custom_id=listing.jump_form_id(signer))
        self.add_item(discord.ui.TextInput(label="Page number", min_length=1, max_length=7, custom_id="page"))
        self.stop()


async def show_page(interaction: discord.Interaction[Any], listing: TakeList, page: int | None,
                    edge: Edge | None = None) -> None:
    host = cast(ServiceHost, interaction.client)
    private = bool(interaction.message and interaction.message.flags.ephemeral)
    if not private and await listing.singles_out_its_owner(host, interaction.guild):
        await show_privately_instead(interaction, listing, page, edge)
        return
    drawn = await listing.draw(host, interaction.guild, interaction.user, page, private=private, edge=edge)
    await interaction.response.edit_message(embed=drawn.embed, view=drawn.view)
    if not private:
        await listing.remember(host, interaction.message, drawn)


async def show_privately_instead(interaction: discord.Interaction[Any], listing: TakeList, page: int | None,
                                 edge: Edge | None = None) -> None:
    """A "Your takes" list in the channel of a server that has since made takes anonymous: the page
    goes to its owner alone, and the message in the channel stops showing their takes."""
    host = cast(ServiceHost, interaction.client)
    embed, view, _ = await listing.draw(host, interaction.guild, interaction.user, page, private=True, edge=edge)
    if view is None:
        await interaction.response.send_message(WITHDRAWN_ANSWER, embed=embed, ephemeral=True)
    else:
        await interaction.response.send_message(WITHDRAWN_ANSWER, embed=embed, view=view, ephemeral=True)
    if interaction.message is not None:
        with contextlib.suppress(discord.HTTPException):  # gone, or no longer ours to edit: nothing shows then
            await interaction.message.edit(content=WITHDRAWN, embed=None, view=None,
                                           allowed_mentions=discord.AllowedMentions.none())
        await host.services.quotes.forget(interaction.message.id)


async def handle_jump_form(interaction: discord.Interaction[Any]) -> bool:
    """Answer a submitted "Go to page" form; ``False`` if the interaction is not one of ours."""
    data: Any = interaction.data or {}
    custom_id = str(data.get("custom_id", ""))
    if interaction.type is not discord.InteractionType.modal_submit or not JUMP_FORM_FAMILY.fullmatch(custom_id):
        return False
    match = verified_body(interaction, custom_id, JUMP_FORM_BODY)
    if match is None:
        await answer_privately(interaction, TAMPERED)
        return True
    listing = TakeList.from_match(match)
    # A form's custom id is whatever the client sends: it is checked exactly as the button that
    # opens it (who submits it, and where), before anything is read.
    if not await listing.admit(interaction):
        return True
    text = (submitted_value(data.get("components"), "page") or "").strip()
    host = cast(ServiceHost, interaction.client)
    total = await listing.count(host, listing.guild_id(interaction.guild))
    pages = max(1, -(-total // rendering.TAKES_PER_PAGE))
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= pages:
        raise UserError(f"Pick a page from 1 to {pages}.")
    await show_page(interaction, listing, int(text) - 1)
    return True
