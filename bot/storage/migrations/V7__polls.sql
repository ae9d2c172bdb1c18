-- V7: the "which article next?" polls the bot posted and has not yet answered.
--
-- Discord closes a poll on its own schedule; the bot posts the result when it sees it closed. A
-- row here is what lets it do so after a restart, or when it was offline at the closing moment,
-- and only once (the row goes when the result is posted). No member data: the poll's votes stay
-- on Discord, and only their counts are posted.

CREATE TABLE polls (
    message_id INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    closes_at  TEXT    NOT NULL  -- UTC, as every time here
);

-- The due-work loop: "which polls have closed by now", an index read.
CREATE INDEX polls_by_close ON polls (closes_at);
