-- V5: which of the bot's own messages quote which takes, so that erasure reaches them.
--
-- A takes listing or a `show` card in a channel repeats a member's words and name for every
-- reader. The bot remembers those messages here; when a quoted take is deleted (by its author,
-- a moderator, `forgetme` or retention) or edited, a trigger queues the message in
-- quote_redraws in the same transaction, and the bot redraws or deletes it (bot/quotes.py). The
-- queue is a table, so work queued before a restart is done after it.
--
-- A take's rows here go with the take: they point at words that no longer exist. The queued
-- redraw holds only the bot's own message id, never a take id.

CREATE TABLE take_quotes (
    guild_id   INTEGER,                -- NULL in a DM
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    take_id    INTEGER NOT NULL,
    kind       TEXT    NOT NULL,       -- how the message quotes it: 'listing', 'show', …
    created_at TEXT    NOT NULL,
    PRIMARY KEY (message_id, take_id)
);

-- "Which messages quote this take": the triggers below, on every delete and edit.
CREATE INDEX take_quotes_by_take ON take_quotes (take_id);
-- "Every message quoting this server's takes": redrawn when the server makes takes anonymous.
CREATE INDEX take_quotes_by_guild ON take_quotes (guild_id);

CREATE TABLE quote_redraws (
    message_id INTEGER PRIMARY KEY,
    guild_id   INTEGER,
    channel_id INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER take_quotes_on_delete AFTER DELETE ON takes BEGIN
    INSERT OR IGNORE INTO quote_redraws (message_id, guild_id, channel_id, kind)
        SELECT message_id, guild_id, channel_id, kind FROM take_quotes WHERE take_id = OLD.id;
    DELETE FROM take_quotes WHERE take_id = OLD.id;
END;

CREATE TRIGGER take_quotes_on_edit AFTER UPDATE OF content ON takes BEGIN
    INSERT OR IGNORE INTO quote_redraws (message_id, guild_id, channel_id, kind)
        SELECT message_id, guild_id, channel_id, kind FROM take_quotes WHERE take_id = NEW.id;
END;
