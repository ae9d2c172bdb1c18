"""Journal-club meetings: scheduling, the question on the table, what is due when, the digest.

A meeting is a database row, and the row is the truth (RoboDanny's timers): the due-work loop
asks the store what is due by now (an indexed read of ``next_due_at``), acts, and writes the
next moment the meeting needs attention. A restart loses nothing, and a reminder whose moment
passed while the bot was down is marked done without being posted late.

This is the rules layer: it knows nothing of threads and events. The cog does the Discord side
and reports back (``begin``, ``advance``, ``finish``), and draws what this module computes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.article import Article
from bot.audit import AuditLog
from bot.clock import Clock
from bot.errors import NotFound, NotSaved, UserError
from bot.guild_settings import GuildSettingsService
from bot.locks import KeyedLocks
from bot.storage import Meeting, MeetingExists, NewMeeting, PendingPoll, StorageError, Store, Take
from bot.when import DEFAULT_DURATION, parse_duration, parse_when

log = logging.getLogger("bot.meetings")

#: Reminders before a meeting, by name and how long before its start.
REMINDERS: tuple[tuple[Literal["day", "hour"], dt.timedelta], ...] = (
    ("day", dt.timedelta(days=1)), ("hour", dt.timedelta(hours=1)))
#: A reminder found due later than this after its moment (the bot was down) is not posted.
REMINDER_GRACE = dt.timedelta(minutes=10)
TOP_TAKES = 3
#: Discord announces a closed poll within moments; one still unanswered this long after closing
#: closed while the bot was away, and the due-work loop answers it.
POLL_GRACE = dt.timedelta(minutes=2)
#: How long the loop waits before trying a meeting again whose work failed unexpectedly.
RETRY_AFTER = dt.timedelta(minutes=5)

DueAction = Literal["remind_day", "remind_hour", "start", "end", "nothing"]


class MeetingRefused(UserError):
    pass


@dataclass(frozen=True, slots=True)
class Due:
    """What the loop must do for a meeting now; ``skipped`` names reminders that are past their moment."""

    meeting: Meeting
    action: DueAction
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QuestionCount:
    number: int
    text: str
    takes: int


@dataclass(frozen=True, slots=True)
class Digest:
    meeting: Meeting
    questions: tuple[QuestionCount, ...]
    takes: int
    participants: int
    #: The participants' names as they wrote (shown only where lists show names).
    names: tuple[str, ...]
    #: The most agreed takes, with how many agree (most first; ties by age).
    top: tuple[tuple[Take, int], ...]
    #: Every take the digest counts: its counts, its names and its quotes come from these.
    take_ids: tuple[int, ...] = ()

    @property
    def quoted_take_ids(self) -> tuple[int, ...]:
        """The takes a digest message draws on (its counts and names as well as its quotes): the
        message is redrawn when one of them is edited or erased."""
        return self.take_ids


def question_text(article: Article, number: int) -> str:
    questions = article.discussion_questions
    if 1 <= number <= len(questions):
        return questions[number - 1]
    return "Open discussion of the article"


def next_due(meeting: Meeting) -> dt.datetime | None:
    """When the loop must look at this meeting next."""
    if meeting.state == "running":
        return meeting.ends_at
    if meeting.state != "scheduled":
        return None
    moments = [meeting.starts_at]
    for name, before in REMINDERS:
        if not getattr(meeting, f"reminded_{name}"):
            moments.append(meeting.starts_at - before)
    return min(moments)


def due_action(meeting: Meeting, now: dt.datetime) -> Due:
    """What is due for ``meeting`` at ``now`` (pure)."""
    if meeting.state == "running":
        return Due(meeting, "end" if now >= meeting.ends_at else "nothing")
    if meeting.state != "scheduled":
        return Due(meeting, "nothing")
    if now >= meeting.starts_at:
        return Due(meeting, "start")
    skipped: list[str] = []
    post: DueAction = "nothing"
    for name, before in REMINDERS:
        moment = meeting.starts_at - before
        if getattr(meeting, f"reminded_{name}") or now < moment:
            continue
        if now - moment > REMINDER_GRACE:
            skipped.append(name)
        else:
            post = "remind_day" if name == "day" else "remind_hour"
    return Due(meeting, post, tuple(skipped))


def _with_reminders_before(meeting: Meeting, now: dt.datetime) -> Meeting:
    """Reminders whose moment is already past when a meeting is (re)scheduled are never sent."""
    changes: dict[str, Any] = {f"reminded_{name}": meeting.starts_at - before <= now for name, before in REMINDERS}
    updated = dataclasses.replace(meeting, **changes)
    return dataclasses.replace(updated, next_due_at=next_due(updated))


class MeetingService:
    """Every server's meetings: the one door to them for commands, buttons and the due-work loop."""

    def __init__(self, store: Store, clock: Clock, guild_settings: GuildSettingsService, audit: AuditLog,
                 locks: KeyedLocks) -> None:
        self._store = store
        self._clock = clock
        self._settings = guild_settings
        self._audit = audit
        self._locks = locks

    # -- reading ------------------------------------------------------------------------------
    async def timezone(self, guild_id: int) -> str:
        return (await self._settings.get(guild_id)).timezone or "UTC"

    async def reminders_on(self, guild_id: int) -> bool:
        return (await self._settings.get(guild_id)).meeting_reminders

    async def active(self, guild_id: int, channel_id: int, article: str) -> Meeting | None:
        return await self._store.active_meeting(guild_id, channel_id, article)

    async def upcoming(self, guild_id: int, article: str) -> list[Meeting]:
        return await self._store.upcoming_meetings(guild_id, article)

    async def get(self, guild_id: int, meeting_id: int) -> Meeting:
        meeting = await self._store.get_meeting(guild_id, meeting_id)
        if meeting is None:
            raise NotFound("That meeting no longer exists.")
        return meeting

    async def in_thread(self, guild_id: int, thread_id: int) -> Meeting | None:
        """The running meeting whose thread this is."""
        meeting = await self._store.meeting_in_thread(guild_id, thread_id)
        return meeting if meeting is not None and meeting.state == "running" else None

    async def link_for(self, guild_id: int, channel: Any, article: str) -> tuple[int, int] | None:
        """(meeting id, question) for a take written in a running meeting's thread on this article."""
        if getattr(channel, "parent_id", None) is None:
            return None  # not a thread: no read at all
        meeting = await self.in_thread(guild_id, channel.id)
        if meeting is None or meeting.article != article:
            return None
        return meeting.id, meeting.question

    async def due(self, *, limit: int = 100) -> list[Due]:
        now = self._clock()
        return [due_action(meeting, now) for meeting in await self._store.due_meetings(now, limit=limit)]

    async def next_due_at(self) -> dt.datetime | None:
        """When the due-work loop must look next: a meeting's next step, or a poll's result."""
        meeting = await self._store.next_meeting_due_at()
        poll = await self._store.next_poll_closes_at()
        return min((m for m in (meeting, None if poll is None else poll + POLL_GRACE) if m is not None), default=None)

    # -- polls --------------------------------------------------------------------------------------
    async def remember_poll(self, *, message_id: int, guild_id: int, channel_id: int, hours: int) -> None:
        """A poll just posted: its result is owed once it closes, after a restart too."""
        await self._store.add_poll(PendingPoll(message_id, guild_id, channel_id,
                                               self._clock() + dt.timedelta(hours=hours)))

    async def unanswered_polls(self, *, limit: int = 100) -> list[PendingPoll]:
        """Polls closed a while ago whose result nobody posted (the bot was down when they closed)."""
        return await self._store.closed_polls(self._clock() - POLL_GRACE, limit=limit)

    async def claim_poll(self, message_id: int) -> bool:
        """Whether this caller posts the poll's result: once per poll, whatever Discord resends."""
        return await self._store.claim_poll(message_id)

    # -- changing -----------------------------------------------------------------------------
    async def _save(self, meeting: Meeting) -> Meeting:
        try:
            await self._store.save_meeting(meeting)
        except StorageError as exc:
            log.error("meeting %s not saved: %s", meeting.id, exc, exc_info=exc)
            raise NotSaved("Nothing changed: the database could not be written. Please try again.") from exc
        return meeting

    async def schedule(self, *, guild_id: int, channel_id: int, article: str, when: str, duration: str | None,
                       moderator_id: int) -> tuple[Meeting, Meeting | None]:
        """Schedule a meeting here, or move the upcoming one; returns (meeting, as it was before a move)."""
        now = self._clock()
        starts = parse_when(when, now=now, timezone=await self.timezone(guild_id))
        minutes = parse_duration(duration)
        async with self._locks("meeting", guild_id, channel_id, article):
            current = await self._store.active_meeting(guild_id, channel_id, article)
            if current is not None and current.state == "running":
                raise MeetingRefused("A meeting of this article is running in this channel; end it with "
                                     "`meeting end` before scheduling the next one.")
            if current is not None:
                moved = dataclasses.replace(current, starts_at=starts, duration_minutes=minutes,
                                            moderator_id=moderator_id)
                saved = await self._save(_with_reminders_before(moved, now))
                await self._audit.record(guild_id, moderator_id, "meeting",
                                         f"{article}: moved to {starts:%Y-%m-%d %H:%M} UTC")
                return saved, current
            draft = Meeting(id=0, guild_id=guild_id, channel_id=channel_id, article=article, starts_at=starts,
                            duration_minutes=minutes, state="scheduled", moderator_id=moderator_id)
            draft = _with_reminders_before(draft, now)
            try:
                added = await self._store.add_meeting(NewMeeting(
                    guild_id=guild_id, channel_id=channel_id, article=article, starts_at=starts,
                    duration_minutes=minutes, moderator_id=moderator_id, next_due_at=draft.next_due_at))
            except MeetingExists:
                raise MeetingRefused("This channel already has a meeting of this article; `meeting` shows it."
                                     ) from None
            except StorageError as exc:
                log.error("meeting not scheduled (guild=%s): %s", guild_id, exc, exc_info=exc)
                raise NotSaved("The meeting was **not scheduled**: the database could not be written. "
                               "Please try again.") from exc
            saved = await self._save(dataclasses.replace(added, reminded_day=draft.reminded_day,
                                                         reminded_hour=draft.reminded_hour))
        await self._audit.record(guild_id, moderator_id, "meeting",
                                 f"{article}: scheduled {starts:%Y-%m-%d %H:%M} UTC")
        return saved, None

    async def set_discord_ids(self, meeting: Meeting, *, event_id: int | None = None,
                              announcement_id: int | None = None) -> Meeting:
        pairs = (("event_id", event_id), ("announcement_id", announcement_id))
        changes: dict[str, Any] = {k: v for k, v in pairs if v is not None}
        return await self._save(dataclasses.replace(meeting, **changes)) if changes else meeting

    async def cancel(self, *, guild_id: int, channel_id: int, article: str, moderator_id: int) -> Meeting:
        async with self._locks("meeting", guild_id, channel_id, article):
            current = await self._store.active_meeting(guild_id, channel_id, article)
            if current is None:
                raise MeetingRefused("There is no upcoming meeting of this article in this channel.")
            if current.state == "running":
                raise MeetingRefused("The meeting is running; close it with `meeting end`.")
            cancelled = await self._save(dataclasses.replace(current, state="cancelled", next_due_at=None))
        await self._audit.record(guild_id, moderator_id, "meeting", f"{article}: cancelled the meeting")
        return cancelled

    async def start_now(self, *, guild_id: int, channel_id: int, article: str, moderator_id: int) -> Meeting:
        """``meeting start``: the upcoming meeting here, or a new one from now."""
        current = await self._store.active_meeting(guild_id, channel_id, article)
        if current is not None and current.state == "running":
            raise MeetingRefused("A meeting of this article is already running in this channel.")
        if current is not None:
            return current
        try:
            return await self._store.add_meeting(NewMeeting(
                guild_id=guild_id, channel_id=channel_id, article=article, starts_at=self._clock(),
                duration_minutes=DEFAULT_DURATION, moderator_id=moderator_id, next_due_at=None))
        except MeetingExists:
            raise MeetingRefused("A meeting of this article is already running in this channel.") from None
        except StorageError as exc:
            raise NotSaved("The meeting was **not started**: the database could not be written.") from exc

    async def reminded(self, due: Due) -> Meeting:
        """The reminders due (posted or skipped) are done."""
        changes: dict[str, Any] = {f"reminded_{name}": True for name in due.skipped}
        if due.action in ("remind_day", "remind_hour"):
            changes[f"reminded_{due.action.removeprefix('remind_')}"] = True
        updated = dataclasses.replace(due.meeting, **changes)
        return await self._save(dataclasses.replace(updated, next_due_at=next_due(updated)))

    async def begin(self, meeting: Meeting, *, thread_id: int, first_question: int) -> Meeting:
        now = self._clock()
        running = dataclasses.replace(meeting, state="running", started_at=now, thread_id=thread_id,
                                      question=first_question, reminded_day=True, reminded_hour=True)
        return await self._save(dataclasses.replace(running, next_due_at=next_due(running)))

    async def advance(self, meeting: Meeting, article: Article) -> Meeting:
        if meeting.state != "running":
            raise MeetingRefused("The meeting is not running.")
        if meeting.question >= len(article.discussion_questions):
            raise MeetingRefused("That was the last discussion question; `meeting end` closes the meeting.")
        return await self._save(dataclasses.replace(meeting, question=meeting.question + 1))

    async def finish(self, meeting: Meeting) -> Meeting:
        if meeting.state == "scheduled":
            raise MeetingRefused("The meeting has not started; `meeting cancel` calls it off.")
        if meeting.state != "running":
            raise MeetingRefused("The meeting has already ended.")
        return await self._save(dataclasses.replace(meeting, state="ended", next_due_at=None,
                                                    ended_at=self._clock()))

    async def retry_later(self, meeting: Meeting) -> Meeting:
        """Work on this meeting failed unexpectedly: look at it again in a while, not in a tight loop."""
        return await self._save(dataclasses.replace(meeting, next_due_at=self._clock() + RETRY_AFTER))

    async def abandon(self, meeting: Meeting) -> Meeting:
        """A meeting that could not start (a missing permission): it is over, without a discussion."""
        return await self._save(dataclasses.replace(meeting, state="cancelled", next_due_at=None))

    # -- the record ---------------------------------------------------------------------------
    async def takes_of(self, meeting: Meeting) -> list[tuple[Take, int]]:
        return await self._store.meeting_takes(meeting.guild_id, meeting.id)

    async def digest(self, meeting: Meeting, article: Article) -> Digest:
        """What the meeting produced. Every message that quotes takes gets its take ids from here
        (:attr:`Digest.quoted_take_ids`)."""
        takes = await self.takes_of(meeting)
        per_question = Counter(question for _, question in takes)
        covered = range(1, max(meeting.question, max(per_question, default=0)) + 1)
        questions = tuple(QuestionCount(n, question_text(article, n), per_question.get(n, 0)) for n in covered)
        counts = await self._store.agreement_counts(meeting.guild_id, [take.id for take, _ in takes])
        ranked = sorted((take for take, _ in takes if counts.get(take.id)),
                        key=lambda take: (-counts[take.id], take.created_at, take.id))
        return Digest(meeting=meeting, questions=questions, takes=len(takes),
                      participants=len({take.author_id for take, _ in takes}),
                      names=tuple(sorted({take.author_name for take, _ in takes}, key=str.casefold)),
                      top=tuple((take, counts[take.id]) for take in ranked[:TOP_TAKES]),
                      take_ids=tuple(take.id for take, _ in takes))

    # -- agreements -------------------------------------------------------------------------------
    async def agree(self, guild_id: int, take_id: int, member_id: int) -> bool:
        """Once per member; agreeing with one's own take is not counted."""
        take = await self._store.get_take(guild_id, take_id)
        if take is None:
            raise NotFound(f"There is no take #{take_id} in this server.")
        if take.author_id == member_id:
            raise MeetingRefused("That is your own take: agreements count what the others think.")
        return await self._store.add_agreement(guild_id, take_id, member_id, self._clock())

    async def take_of_message(self, guild_id: int, message_id: int) -> int | None:
        return await self._store.take_of_message(guild_id, message_id)

    async def withdraw(self, guild_id: int, take_id: int, member_id: int) -> bool:
        return await self._store.remove_agreement(guild_id, take_id, member_id)

    async def agreement_counts(self, guild_id: int, take_ids: Sequence[int]) -> dict[int, int]:
        return await self._store.agreement_counts(guild_id, take_ids)

    async def count_agreed(self, guild_id: int, article: str) -> int:
        return await self._store.count_agreed_takes(guild_id, article)

    async def most_agreed(self, guild_id: int, article: str, *, offset: int, limit: int) -> list[Take]:
        return await self._store.most_agreed_takes(guild_id, article, offset=offset, limit=limit)

    async def toggle_agreement(self, guild_id: int, take_id: int, member_id: int) -> tuple[bool, int]:
        """The Agree button: agree, or withdraw an agreement already given; (agrees now, how many agree)."""
        agrees = await self.agree(guild_id, take_id, member_id)
        if not agrees:
            await self.withdraw(guild_id, take_id, member_id)
        counts = await self._store.agreement_counts(guild_id, [take_id])
        return agrees, counts.get(take_id, 0)
