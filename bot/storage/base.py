"""The storage interface every backend implements (SQLite now, PostgreSQL next).

Cogs and services call these named operations and never see SQL. Every write method returns
only after its transaction has committed; a failure raises :class:`StorageError` so the
caller can tell the member that nothing was saved.

Times are timezone-aware UTC ``datetime`` values supplied by the caller (the bot's clock), so
tests and the simulator control time and backends never call ``now()`` themselves.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

TakeSource = Literal["command", "modal", "reply", "button"]
TAKE_SOURCES: tuple[TakeSource, ...] = ("command", "modal", "reply", "button")


class StorageError(RuntimeError):
    """A storage operation failed; nothing it was asked to write was kept."""


class SchemaTooNewError(StorageError):
    """The database was written by a newer version of the bot than this one."""

    def __init__(self, found: int, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            f"the database is at schema version {found}, but this bot only knows up to {supported}: "
            "upgrade the bot (or point DATABASE_URL at another database); nothing was changed"
        )


class DatabaseFileGone(StorageError):
    """The database file was deleted or replaced under the running bot: a write would land in a
    file no one will ever open again, so nothing is written until the file is back."""


class DatabaseUnreachable(StorageError):
    """The database server cannot be reached (refused, lost, shutting down, timed out): an outage,
    not a bug. The store logs the outage once; members are told plainly, without an error id."""


@dataclass(frozen=True, slots=True)
class TakeChecks:
    """The rules a new take must pass, checked in the transaction that inserts it, so two takes
    at once cannot both pass, and the bot makes one round trip per take."""

    #: Refuse the take if the member saved exactly this text on this article at or after this.
    duplicate_since: dt.datetime | None = None
    #: Refuse the take if the member saved any take in this guild (any article) after this.
    cooldown_since: dt.datetime | None = None


def message_id_of(url: str | None) -> int | None:
    """The message id at the end of a Discord jump link (``…/channels/<guild>/<channel>/<message>``)."""
    tail = (url or "").rstrip("/").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() and len(tail) <= 20 else None


class TakeRefused(Exception):
    """A take a :class:`TakeChecks` rule turned down; nothing was written."""

    def __init__(self, rule: Literal["duplicate", "cooldown"], last_take_at: dt.datetime | None) -> None:
        self.rule = rule
        #: When the member last saved a take in this guild (the cooldown's start).
        self.last_take_at = last_take_at
        super().__init__(f"take refused by the {rule} rule")


#: ``take_blocks`` (V9) counts an article's takes per block of ids, ``block = id >> TAKE_BLOCK_BITS``
#: (the migrations' triggers spell the 8; a recount with this constant checks them): "go to
#: page N" sums blocks from the nearer end, then skips fewer than ``TAKE_BLOCK`` index entries.
TAKE_BLOCK_BITS = 8
TAKE_BLOCK = 1 << TAKE_BLOCK_BITS


@dataclass(frozen=True, slots=True)
class CounterCheck:
    """How many counter rows disagreed with a recount of the takes (all zero: they agree)."""

    articles: int
    members: int
    days: int
    #: Takes per block of 256 ids (V9: where "go to page N" starts).
    blocks: int

    @property
    def ok(self) -> bool:
        return self.articles == self.members == self.days == self.blocks == 0


@dataclass(frozen=True, slots=True)
class NewTake:
    """What a member gave us; the store assigns the id and keeps the rest verbatim."""

    guild_id: int
    channel_id: int
    article: str
    author_id: int
    #: The name shown beside the take in lists, as it was when the take was written.
    author_name: str
    content: str
    source: TakeSource
    created_at: dt.datetime
    #: Jump link of the message the take arrived in (prefix command or reply), if any.
    message_url: str | None = None
    #: The meeting whose thread the take was written in, and the question then on the table
    #: (stored in ``meeting_takes``, in the take's own transaction).
    meeting_id: int | None = None
    question: int | None = None


#: The columns a new take's INSERT writes, each a :class:`NewTake` field of the same name, with
#: its PostgreSQL type (the unnest arrays' element type; SQLite ignores it). Both backends build
#: their INSERT from this list: a new column of ``takes`` that a member's take carries is one
#: line here (plus the field on NewTake and Take, and the migrations; on PostgreSQL the migration
#: also replaces the functions ``cf_add_takes`` and ``cf_add_take`` of V10, which take one argument
#: per column in this order: ``tests/test_storage.py`` compares them).
NEW_TAKE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("guild_id", "bigint"),
    ("channel_id", "bigint"),
    ("article", "text"),
    ("author_id", "bigint"),
    ("author_name", "text"),
    ("content", "text"),
    ("source", "text"),
    ("message_url", "text"),
    ("created_at", "timestamptz"),
)


@dataclass(frozen=True, slots=True)
class Take:
    id: int
    guild_id: int
    channel_id: int
    article: str
    author_id: int
    author_name: str
    content: str
    source: TakeSource
    created_at: dt.datetime
    edited_at: dt.datetime | None
    message_url: str | None


@dataclass(slots=True)
class ExportChunk:
    """Consecutive takes, oldest first, as an export writes them: each take's CSV line (ending
    ``\r\n``) and JSON list element, built by the database (:mod:`bot.storage.export_rows`), and
    its author. A take the database did not write (a cell it cannot vouch for) is ``None`` in
    both lists and its :class:`Take` in ``takes``, under its index, for the exporter to write."""

    csv_lines: list[str | None]
    json_elements: list[str | None]
    authors: list[int]
    takes: dict[int, Take]

    @classmethod
    def of_takes(cls, takes: Sequence[Take]) -> ExportChunk:
        """Takes for the exporter to write every one of (what a store without the SQL gives)."""
        return cls([None] * len(takes), [None] * len(takes), [t.author_id for t in takes], dict(enumerate(takes)))

    def __len__(self) -> int:
        return len(self.authors)


@dataclass(frozen=True, slots=True)
class TakeStats:
    takes: int
    members: int
    #: Takes per UTC day for the requested days, oldest first, zero-filled.
    per_day: tuple[tuple[dt.date, int], ...]


def first_stats_day(days: int, today: dt.date) -> dt.date:
    """The oldest UTC day a ``days``-long stats window ending ``today`` covers."""
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    return today - dt.timedelta(days=days - 1)


def assemble_stats(totals: Sequence[int] | None, counted: dict[dt.date, int], *, days: int,
                   today: dt.date) -> TakeStats:
    """``TakeStats`` from a counter row (takes, members) and takes per day: exactly ``days``
    entries, zero-filled, oldest first, ending with ``today``."""
    first_day = first_stats_day(days, today)
    per_day = tuple((day, counted.get(day, 0)) for day in (first_day + dt.timedelta(days=n) for n in range(days)))
    takes, members = (0, 0) if totals is None else (int(totals[0]), int(totals[1]))
    return TakeStats(takes=takes, members=members, per_day=per_day)


def far_page_from(offset: int, *, author_id: int | None, before_id: int | None,
                  after_id: int | None) -> bool | None:
    """Whether ``list_takes`` finds this page through the blocks' counts (V9), and from which end:
    ``True`` from the oldest (``after_id=0``), ``False`` from the newest, ``None`` not at all (a
    near page, a member's list or a page counted from an edge: the index skip is the way)."""
    if offset < TAKE_BLOCK or author_id is not None or before_id is not None or after_id not in (None, 0):
        return None
    return after_id == 0


def positive_limit(limit: int) -> int:
    """A page or chunk size of at least 1 (SQLite reads ``LIMIT -1`` as "no limit"; a caller's bad
    arithmetic must not list everything)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    return limit


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """Per-guild choices a moderator makes; ``None`` means "use the bot-wide default"."""

    guild_id: int
    moderator_role_id: int | None = None
    take_max_length: int | None = None
    take_cooldown_seconds: int | None = None
    #: Channels where takes are accepted; empty means every channel.
    take_channel_ids: frozenset[int] = field(default_factory=frozenset)
    #: Whether lists shown to plain members hide authors' names.
    anonymous_lists: bool = False
    prefix: str | None = None
    #: The IANA time zone meeting times are read in; ``None`` is UTC.
    timezone: str | None = None
    #: Whether meetings get reminders in the channel a day and an hour before.
    meeting_reminders: bool = True


MeetingState = Literal["scheduled", "running", "ended", "cancelled"]
#: States of a meeting that still has work ahead (reminders, its start, its end).
ACTIVE_STATES: tuple[MeetingState, ...] = ("scheduled", "running")


class MeetingExists(Exception):
    """The channel already has an upcoming or running meeting of this article; nothing was written."""


@dataclass(frozen=True, slots=True)
class NewMeeting:
    guild_id: int
    channel_id: int
    article: str
    starts_at: dt.datetime
    duration_minutes: int
    moderator_id: int
    next_due_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Meeting:
    """A journal-club meeting. The row is the truth: the due-work loop reads it again after a restart."""

    id: int
    guild_id: int
    channel_id: int
    article: str
    starts_at: dt.datetime
    duration_minutes: int
    state: MeetingState
    moderator_id: int
    #: The question on the table (1-based); 0 before the first.
    question: int = 0
    thread_id: int | None = None
    event_id: int | None = None
    announcement_id: int | None = None
    reminded_day: bool = False
    reminded_hour: bool = False
    #: When the due-work loop must look at it next; ``None`` when nothing is ahead.
    next_due_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None

    @property
    def ends_at(self) -> dt.datetime:
        return (self.started_at or self.starts_at) + dt.timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True, slots=True)
class PendingPoll:
    """A "which article next?" poll the bot posted and has not answered yet (V7)."""

    message_id: int
    guild_id: int
    channel_id: int
    closes_at: dt.datetime


#: The columns :meth:`Store.save_meeting` writes (everything but the identity of the meeting).
MEETING_MUTABLE = ("starts_at", "duration_minutes", "state", "moderator_id", "question", "thread_id", "event_id",
                   "announcement_id", "reminded_day", "reminded_hour", "next_due_at", "started_at", "ended_at")
MEETING_COLUMNS = ("id", "guild_id", "channel_id", "article", *MEETING_MUTABLE)
MEETING_TIMES = ("starts_at", "next_due_at", "started_at", "ended_at")


@dataclass(frozen=True, slots=True)
class PinRecord:
    guild_id: int
    channel_id: int
    article: str
    message_id: int
    #: A hash of what the pinned message showed, to tell whether a refresh must edit it.
    content_hash: str
    pinned_at: dt.datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    guild_id: int
    actor_id: int
    action: str
    detail: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class QuoteRedraw:
    """One of the bot's messages to redraw (or delete) because a take it quotes changed or went."""

    message_id: int
    guild_id: int | None
    channel_id: int
    #: How the message quotes takes ('listing', 'show', …): what redrawing it means.
    kind: str
    #: Failed tries so far (Discord unavailable); given up on after a few.
    attempts: int


class Store(abc.ABC):
    """One database. Open with :func:`bot.storage.open_store`; close with :meth:`close`."""

    # -- lifecycle ------------------------------------------------------------------------
    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def schema_version(self) -> int: ...

    @abc.abstractmethod
    def exclusive(self, *key: object) -> contextlib.AbstractAsyncContextManager[None]:
        """A lock named by ``key``, held by one task at a time among every process using this
        database (for work that spans awaits outside the database, like refreshing a pinned
        summary on Discord)."""

    # -- takes ----------------------------------------------------------------------------
    @abc.abstractmethod
    async def add_take(self, take: NewTake, *, checks: TakeChecks | None = None) -> Take:
        """Insert and commit; the returned take is durable.

        With ``checks``, the rules are tested in the inserting transaction; a take that fails
        one raises :class:`TakeRefused`. Concurrent calls may share one transaction (group
        commit): each returns only after that transaction's COMMIT, and if the COMMIT fails,
        every take in it raises :class:`StorageError`.
        """

    @abc.abstractmethod
    async def get_take(self, guild_id: int, take_id: int) -> Take | None:
        """A take of this guild; another guild's id is ``None``, as if it did not exist."""

    @abc.abstractmethod
    async def list_takes(
        self,
        guild_id: int,
        article: str,
        *,
        author_id: int | None = None,
        before_id: int | None = None,
        after_id: int | None = None,
        offset: int = 0,
        limit: int = 10,
    ) -> list[Take]:
        """Newest first; keyset pagination: pass the last id of a page as ``before_id`` for the
        next page, or the first id of a page as ``after_id`` for the previous one (the ``limit``
        takes just newer than it; ``after_id=0``: the oldest takes, the last page's end).

        ``offset`` skips that many takes first, from ``before_id`` (or the newest) down, or with
        ``after_id`` from it up: "go to page N" in one query, counted from the nearer end.
        """

    @abc.abstractmethod
    async def count_takes(self, guild_id: int, article: str, *, author_id: int | None = None) -> int:
        """From counters kept with the rows: the same cost at a million takes as at ten."""

    @abc.abstractmethod
    async def edit_take(self, guild_id: int, take_id: int, content: str, edited_at: dt.datetime) -> Take | None:
        """Replace the text; ``None`` if no such take in this guild. Permission is the caller's."""

    @abc.abstractmethod
    async def delete_take(self, guild_id: int, take_id: int) -> bool: ...

    @abc.abstractmethod
    async def last_take_at(self, guild_id: int, author_id: int) -> dt.datetime | None:
        """When this member last saved a take in this guild (any article): the cooldown's start."""

    @abc.abstractmethod
    async def has_recent_duplicate(
        self, guild_id: int, article: str, author_id: int, content: str, since: dt.datetime
    ) -> bool:
        """Whether the member saved exactly this text on this article at or after ``since``."""

    async def member_takes(self, author_id: int, *, guild_id: int | None = None) -> list[Take]:
        """All of a member's takes (in one guild, or everywhere), oldest first: their data export."""
        return [take async for chunk in self.iter_member_takes(author_id, guild_id=guild_id) for take in chunk]

    @abc.abstractmethod
    async def delete_member_data(self, author_id: int) -> int:
        """Delete every take by this member in every guild, and every agreement they gave;
        returns how many takes were deleted."""

    @abc.abstractmethod
    async def take_stats(self, guild_id: int, article: str, *, days: int, today: dt.date) -> TakeStats: ...

    async def export_takes(
        self,
        guild_id: int,
        article: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[Take]:
        """This guild's takes on the article, oldest first, ``since <= created_at < until``."""
        return [take async for chunk in self.iter_takes(guild_id, article, since=since, until=until)
                for take in chunk]

    @abc.abstractmethod
    def iter_takes(
        self,
        guild_id: int,
        article: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        chunk_size: int = 1000,
    ) -> AsyncIterator[list[Take]]:
        """:meth:`export_takes` in chunks of at most ``chunk_size``, oldest first, each chunk its
        own short read: memory stays bounded, and no lock is held between chunks."""

    @abc.abstractmethod
    def iter_member_takes(
        self, author_id: int, *, guild_id: int | None = None, chunk_size: int = 1000
    ) -> AsyncIterator[list[Take]]:
        """:meth:`member_takes` in chunks, oldest first."""

    async def iter_export(
        self,
        guild_id: int | None,
        *,
        article: str | None = None,
        author_id: int | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        chunk_size: int = 1000,
    ) -> AsyncIterator[ExportChunk]:
        """:meth:`iter_takes` (``article`` given) or :meth:`iter_member_takes` (``author_id``
        given) as the export's text. Backends build it in SQL; this default leaves it all to
        the exporter."""
        if article is not None:
            assert guild_id is not None
            chunks = self.iter_takes(guild_id, article, since=since, until=until, chunk_size=chunk_size)
        else:
            assert author_id is not None
            chunks = self.iter_member_takes(author_id, guild_id=guild_id, chunk_size=chunk_size)
        async for chunk in chunks:
            yield ExportChunk.of_takes(chunk)

    @abc.abstractmethod
    async def check_counters(self) -> CounterCheck:
        """Compare the counters with a recount of the takes; changes nothing."""

    @abc.abstractmethod
    async def rebuild_counters(self) -> CounterCheck:
        """Recount every counter from the takes; returns what disagreed before."""

    @abc.abstractmethod
    async def purge_takes_before(self, cutoff: dt.datetime) -> int:
        """Retention: delete takes created before ``cutoff``; returns how many."""

    # -- meetings -------------------------------------------------------------------------
    @abc.abstractmethod
    async def add_meeting(self, meeting: NewMeeting) -> Meeting:
        """Insert a scheduled meeting; :class:`MeetingExists` if the channel already has an
        upcoming or running one of this article (checked by a unique index, so two at once cannot)."""

    @abc.abstractmethod
    async def save_meeting(self, meeting: Meeting) -> None:
        """Write every column of :data:`MEETING_MUTABLE` for this meeting (of its guild)."""

    @abc.abstractmethod
    async def get_meeting(self, guild_id: int, meeting_id: int) -> Meeting | None: ...

    @abc.abstractmethod
    async def active_meeting(self, guild_id: int, channel_id: int, article: str) -> Meeting | None:
        """The channel's upcoming or running meeting of this article, if any."""

    @abc.abstractmethod
    async def upcoming_meetings(self, guild_id: int, article: str, *, limit: int = 5) -> list[Meeting]:
        """The server's upcoming and running meetings of this article, soonest first."""

    @abc.abstractmethod
    async def meeting_in_thread(self, guild_id: int, thread_id: int) -> Meeting | None:
        """The meeting (of any state) whose discussion thread this is."""

    @abc.abstractmethod
    async def due_meetings(self, now: dt.datetime, *, limit: int = 100) -> list[Meeting]:
        """Upcoming or running meetings whose ``next_due_at`` has come, earliest first (an index read)."""

    @abc.abstractmethod
    async def next_meeting_due_at(self) -> dt.datetime | None:
        """The earliest ``next_due_at`` of any upcoming or running meeting (an index read)."""

    # -- polls (V7) -------------------------------------------------------------------------------
    @abc.abstractmethod
    async def add_poll(self, poll: PendingPoll) -> None:
        """Remember a poll the bot posted, until its result is posted."""

    @abc.abstractmethod
    async def closed_polls(self, now: dt.datetime, *, limit: int = 100) -> list[PendingPoll]:
        """Remembered polls whose closing time has come, earliest first (an index read)."""

    @abc.abstractmethod
    async def next_poll_closes_at(self) -> dt.datetime | None:
        """The earliest closing time of a remembered poll (an index read)."""

    @abc.abstractmethod
    async def claim_poll(self, message_id: int) -> bool:
        """Forget the poll; ``True`` only for the one caller that removed it (it posts the result)."""

    @abc.abstractmethod
    async def meeting_takes(self, guild_id: int, meeting_id: int) -> list[tuple[Take, int]]:
        """The meeting's takes with the question each answers, oldest first."""

    @abc.abstractmethod
    async def take_of_message(self, guild_id: int, message_id: int) -> int | None:
        """The id of the meeting take written as this message in a meeting's thread, if any."""

    # -- agreements -----------------------------------------------------------------------
    @abc.abstractmethod
    async def add_agreement(self, guild_id: int, take_id: int, member_id: int, at: dt.datetime) -> bool:
        """Record that a member agrees with a take of this guild; ``False`` if they already did
        (or there is no such take here)."""

    @abc.abstractmethod
    async def remove_agreement(self, guild_id: int, take_id: int, member_id: int) -> bool: ...

    @abc.abstractmethod
    async def agreement_counts(self, guild_id: int, take_ids: Sequence[int]) -> dict[int, int]:
        """How many members agree with each of these takes (takes with none are left out)."""

    @abc.abstractmethod
    async def count_agreed_takes(self, guild_id: int, article: str) -> int:
        """How many of the article's takes here have at least one agreement."""

    @abc.abstractmethod
    async def most_agreed_takes(self, guild_id: int, article: str, *, offset: int = 0,
                                limit: int = 10) -> list[Take]:
        """The article's agreed takes, most agreed first (then newest): ``takes sort:top``."""

    # -- bot metadata ---------------------------------------------------------------------
    @abc.abstractmethod
    async def get_meta(self, key: str) -> str | None: ...

    @abc.abstractmethod
    async def set_meta(self, key: str, value: str) -> None: ...

    # -- guild settings -------------------------------------------------------------------
    @abc.abstractmethod
    async def get_guild_settings(self, guild_id: int) -> GuildSettings: ...

    @abc.abstractmethod
    async def save_guild_settings(self, settings: GuildSettings) -> None: ...

    @abc.abstractmethod
    async def update_guild_settings(
        self, guild_id: int, change: Callable[[GuildSettings], GuildSettings]
    ) -> tuple[GuildSettings, GuildSettings]:
        """Read, change and save a guild's settings as one step no other writer (in this process
        or another on the same database) can interleave with; returns (before, after).

        ``change`` gets the stored settings and returns the new ones (the same ones: nothing is
        written). An exception it raises (an invalid value) leaves the settings as they were and
        reaches the caller unchanged.
        """

    @abc.abstractmethod
    async def guild_prefixes(self) -> dict[int, str]:
        """Every guild's custom prefix, loaded once at start-up for the prefix resolver."""

    # -- pinned summaries -----------------------------------------------------------------
    @abc.abstractmethod
    async def get_pin(self, guild_id: int, channel_id: int, article: str) -> PinRecord | None: ...

    @abc.abstractmethod
    async def save_pin(self, pin: PinRecord) -> None:
        """Insert or replace the record for (guild, channel, article)."""

    @abc.abstractmethod
    async def delete_pin(self, guild_id: int, channel_id: int, article: str) -> bool: ...

    # -- moving a community (``python -m bot migrate-data``) -----------------------------------
    #: Which SQL dialect :meth:`fetch_raw` and :meth:`write_raw` speak: "sqlite" or "postgresql".
    dialect: str

    @abc.abstractmethod
    async def fetch_raw(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        """Rows of one read, as tuples: for the data migration tool only (it writes the SQL)."""

    @abc.abstractmethod
    async def write_raw(self, steps: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> None:
        """Run each (statement, rows) with every row, all in ONE transaction that commits or
        leaves nothing: for the data migration tool only."""

    # -- audit ----------------------------------------------------------------------------
    @abc.abstractmethod
    async def add_audit(
        self, guild_id: int, actor_id: int, action: str, detail: str, created_at: dt.datetime
    ) -> AuditEntry: ...

    @abc.abstractmethod
    async def list_audit(self, guild_id: int, *, limit: int = 20) -> Sequence[AuditEntry]:
        """Newest first."""

    # -- the bot's messages that quote takes (V5) -------------------------------------------
    @abc.abstractmethod
    async def remember_quotes(self, guild_id: int | None, channel_id: int, message_id: int,
                              take_ids: Sequence[int], kind: str, created_at: dt.datetime) -> None:
        """The message now quotes exactly these takes (replacing what it quoted before). A take
        that no longer exists is not remembered, and the message is queued for a redraw at once:
        it was deleted between the drawing and this call."""

    @abc.abstractmethod
    async def quoted_take_ids(self, message_id: int) -> list[int]:
        """The takes a message still quotes (those deleted since are gone from here), oldest id first."""

    @abc.abstractmethod
    async def pending_redraws(self, *, limit: int) -> list[QuoteRedraw]:
        """Messages queued for a redraw (by the triggers on takes), fewest failed tries first."""

    @abc.abstractmethod
    async def queue_guild_redraws(self, guild_id: int) -> int:
        """Queue every remembered message quoting this server's takes (its rules for showing them
        changed); how many were queued."""

    @abc.abstractmethod
    async def finish_redraw(self, message_id: int) -> None:
        """The message was redrawn: it leaves the queue (and keeps what it quotes now)."""

    @abc.abstractmethod
    async def retry_redraw(self, message_id: int) -> None:
        """A redraw failed for now: count the try; the message stays queued."""

    @abc.abstractmethod
    async def forget_message(self, message_id: int) -> None:
        """Forget a message entirely (gone, deleted by the redraw, or no longer ours to edit)."""
