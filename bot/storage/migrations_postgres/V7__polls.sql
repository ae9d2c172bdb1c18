-- V7 (PostgreSQL): the polls the bot posted and has not yet answered (see the SQLite V7).

CREATE TABLE polls (
    message_id BIGINT      PRIMARY KEY,
    guild_id   BIGINT      NOT NULL,
    channel_id BIGINT      NOT NULL,
    closes_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX polls_by_close ON polls (closes_at);
