-- V1: the takes members write about an article, and a small key/value table for the bot itself.
--
-- Times are ISO-8601 UTC text with microseconds ('2026-01-01T00:00:00.000000+00:00'), so text
-- order is time order and range queries on created_at use its index.
-- Discord ids are INTEGER: SQLite integers are 64-bit, enough for every snowflake.

CREATE TABLE takes (
    -- AUTOINCREMENT so a deleted take's id is never handed to a new take: ids people quote
    -- ("take #42") must not start pointing at someone else's words.
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id    INTEGER NOT NULL,
    channel_id  INTEGER NOT NULL,
    article     TEXT    NOT NULL,
    author_id   INTEGER NOT NULL,
    author_name TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    source      TEXT    NOT NULL CHECK (source IN ('command', 'modal', 'reply', 'button')),
    message_url TEXT,
    created_at  TEXT    NOT NULL,
    edited_at   TEXT
);

-- A page of an article's takes, newest first (keyset pagination on id).
CREATE INDEX takes_by_guild_article ON takes (guild_id, article, id DESC);
-- A member's takes in one guild: cooldown, duplicate check, per-guild data export.
CREATE INDEX takes_by_guild_author ON takes (guild_id, author_id, id);
-- A member's takes everywhere: data export and "forget me" across guilds.
CREATE INDEX takes_by_author ON takes (author_id);
-- Retention purges and date-bounded exports.
CREATE INDEX takes_by_created_at ON takes (created_at);

CREATE TABLE bot_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
