-- A member's per-article count leaves with their last take there: a row of 0 would keep the
-- member's id after `forgetme` (or a retention purge) took every word they wrote. The delete
-- trigger now removes it, and existing rows of 0 go.
CREATE OR REPLACE FUNCTION takes_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    member_takes BIGINT;
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
    RETURN NULL;
END;
$$;

DELETE FROM take_member_counts WHERE takes <= 0;
