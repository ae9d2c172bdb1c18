-- V5 (PostgreSQL): which of the bot's own messages quote which takes, so that erasure reaches
-- them. The same tables and triggers as the SQLite V5 (see there for why).

CREATE TABLE take_quotes (
    guild_id   BIGINT,                 -- NULL in a DM
    channel_id BIGINT      NOT NULL,
    message_id BIGINT      NOT NULL,
    take_id    BIGINT      NOT NULL,
    kind       TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (message_id, take_id)
);

CREATE INDEX take_quotes_by_take ON take_quotes (take_id);
-- "Every message quoting this server's takes": redrawn when the server makes takes anonymous.
CREATE INDEX take_quotes_by_guild ON take_quotes (guild_id);

CREATE TABLE quote_redraws (
    message_id BIGINT PRIMARY KEY,
    guild_id   BIGINT,
    channel_id BIGINT  NOT NULL,
    kind       TEXT    NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
);

CREATE FUNCTION take_quotes_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO quote_redraws (message_id, guild_id, channel_id, kind)
        SELECT message_id, guild_id, channel_id, kind FROM take_quotes WHERE take_id = OLD.id
        ON CONFLICT (message_id) DO NOTHING;
    DELETE FROM take_quotes WHERE take_id = OLD.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER take_quotes_on_delete AFTER DELETE ON takes
    FOR EACH ROW EXECUTE FUNCTION take_quotes_on_delete();

CREATE FUNCTION take_quotes_on_edit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO quote_redraws (message_id, guild_id, channel_id, kind)
        SELECT message_id, guild_id, channel_id, kind FROM take_quotes WHERE take_id = NEW.id
        ON CONFLICT (message_id) DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER take_quotes_on_edit AFTER UPDATE OF content ON takes
    FOR EACH ROW EXECUTE FUNCTION take_quotes_on_edit();
