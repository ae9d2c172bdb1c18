-- V3 (PostgreSQL): counts and stats in constant time, kept by triggers in the same transaction
-- as every insert and delete, like the SQLite V3. A counter that falls to zero stays as a row
-- of 0 (read like a missing one). Nothing is dropped but one index, which
-- takes_by_guild_author_time replaces.

CREATE TABLE take_counts (
    guild_id BIGINT NOT NULL,
    article  TEXT   NOT NULL,
    takes    BIGINT NOT NULL,
    members  BIGINT NOT NULL,
    PRIMARY KEY (guild_id, article)
);

CREATE TABLE take_member_counts (
    guild_id  BIGINT NOT NULL,
    article   TEXT   NOT NULL,
    author_id BIGINT NOT NULL,
    takes     BIGINT NOT NULL,
    PRIMARY KEY (guild_id, article, author_id)
);

-- Takes per UTC day per (guild, article): the 30-day sparkline of `stats`.
CREATE TABLE take_day_counts (
    guild_id BIGINT NOT NULL,
    article  TEXT   NOT NULL,
    day      DATE   NOT NULL,
    takes    BIGINT NOT NULL,
    PRIMARY KEY (guild_id, article, day)
);

INSERT INTO take_member_counts (guild_id, article, author_id, takes)
    SELECT guild_id, article, author_id, COUNT(*) FROM takes GROUP BY guild_id, article, author_id;
INSERT INTO take_counts (guild_id, article, takes, members)
    SELECT guild_id, article, SUM(takes), COUNT(*) FROM take_member_counts GROUP BY guild_id, article;
INSERT INTO take_day_counts (guild_id, article, day, takes)
    SELECT guild_id, article, (created_at AT TIME ZONE 'UTC')::date, COUNT(*) FROM takes
    GROUP BY guild_id, article, (created_at AT TIME ZONE 'UTC')::date;

CREATE FUNCTION takes_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    member_takes BIGINT;
BEGIN
    INSERT INTO take_member_counts AS m (guild_id, article, author_id, takes)
        VALUES (NEW.guild_id, NEW.article, NEW.author_id, 1)
        ON CONFLICT (guild_id, article, author_id) DO UPDATE SET takes = m.takes + 1
        RETURNING m.takes INTO member_takes;
    INSERT INTO take_counts AS c (guild_id, article, takes, members)
        VALUES (NEW.guild_id, NEW.article, 1, 1)
        ON CONFLICT (guild_id, article) DO UPDATE SET takes = c.takes + 1,
            members = c.members + CASE WHEN member_takes = 1 THEN 1 ELSE 0 END;
    INSERT INTO take_day_counts AS d (guild_id, article, day, takes)
        VALUES (NEW.guild_id, NEW.article, (NEW.created_at AT TIME ZONE 'UTC')::date, 1)
        ON CONFLICT (guild_id, article, day) DO UPDATE SET takes = d.takes + 1;
    RETURN NULL;
END;
$$;

CREATE FUNCTION takes_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    member_takes BIGINT;
BEGIN
    UPDATE take_member_counts SET takes = takes - 1
        WHERE guild_id = OLD.guild_id AND article = OLD.article AND author_id = OLD.author_id
        RETURNING takes INTO member_takes;
    UPDATE take_counts SET takes = takes - 1,
            members = members - CASE WHEN member_takes = 0 THEN 1 ELSE 0 END
        WHERE guild_id = OLD.guild_id AND article = OLD.article;
    UPDATE take_day_counts SET takes = takes - 1
        WHERE guild_id = OLD.guild_id AND article = OLD.article
          AND day = (OLD.created_at AT TIME ZONE 'UTC')::date;
    RETURN NULL;
END;
$$;

-- A take never moves: not to another guild, article, author or day (the counters rely on it).
CREATE FUNCTION takes_never_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.guild_id IS DISTINCT FROM NEW.guild_id OR OLD.article IS DISTINCT FROM NEW.article
       OR OLD.author_id IS DISTINCT FROM NEW.author_id
       OR (OLD.created_at AT TIME ZONE 'UTC')::date IS DISTINCT FROM (NEW.created_at AT TIME ZONE 'UTC')::date THEN
        RAISE EXCEPTION 'a take keeps its guild, article, author and day; delete it and add a new one'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER takes_count_insert AFTER INSERT ON takes FOR EACH ROW EXECUTE FUNCTION takes_count_insert();
CREATE TRIGGER takes_count_delete AFTER DELETE ON takes FOR EACH ROW EXECUTE FUNCTION takes_count_delete();
CREATE TRIGGER takes_never_move BEFORE UPDATE OF guild_id, article, author_id, created_at ON takes
    FOR EACH ROW EXECUTE FUNCTION takes_never_move();

CREATE INDEX takes_by_guild_author_time ON takes (guild_id, author_id, created_at);
DROP INDEX takes_by_guild_author;
CREATE INDEX takes_by_guild_article_author ON takes (guild_id, article, author_id, id DESC);
CREATE INDEX takes_by_guild_article_time ON takes (guild_id, article, created_at, id);
