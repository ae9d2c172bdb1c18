-- V9 (PostgreSQL): "go to page N" at the cost of a page near either end, as the SQLite V9.
--
-- Takes per block of 256 consecutive ids per (guild, article), kept by the counting triggers
-- (their functions replaced here with one more statement each). The pager sums these counts
-- from the nearer end to find the block a far page starts in, then skips fewer than 256 index
-- entries (bot.storage.postgres list_takes). A block whose takes all went loses its row.
CREATE TABLE take_blocks (
    guild_id BIGINT NOT NULL,
    article  TEXT   NOT NULL,
    block    BIGINT NOT NULL,  -- id >> 8: the ids block * 256 to block * 256 + 255
    takes    BIGINT NOT NULL,
    PRIMARY KEY (guild_id, article, block)
);

INSERT INTO take_blocks (guild_id, article, block, takes)
    SELECT guild_id, article, id >> 8, COUNT(*) FROM takes GROUP BY guild_id, article, id >> 8;

CREATE OR REPLACE FUNCTION takes_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
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
    INSERT INTO take_blocks AS b (guild_id, article, block, takes)
        VALUES (NEW.guild_id, NEW.article, NEW.id >> 8, 1)
        ON CONFLICT (guild_id, article, block) DO UPDATE SET takes = b.takes + 1;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION takes_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    member_takes BIGINT;
    block_takes BIGINT;
BEGIN
    UPDATE take_member_counts SET takes = takes - 1
        WHERE guild_id = OLD.guild_id AND article = OLD.article AND author_id = OLD.author_id
        RETURNING takes INTO member_takes;
    UPDATE take_counts SET takes = takes - 1,
            members = members - CASE WHEN member_takes = 0 THEN 1 ELSE 0 END
        WHERE guild_id = OLD.guild_id AND article = OLD.article;
    IF member_takes <= 0 THEN
        DELETE FROM take_member_counts
            WHERE guild_id = OLD.guild_id AND article = OLD.article AND author_id = OLD.author_id;
    END IF;
    UPDATE take_day_counts SET takes = takes - 1
        WHERE guild_id = OLD.guild_id AND article = OLD.article
          AND day = (OLD.created_at AT TIME ZONE 'UTC')::date;
    UPDATE take_blocks SET takes = takes - 1
        WHERE guild_id = OLD.guild_id AND article = OLD.article AND block = OLD.id >> 8
        RETURNING takes INTO block_takes;
    IF block_takes <= 0 THEN
        DELETE FROM take_blocks WHERE guild_id = OLD.guild_id AND article = OLD.article AND block = OLD.id >> 8;
    END IF;
    RETURN NULL;
END;
$$;
