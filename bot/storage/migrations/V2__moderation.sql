-- V2: what moderators choose per guild, the summaries the bot keeps pinned, and an audit trail.

CREATE TABLE guild_settings (
    guild_id              INTEGER PRIMARY KEY,
    -- NULL means "use the bot-wide default" for each of these.
    moderator_role_id     INTEGER,
    take_max_length       INTEGER CHECK (take_max_length IS NULL OR take_max_length > 0),
    take_cooldown_seconds INTEGER CHECK (take_cooldown_seconds IS NULL OR take_cooldown_seconds >= 0),
    -- A JSON array of channel ids; '[]' means takes are accepted in every channel.
    take_channel_ids      TEXT    NOT NULL DEFAULT '[]',
    anonymous_lists       INTEGER NOT NULL DEFAULT 0 CHECK (anonymous_lists IN (0, 1)),
    prefix                TEXT
);

CREATE TABLE pins (
    guild_id     INTEGER NOT NULL,
    channel_id   INTEGER NOT NULL,
    article      TEXT    NOT NULL,
    message_id   INTEGER NOT NULL,
    content_hash TEXT    NOT NULL,
    pinned_at    TEXT    NOT NULL,
    PRIMARY KEY (guild_id, channel_id, article)
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id   INTEGER NOT NULL,
    actor_id   INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);

-- A guild's audit trail, newest first.
CREATE INDEX audit_log_by_guild ON audit_log (guild_id, id DESC);
