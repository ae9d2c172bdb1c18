-- V3: counts and stats in constant time, and indexes for the paths a million takes made slow.
--
-- Three counter tables are kept by triggers on `takes`, so every insert and delete (whatever
-- issues it: a take, a delete, "forget me", a retention purge, an operator's SQL) changes them
-- in the same transaction as the rows. Edits change only the text and `edited_at`, which no
-- counter depends on. Existing rows are counted here; `SqliteStore.rebuild_counters` recounts.
-- A counter that falls to zero stays as a row of 0 (read like a missing one), so the triggers
-- never delete. Nothing is dropped but one index, which `takes_by_guild_author_time` replaces.

-- Takes and distinct members per (guild, article): `takes`, `stats`.
CREATE TABLE take_counts (
    guild_id INTEGER NOT NULL,
    article  TEXT    NOT NULL,
    takes    INTEGER NOT NULL,
    members  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, article)
) WITHOUT ROWID;

-- Takes per member per (guild, article): `takes @member`, `mytakes`, and whether a delete
-- removed a member's last take there (the distinct-members count).
CREATE TABLE take_member_counts (
    guild_id  INTEGER NOT NULL,
    article   TEXT    NOT NULL,
    author_id INTEGER NOT NULL,
    takes     INTEGER NOT NULL,
    PRIMARY KEY (guild_id, article, author_id)
) WITHOUT ROWID;

-- Takes per UTC day per (guild, article): the 30-day sparkline of `stats`.
CREATE TABLE take_day_counts (
    guild_id INTEGER NOT NULL,
    article  TEXT    NOT NULL,
    day      TEXT    NOT NULL,  -- 'YYYY-MM-DD', the first ten characters of created_at
    takes    INTEGER NOT NULL,
    PRIMARY KEY (guild_id, article, day)
) WITHOUT ROWID;

INSERT INTO take_member_counts (guild_id, article, author_id, takes)
    SELECT guild_id, article, author_id, COUNT(*) FROM takes GROUP BY guild_id, article, author_id;
INSERT INTO take_counts (guild_id, article, takes, members)
    SELECT guild_id, article, SUM(takes), COUNT(*) FROM take_member_counts GROUP BY guild_id, article;
INSERT INTO take_day_counts (guild_id, article, day, takes)
    SELECT guild_id, article, substr(created_at, 1, 10), COUNT(*) FROM takes
    GROUP BY guild_id, article, substr(created_at, 1, 10);

CREATE TRIGGER takes_count_insert AFTER INSERT ON takes BEGIN
    INSERT INTO take_member_counts (guild_id, article, author_id, takes)
        VALUES (NEW.guild_id, NEW.article, NEW.author_id, 1)
        ON CONFLICT (guild_id, article, author_id) DO UPDATE SET takes = takes + 1;
    INSERT INTO take_counts (guild_id, article, takes, members)
        VALUES (NEW.guild_id, NEW.article, 1, 1)
        ON CONFLICT (guild_id, article) DO UPDATE SET takes = takes + 1,
            members = members + ((SELECT m.takes FROM take_member_counts AS m
                                  WHERE m.guild_id = NEW.guild_id AND m.article = NEW.article
                                    AND m.author_id = NEW.author_id) = 1);
    INSERT INTO take_day_counts (guild_id, article, day, takes)
        VALUES (NEW.guild_id, NEW.article, substr(NEW.created_at, 1, 10), 1)
        ON CONFLICT (guild_id, article, day) DO UPDATE SET takes = takes + 1;
END;

CREATE TRIGGER takes_count_delete AFTER DELETE ON takes BEGIN
    UPDATE take_member_counts SET takes = takes - 1
        WHERE guild_id = OLD.guild_id AND article = OLD.article AND author_id = OLD.author_id;
    UPDATE take_counts SET takes = takes - 1,
            members = members - ((SELECT m.takes FROM take_member_counts AS m
                                  WHERE m.guild_id = OLD.guild_id AND m.article = OLD.article
                                    AND m.author_id = OLD.author_id) = 0)
        WHERE guild_id = OLD.guild_id AND article = OLD.article;
    UPDATE take_day_counts SET takes = takes - 1
        WHERE guild_id = OLD.guild_id AND article = OLD.article AND day = substr(OLD.created_at, 1, 10);
END;

-- A take never moves: not to another guild (guilds never see each other's takes), article,
-- author or day. Refusing such an UPDATE keeps the counters right without a third trigger
-- that would repeat the two above.
CREATE TRIGGER takes_never_move BEFORE UPDATE OF guild_id, article, author_id, created_at ON takes
WHEN OLD.guild_id IS NOT NEW.guild_id OR OLD.article IS NOT NEW.article
  OR OLD.author_id IS NOT NEW.author_id OR substr(OLD.created_at, 1, 10) IS NOT substr(NEW.created_at, 1, 10)
BEGIN
    SELECT RAISE(ABORT, 'a take keeps its guild, article, author and day; delete it and add a new one');
END;

-- The cooldown ("any take by this member here after T") and the duplicate check ("this text on
-- this article after T") are range reads on the member's newest takes; a member's export in
-- one guild reads them in time order. Replaces (guild_id, author_id, id).
CREATE INDEX takes_by_guild_author_time ON takes (guild_id, author_id, created_at);
DROP INDEX takes_by_guild_author;
-- `takes @member` and `mytakes`, newest first, without reading the article's other takes.
CREATE INDEX takes_by_guild_article_author ON takes (guild_id, article, author_id, id DESC);
-- Exports stream an article's takes in time order, chunk by chunk (keyset on created_at, id).
CREATE INDEX takes_by_guild_article_time ON takes (guild_id, article, created_at, id);
