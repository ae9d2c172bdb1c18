"""How meetings look: announcements, reminders, questions, the digest (pure: content in, text out).

Times are Discord timestamps (``<t:…:F>``), so every reader sees them in their own time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import discord

from bot.article import Article
from bot.meetings import Digest, question_text
from bot.storage import Meeting
from bot.ui.rendering import COLOUR, EMBED_DESCRIPTION, EMBED_TITLE, _cut, plural, take_line

#: A thread name is at most 100 characters.
THREAD_NAME = 100
EVENT_NAME = 100
EVENT_DESCRIPTION = 1000


def when_text(meeting: Meeting) -> str:
    start = meeting.started_at or meeting.starts_at
    return (f"{discord.utils.format_dt(start, 'F')} ({discord.utils.format_dt(start, 'R')}), "
            f"{plural(meeting.duration_minutes, 'minute')}")


def announcement(meeting: Meeting, article: Article, *, moved: bool, group: str) -> str:
    head = "📅 **Journal club moved**" if moved else "📅 **Journal club**"
    return (f"{head}: *{article.title}*, {when_text(meeting)}.\n"
            f"Read the summary first (`{group} summary`); the discussion opens in a thread here, "
            "one question at a time.")


def reminder(meeting: Meeting, article: Article, which: str) -> str:
    soon = "tomorrow" if which == "day" else "in an hour"
    return (f"⏰ Journal club {soon}: *{article.title}*, {discord.utils.format_dt(meeting.starts_at, 'F')} "
            f"({discord.utils.format_dt(meeting.starts_at, 'R')}).")


def cancelled(article: Article) -> str:
    return f"The journal club meeting on *{article.title}* is cancelled."


def thread_name(article: Article, meeting: Meeting, timezone: str) -> str:
    import zoneinfo

    day = (meeting.started_at or meeting.starts_at).astimezone(zoneinfo.ZoneInfo(timezone)).date()
    suffix = f" · {day.isoformat()}"
    return _cut(article.title, THREAD_NAME - len(suffix)) + suffix


def event_description(article: Article) -> str:
    return _cut(article.short_summary, EVENT_DESCRIPTION)


def event_name(article: Article) -> str:
    return _cut(f"Journal club: {article.title}", EVENT_NAME)


def question_message(article: Article, number: int, *, message_content: bool, group: str) -> str:
    total = len(article.discussion_questions)
    label = f"Question {number} of {total}" if total else "Discussion"
    how = ("Every message you write in this thread is saved as your take on this question."
           if message_content else
           f"Answer with `{group} take <your text>` in this thread, or the **Add your take** button.")
    return f"**{label}**\n> {question_text(article, number)}\n-# {how}"


def meeting_status(meeting: Meeting, article: Article, *, thread_url: str | None) -> str:
    if meeting.state == "running":
        where = f" Join the discussion: {thread_url}" if thread_url else ""
        return f"The journal club on *{article.title}* is on now (started {when_text(meeting)}).{where}"
    return f"Next journal club on *{article.title}*: {when_text(meeting)}."


def digest_embed(digest: Digest, article: Article, *, anonymous: bool) -> discord.Embed:
    """The meeting's record: questions covered, takes per question, participants, the most agreed takes.
    In an anonymous server only a count of participants is shown, and takes are quoted without names."""
    lines = [f"**{number}.** {_cut(text, 200)} — {plural(takes, 'take')}"
             for number, text, takes in ((q.number, q.text, q.takes) for q in digest.questions)]
    body = "\n".join(lines) or "No discussion questions were covered."
    embed = discord.Embed(title=_cut(f"Journal club digest: {article.title}", EMBED_TITLE),
                          description=body[:EMBED_DESCRIPTION], colour=COLOUR)
    embed.add_field(name="Takes", value=str(digest.takes))
    if anonymous or not digest.names:
        embed.add_field(name="Participants", value=str(digest.participants))
    else:
        shown = ", ".join(discord.utils.escape_markdown(n) for n in digest.names)
        embed.add_field(name=f"Participants ({digest.participants})", value=_cut(shown, 1024))
    if digest.top:
        quoted = "\n\n".join(f"👍 {count} · " + take_line(take, show_name=not anonymous)
                             for take, count in digest.top)
        embed.add_field(name="Most agreed", value=_cut(quoted, 1024), inline=False)
    return embed


def export_note(article: Article, takes: int) -> str:
    return (f"The takes of today's journal club on *{article.title}* ({plural(takes, 'take')}), "
            "with the question each answers.")


#: Discord's limits for a poll: ten answers of at most 55 characters, a 300-character question.
POLL_ANSWERS = 10
POLL_ANSWER = 55
POLL_QUESTION = "Which article next?"


def poll_answers(articles: Sequence[Article]) -> list[str]:
    """One answer per article (the first ten), each within Discord's 55 characters and distinct."""
    answers: list[str] = []
    for article in articles[:POLL_ANSWERS]:
        text = _cut(article.title, POLL_ANSWER)
        if text in answers:
            text = _cut(f"{article.title[:40]} ({article.command})", POLL_ANSWER)
        answers.append(text)
    return answers


def poll_result(counts: Sequence[tuple[str, int]]) -> str:
    """The poll's result as one message: the winner (or the tie), then every answer's votes."""
    total = sum(votes for _, votes in counts)
    if total == 0:
        return "📊 **Which article next?** The poll closed without a vote."
    best = max(votes for _, votes in counts)
    winners = [text for text, votes in counts if votes == best]
    head = (f"📊 **Which article next?** *{winners[0]}* won with {plural(best, 'vote')} of {total}."
            if len(winners) == 1 else
            f"📊 **Which article next?** A tie at {plural(best, 'vote')} between "
            + ", ".join(f"*{w}*" for w in winners) + ".")
    lines = [f"• {text}: {votes}" for text, votes in sorted(counts, key=lambda c: -c[1])]
    return _cut("\n".join([head, *lines]), 2000)


def start_of(meeting: Meeting) -> dt.datetime:
    return meeting.started_at or meeting.starts_at
