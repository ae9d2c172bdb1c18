-- V6: journal-club meetings, the takes written in them, and members agreeing with takes.
--
-- Nothing is dropped or rebuilt: `takes` keeps its shape (and its CHECK on source and the V3
-- counter triggers); the meeting a take belongs to is a row of `meeting_takes`, written in the
-- same transaction as the take and gone with it (ON DELETE CASCADE: erasure, retention, delete).

CREATE TABLE meetings (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id        INTEGER NOT NULL,
    channel_id      INTEGER NOT NULL,
    article         TEXT    NOT NULL,
    starts_at       TEXT    NOT NULL,  -- UTC, as every time here
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
    state           TEXT    NOT NULL CHECK (state IN ('scheduled', 'running', 'ended', 'cancelled')),
    -- The moderator who scheduled (or started) it: the meeting's takes go to them by DM at the end.
    moderator_id    INTEGER NOT NULL,
    -- The discussion question on the table (1-based); 0 before the first.
    question        INTEGER NOT NULL DEFAULT 0 CHECK (question >= 0),
    thread_id       INTEGER,
    event_id        INTEGER,
    announcement_id INTEGER,
    reminded_day    INTEGER NOT NULL DEFAULT 0 CHECK (reminded_day IN (0, 1)),
    reminded_hour   INTEGER NOT NULL DEFAULT 0 CHECK (reminded_hour IN (0, 1)),
    -- When the due-work loop must look at this meeting next (a reminder, the start, the end).
    next_due_at     TEXT,
    started_at      TEXT,
    ended_at        TEXT
);

-- The due-work loop: "what is due by now", read from this index, never a scan of every meeting.
CREATE INDEX meetings_due ON meetings (next_due_at) WHERE state IN ('scheduled', 'running');
-- One upcoming (or running) meeting per channel and article.
CREATE UNIQUE INDEX meetings_one_active ON meetings (guild_id, channel_id, article)
    WHERE state IN ('scheduled', 'running');
-- A message in a meeting's thread finds its meeting.
CREATE INDEX meetings_by_thread ON meetings (thread_id) WHERE thread_id IS NOT NULL;
-- A server's meetings of an article (members' `meeting`).
CREATE INDEX meetings_by_guild ON meetings (guild_id, article, starts_at);

CREATE TABLE meeting_takes (
    take_id    INTEGER PRIMARY KEY REFERENCES takes (id) ON DELETE CASCADE,
    meeting_id INTEGER NOT NULL REFERENCES meetings (id),
    question   INTEGER NOT NULL CHECK (question >= 0),
    -- The member's message in the thread: a 👍 on it agrees with the take.
    message_id INTEGER
);

CREATE INDEX meeting_takes_by_meeting ON meeting_takes (meeting_id, question);
CREATE INDEX meeting_takes_by_message ON meeting_takes (message_id) WHERE message_id IS NOT NULL;

-- A member agreeing with a take (a 👍 or the Agree button): once per member, gone with the take
-- or with the member's erasure.
CREATE TABLE agreements (
    take_id    INTEGER NOT NULL REFERENCES takes (id) ON DELETE CASCADE,
    member_id  INTEGER NOT NULL,
    -- The take's guild and article, copied from it: `takes sort:top` counts an article's
    -- agreements from an index, without reading every take.
    guild_id   INTEGER NOT NULL,
    article    TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (take_id, member_id)
) WITHOUT ROWID;

CREATE INDEX agreements_by_member ON agreements (member_id);
CREATE INDEX agreements_by_article ON agreements (guild_id, article, take_id);

-- Per-server meeting settings: the time zone `<when>` is read in (IANA name; NULL = UTC), and
-- whether reminders are posted a day and an hour before.
ALTER TABLE guild_settings ADD COLUMN timezone TEXT;
ALTER TABLE guild_settings ADD COLUMN meeting_reminders INTEGER NOT NULL DEFAULT 1 CHECK (meeting_reminders IN (0, 1));
