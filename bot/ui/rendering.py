"""Pure rendering: an article (or takes) in, Discord embeds and text out.

Every function here keeps to Discord's limits by splitting into pages, never by cutting a
sentence off: a page is a whole embed that fits, and callers page through them.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import discord

from bot.article import FAQ, Article, Citation
from bot.citations import by_role, cite_in_text, role_heading, role_keyword, work_noun

# Discord's documented limits.
MESSAGE_LIMIT = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
EMBED_FOOTER = 2048
EMBED_AUTHOR = 256
EMBED_TOTAL = 6000

#: What a page's description may hold: below the limit, so a footer and title always fit.
PAGE_BUDGET = 3900
COLOUR = discord.Colour(0x4E7D96)


def _cut(text: str, limit: int) -> str:
    """For single-line labels only (titles, button labels): cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Split at paragraph, then line, then sentence, then word boundaries; hard-cut only a
    single "word" longer than the limit (a URL, say)."""
    if limit < 1:
        raise ValueError("limit must be positive")
    if len(text) <= limit:
        return [text]
    for pattern in (r"(?<=\n\n)", r"(?<=\n)", r"(?<=[.!?])\s+", r"\s+"):
        pieces = [p for p in re.split(pattern, text) if p]
        if len(pieces) > 1:
            break
    else:
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        for part in split_text(piece, limit) if len(piece) > limit else [piece]:
            joiner = "" if not current or current.endswith(("\n", " ")) else " "
            if len(current) + len(joiner) + len(part) <= limit:
                current += joiner + part
            else:
                if current.strip():
                    chunks.append(current.rstrip())
                current = part
    if current.strip():
        chunks.append(current.rstrip())
    return chunks


def pack_blocks(blocks: Iterable[str], limit: int = PAGE_BUDGET) -> list[str]:
    """Join blocks with blank lines into as few pages as fit, splitting oversized blocks."""
    pages: list[str] = []
    current = ""
    for block in blocks:
        for part in split_text(block, limit):
            candidate = f"{current}\n\n{part}" if current else part
            if len(candidate) <= limit:
                current = candidate
            else:
                pages.append(current)
                current = part
    if current:
        pages.append(current)
    return pages or [""]


def paged_embeds(title: str, blocks: Iterable[str], *, url: str | None = None,
                 footer: str | None = None) -> list[discord.Embed]:
    pages = pack_blocks(blocks)
    embeds = []
    for number, page in enumerate(pages, start=1):
        suffix = f" ({number}/{len(pages)})" if len(pages) > 1 else ""
        embed = discord.Embed(title=_cut(title, EMBED_TITLE - len(suffix)) + suffix, description=page,
                              colour=COLOUR, url=url)
        if footer:
            embed.set_footer(text=_cut(footer, EMBED_FOOTER))
        embeds.append(embed)
    return embeds


def within_limits(embed: discord.Embed) -> bool:
    if len(embed) > EMBED_TOTAL or len(embed.fields) > EMBED_FIELDS:
        return False
    if embed.title and len(embed.title) > EMBED_TITLE:
        return False
    if embed.description and len(embed.description) > EMBED_DESCRIPTION:
        return False
    if embed.footer.text and len(embed.footer.text) > EMBED_FOOTER:
        return False
    if embed.author.name and len(embed.author.name) > EMBED_AUTHOR:
        return False
    return all(len(f.name or "") <= FIELD_NAME and len(f.value or "") <= FIELD_VALUE for f in embed.fields)


# -- the article ------------------------------------------------------------------------


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def published_label(article: Article) -> str:
    d = article.published
    return f"{d.day} {d:%B %Y}"


def byline(article: Article) -> str:
    return f"{article.author} · {published_label(article)}"


def overview_embed(article: Article) -> discord.Embed:
    embed = discord.Embed(title=_cut(article.title, EMBED_TITLE), url=str(article.url),
                          description=article.short_summary, colour=COLOUR)
    embed.set_author(name=_cut(byline(article), EMBED_AUTHOR))
    if article.title_note:
        embed.add_field(name="About the title", value=_cut(article.title_note, FIELD_VALUE), inline=False)
    counts = [plural(len(article.key_points), "key point"),
              plural(len(article.discussion_questions), "discussion question"),
              *reading_counts(article), plural(len(article.faqs), "FAQ")]
    embed.add_field(name="In this pack", value=" · ".join(counts), inline=False)
    embed.set_footer(text=f"Use the buttons below, or /{article.command} help for every command.")
    return embed


def reading_counts(article: Article) -> list[str]:
    """The reading list counted group by group, so the post's own references are never inflated
    by the works its comments name or by the moderators' further reading."""
    noun = work_noun(article.citations)
    count = {role: sum(c.role == role for c in article.citations) for role in ("cited", "mentioned", "background")}
    named = f"named in the {noun} or its comments" if noun == "post" else f"named in the {noun}"
    counts = [f"{plural(count['cited'], 'reference')} cited by the {noun}" if count["cited"] else "",
              f"{plural(count['mentioned'], 'work')} {named}" if count["mentioned"] else "",
              f"{plural(count['background'], 'work')} of further reading added by the moderators"
              if count["background"] else ""]
    return [text for text in counts if text]


def title_caveat(article: Article) -> str:
    """A small line under the title wherever it stands as a reference, if it is unverified."""
    return f"\n-# {article.title_note}" if article.title_note else ""


#: How many rendered answers :func:`_kept_per_article` keeps (an article's summary and each FAQ).
KEPT_RENDERINGS = 256


_Snapshot = tuple[tuple[str, Any], ...]


def _snapshot(embed: discord.Embed) -> _Snapshot:
    """The attributes ``embed`` has set, to make copies of with :func:`_from_snapshot`."""
    return tuple((slot, getattr(embed, slot)) for slot in discord.Embed.__slots__ if hasattr(embed, slot))


def _from_snapshot(snapshot: _Snapshot) -> discord.Embed:
    """A new Embed sharing nothing a caller can change in place with the others made from the
    same snapshot (its footer, author, image and fields are copied); faster than
    ``Embed.from_dict``, which parses every field again."""
    embed = discord.Embed.__new__(discord.Embed)
    for slot, value in snapshot:
        if value.__class__ is dict:
            value = value.copy()
        elif value.__class__ is list:
            value = [item.copy() if item.__class__ is dict else item for item in value]
        setattr(embed, slot, value)
    return embed


def _kept_per_article(render: Callable[..., list[discord.Embed]]) -> Callable[..., list[discord.Embed]]:
    """Remember what ``render(article, *args)`` gave for the same article object and arguments:
    an article is immutable once loaded (a reload makes a new object), and its summary and FAQ
    answers are asked for again and again (measured: 9 and 14 µs a rendering, about a twentieth
    of a command's own cost). Each caller gets copies (:func:`_from_snapshot`), so nothing it
    changes on them reaches the next one; beyond :data:`KEPT_RENDERINGS` the first kept goes."""
    kept: dict[tuple[Any, ...], tuple[Article, list[_Snapshot]]] = {}

    @functools.wraps(render)
    def rendered(article: Article, *args: Any) -> list[discord.Embed]:
        key = (id(article), *args)
        entry = kept.get(key)
        if entry is None or entry[0] is not article:  # (an id can be reused once an article is gone)
            kept.pop(key, None)
            if len(kept) >= KEPT_RENDERINGS:
                del kept[next(iter(kept))]
            entry = kept[key] = (article, [_snapshot(embed) for embed in render(article, *args)])
        return [_from_snapshot(snapshot) for snapshot in entry[1]]

    return rendered


@_kept_per_article
def summary_embeds(article: Article) -> list[discord.Embed]:
    blocks = [f"**{article.title}**\n{byline(article)}\n<{article.url}>{title_caveat(article)}"]
    if article.comments_summary:  # what the article says, then what its comments added
        blocks += [f"**The {work_noun(article.citations)}**\n{article.summary}",
                   f"**In the comments**\n{article.comments_summary}"]
    else:
        blocks.append(article.summary)
    blocks.append("**Key points**\n" + "\n".join(f"• {p}" for p in article.key_points))
    if article.discussion_questions:
        blocks.append("**For discussion**\n" + "\n".join(
            f"{n}. {q}" for n, q in enumerate(article.discussion_questions, start=1)))
    return paged_embeds(f"Summary: {article.title}", blocks, url=str(article.url))


def source_line(article: Article, citation: Citation) -> str:
    """A FAQ source: its APA in-text form and why it is in the pack (is it the post's own?)."""
    noun = work_noun(article.citations)
    why = (f"further reading, not cited by the {noun}" if citation.role == "background"
           else role_keyword(citation.role, noun).lower())
    return f"{cite_in_text(citation, article.citations, narrative=True)} · {why}"


def citation_embeds(article: Article, entries: Sequence[tuple[Citation, str]], style_label: str) -> list[discord.Embed]:
    """The reference list in groups (the article itself, what it cites, what it names, further
    reading), each in reference-list order; a citation's ``note`` (what could not be verified)
    stands under it."""
    noun = work_noun([c for c, _ in entries])
    blocks: list[str] = []
    for role, group in by_role(entries, lambda entry: entry[0].role):
        for index, (citation, text) in enumerate(group):
            block = f"{text}\n-# Note: {citation.note}" if citation.note else text
            blocks.append(f"**{role_heading(role, noun)}**\n{block}" if index == 0 else block)
    return paged_embeds(f"Citations ({style_label}): {article.title}", blocks or ["No references."],
                        url=str(article.url), footer="Notes under a reference say which details are unverified.")


def faq_list_embeds(article: Article) -> list[discord.Embed]:
    if not article.faqs:
        return paged_embeds(f"FAQ: {article.title}", ["This article has no FAQs yet."])
    lines = [f"`{n:>2}.` {faq.question}" for n, faq in enumerate(article.faqs, start=1)]
    return paged_embeds(f"FAQ: {article.title}", ["\n".join(lines)],
                        footer=f"/{article.command} faq <number or words> shows an answer.")


@_kept_per_article
def faq_embeds(article: Article, number: int) -> list[discord.Embed]:
    faq: FAQ = article.faqs[number - 1]
    blocks = [faq.answer]
    if faq.sources:
        sources = [source_line(article, article.citation(key)) for key in faq.sources]
        blocks.append("**Sources**\n" + "\n".join(f"• {line}" for line in sources))
    return paged_embeds(f"FAQ {number}: {faq.question}", blocks, url=str(article.url),
                        footer=f"/{article.command} citations lists the full references.")


def did_you_mean_text(query: str, suggestions: Sequence[tuple[int, str]]) -> str:
    shown = _cut(query.replace("`", "'"), 80)
    if not suggestions:
        return f"No FAQ matches `{shown}`. `faq` on its own lists every question."
    lines = [f"No FAQ matches `{shown}` closely. Did you mean:"]
    lines += [f"`{n}.` {q}" for n, q in suggestions]
    return "\n".join(lines)


def help_embed(article: Article, entries: Sequence[tuple[str, str, bool]], prefix: str, *,
               slash: bool = False, moderators_only: bool = False) -> discord.Embed:
    """``entries`` are (usage, description, moderators_only). Commands are shown in the form the
    reader used: ``/<article> …`` and ``/<article>-mod …`` on slash, ``<prefix><article> …`` otherwise."""
    mod_command = article.moderator_command

    def line(usage: str, description: str, mod: bool) -> str:
        command = (mod_command if mod else article.command) if slash else article.command
        return f"`{'/' if slash else prefix}{command}{' ' + usage if usage else ''}` — {description}"

    member_lines = [] if moderators_only else [line(u, d, False) for u, d, mod in entries if not mod]
    mod_lines = [line(u, d, True) for u, d, mod in entries if mod]
    if moderators_only:
        description = (f"Moderators (Manage Messages, or the moderator role in `settings`) run these as "
                       f"`/{mod_command} …` or `{prefix}{article.command} …`.")
    else:
        description = (f"Every command works as `{prefix}{article.command} …` and as `/{article.command} …`; "
                       f"on slash, moderator commands are under `/{mod_command}`.")
    embed = discord.Embed(title=_cut(f"Commands for {article.title}", EMBED_TITLE), colour=COLOUR,
                          description=description)
    for name, lines in (("For everyone", member_lines), ("For moderators", mod_lines)):
        for number, chunk in enumerate(pack_blocks(lines, FIELD_VALUE - 24), start=1):
            embed.add_field(name=name if number == 1 else f"{name} (cont.)", value=chunk.replace("\n\n", "\n"),
                            inline=False)
    return embed


def relative_time(when: dt.datetime) -> str:
    return discord.utils.format_dt(when, "R")


# -- takes ----------------------------------------------------------------------------------

TAKES_PER_PAGE = 5
PREVIEW_CHARS = 500
SPARK = "▁▂▃▄▅▆▇█"
ANONYMOUS = "A member"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines() or [""])


PREVIEW_LINES = 8


def take_preview(content: str, take_id: int) -> str:
    """A list shows the start of a long take; ``show`` gives the whole of it."""
    lines = content.splitlines()
    if len(content) <= PREVIEW_CHARS and len(lines) <= PREVIEW_LINES:
        return content
    head = "\n".join(lines[:PREVIEW_LINES])
    if len(head) > PREVIEW_CHARS - 40:
        head = split_text(head, PREVIEW_CHARS - 40)[0]
    return head + f" … (`show {take_id}` for the rest)"


def take_line(take: Any, *, show_name: bool, agreed: int = 0) -> str:
    who = take.author_name if show_name else ANONYMOUS
    edited = " (edited)" if take.edited_at else ""
    edited += f" · 👍 {agreed}" if agreed else ""
    # The link leads to the author's own message, so an anonymous list leaves it out.
    link = f" · [jump]({take.message_url})" if take.message_url and show_name else ""
    head = f"**#{take.id}** · {discord.utils.escape_markdown(who)} · {relative_time(take.created_at)}{edited}{link}"
    return f"{head}\n{_quote(take_preview(take.content, take.id))}"


def takes_page(title: str, takes: Sequence[Any], *, page: int, total: int, show_names: bool,
               agreements: Mapping[int, int] | None = None, order: str = "newest first") -> discord.Embed:
    agreed = agreements or {}
    body = "\n\n".join(take_line(t, show_name=show_names, agreed=agreed.get(t.id, 0)) for t in takes) or "No takes yet."
    embed = discord.Embed(title=_cut(title, EMBED_TITLE), description=body[:EMBED_DESCRIPTION], colour=COLOUR)
    first = page * TAKES_PER_PAGE + 1
    shown = f"{first}–{first + len(takes) - 1} of {total}" if takes else f"0 of {total}"
    embed.set_footer(text=f"Takes {shown} · {order}")
    return embed


def take_embed(take: Any, article: Article, *, show_name: bool, agreed: int = 0) -> discord.Embed:
    embed = discord.Embed(title=_cut(f"Take #{take.id} on {article.title}", EMBED_TITLE),
                          description=take.content[:EMBED_DESCRIPTION], colour=COLOUR, timestamp=take.created_at)
    embed.set_author(name=_cut(take.author_name if show_name else ANONYMOUS, EMBED_AUTHOR))
    if take.edited_at:
        embed.add_field(name="Edited", value=relative_time(take.edited_at))
    if agreed:
        embed.add_field(name="Agreed", value=f"👍 {agreed}")
    if take.message_url and show_name:
        embed.add_field(name="Posted in", value=f"[the original message]({take.message_url})")
    embed.set_footer(text=f"Added by {take.source}")
    return embed


def sparkline(counts: Sequence[int]) -> str:
    top = max(counts, default=0)
    if top == 0:
        return SPARK[0] * len(counts)
    return "".join(SPARK[0] if c == 0 else SPARK[min(len(SPARK) - 1, 1 + (c * (len(SPARK) - 2)) // top)]
                   for c in counts)


def stats_embed(article: Article, stats: Any) -> discord.Embed:
    counts = [n for _, n in stats.per_day]
    embed = discord.Embed(title=_cut(f"Takes on {article.title}", EMBED_TITLE), colour=COLOUR)
    embed.add_field(name="Takes", value=str(stats.takes))
    embed.add_field(name="Members", value=str(stats.members))
    if stats.per_day:
        first, last = stats.per_day[0][0], stats.per_day[-1][0]
        embed.add_field(name=f"Last {plural(len(counts), 'day')} ({plural(sum(counts), 'take')})",
                        value=f"`{sparkline(counts)}`\n{first:%d %b} → {last:%d %b} (UTC)", inline=False)
    return embed


def privacy_embed(article: Article, *, retention_days: int | None, prefix: str) -> discord.Embed:
    keep = (f"Takes older than {retention_days} days are deleted automatically." if retention_days
            else "Takes are kept until you or a moderator delete them.")
    c = f"{prefix}{article.command}"
    text = (
        "**What is stored for each take, and why**\n"
        "• Your words, exactly as written: they are the take.\n"
        "• Your Discord user id: so only you can edit it and so you can find and delete your data.\n"
        "• Your display name at the time: shown beside the take in lists.\n"
        "• The server, channel and article, and a link to the message it came from (if any): so takes stay "
        "in their server and can be found in context.\n"
        "• When it was written and last edited (UTC), and how it arrived (command, form, button, reply).\n"
        "• In a journal-club meeting's thread: the meeting, the question it answers and your message's id.\n"
        "• When you agree with a take (👍 or Agree): your user id, that take, and when; to count you once.\n\n"
        "Nothing else about you is stored: no messages other than takes, no roles, no activity.\n\n"
        "**Who sees it** Members of this server, in takes lists (without names if its moderators made lists "
        "anonymous); moderators can export this server's takes. Other servers never see them.\n\n"
        f"**How long** {keep}\n\n"
        f"**Your control** `{c} mytakes` shows yours and downloads them (in a DM with me: from every "
        f"server); `{c} delete <id>` deletes one; `{c} forgetme` deletes all of your takes, and your "
        "agreements, in every server.\n\n"
        "**What deleting reaches** The take, and my own messages that showed it: I remember which of my "
        "lists, `show` cards and meeting digests (in channels and DMs) quote a take, and within a minute "
        "of a deletion or an edit I redraw them without it, or delete them. That record goes with the "
        "take. It cannot reach "
        "copies people made (quotes, screenshots, exports a moderator downloaded), nor what Discord itself "
        "keeps (notifications, caches, search), nor answers only you saw."
    )
    return discord.Embed(title="Your data and this bot", description=text, colour=COLOUR)


# -- moderation -----------------------------------------------------------------------------

PIN_FOOTER = "Reply to this message to add your take · pinned summary"


def pinned_embed(article: Article) -> discord.Embed:
    """The one embed a pinned summary shows: what the post says, its key points, how to join in.
    Replies to it are takes, so the footer says so."""
    points = "\n".join(f"• {p}" for p in article.key_points)
    description = _cut(f"{article.short_summary}{title_caveat(article)}\n\n**Key points**\n{points}", EMBED_DESCRIPTION)
    embed = discord.Embed(title=_cut(f"Summary: {article.title}", EMBED_TITLE), url=str(article.url),
                          description=description, colour=COLOUR)
    embed.set_author(name=_cut(byline(article), EMBED_AUTHOR))
    if article.discussion_questions:
        questions = "\n".join(f"{n}. {q}" for n, q in enumerate(article.discussion_questions, start=1))
        room = EMBED_TOTAL - len(embed) - len(PIN_FOOTER) - 40
        embed.add_field(name="For discussion", value=_cut(questions, max(0, min(FIELD_VALUE, room))) or "—",
                        inline=False)
    embed.set_footer(text=PIN_FOOTER)
    return embed


def settings_embed(guild_name: str, rows: Sequence[tuple[str, str, str]], prefix: str) -> discord.Embed:
    """``rows`` are (setting name, what it is now, what it does)."""
    embed = discord.Embed(title=_cut(f"Settings for {guild_name}", EMBED_TITLE), colour=COLOUR,
                          description=f"Change one with `{prefix}<article> settings <name> <value>`; "
                                      f"`default` puts a setting back to the bot's default.")
    for name, value, about in rows:
        embed.add_field(name=_cut(name, FIELD_NAME), value=_cut(f"{value}\n-# {about}", FIELD_VALUE), inline=False)
    return embed


def audit_embeds(entries: Sequence[Any], guild_name: str) -> list[discord.Embed]:
    """Audit entries, newest first; the actor is a mention (embeds never ping)."""
    lines = [f"{discord.utils.format_dt(e.created_at, 'f')} · <@{e.actor_id}> · **{e.action}** — "
             f"{discord.utils.escape_markdown(e.detail)}" for e in entries]
    return paged_embeds(f"Moderator actions in {guild_name}", lines or ["Nothing recorded yet."],
                        footer="Newest first. Times are shown in your time zone.")


def export_intro(article: Article, takes: int, members: int, span: str, messages: Sequence[Sequence[Any]]) -> str:
    """What an export holds and how it was packed (``messages`` as :class:`bot.export.ExportPacker` made them)."""
    files = [name for batch in messages for name, _ in batch]
    if any(name.endswith(".csv") for name in files):
        shape = "as CSV and JSON"
    elif len(files) == 1:
        shape = "as CSV and JSON, zipped to fit Discord's upload limit"
    else:
        shape = f"as CSV and JSON in {len(files)} zip parts, to fit the upload limit"
    return (f"{plural(takes, 'take')} by {plural(members, 'member')} on *{article.title}* {span}, {shape}. "
            "The CSV opens safely in Excel or Sheets.")


#: A member's takes everywhere list this many servers by name, then a count of the rest.
EVERYWHERE_SERVERS = 20


def takes_everywhere(total: int, servers: Sequence[tuple[str | None, int, int]]) -> str:
    """``servers`` are (name, or ``None`` for a server the bot is no longer in; guild id; takes), most first."""
    lines = [f"• {discord.utils.escape_markdown(name) if name else f'a server I am no longer in (id {gid})'}: "
             f"{plural(count, 'take')}" for name, gid, count in servers[:EVERYWHERE_SERVERS]]
    if len(servers) > EVERYWHERE_SERVERS:
        lines.append(f"• and {len(servers) - EVERYWHERE_SERVERS} more servers")
    return (f"Your {plural(total, 'take')}, everywhere:\n" + "\n".join(lines)
            + "\n\nDownload them all below; `forgetme` deletes them all.")
