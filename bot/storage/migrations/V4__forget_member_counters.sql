-- A member's per-article count leaves with their last take there: a row of 0 would keep the
-- member's id after `forgetme` (or a retention purge) took every word they wrote. The delete
-- trigger now removes it, and existing rows of 0 go.
DROP TRIGGER takes_count_delete;

CREATE TRIGGER takes_count_delete AFTER DELETE ON takes BEGIN
    UPDATE take_member_counts SET takes = takes - 1
        WHERE guild_id = OLD.guild_id AND article = OLD.article AND author_id = OLD.author_id;
    UPDATE take_counts SET takes = takes - 1,
            members = members - ((SELECT m.takes FROM take_member_counts AS m
                                  WHERE m.guild_id = OLD.guild_id AND m.article = OLD.article
                                    AND m.author_id = OLD.author_id) = 0)
        WHERE guild_id = OLD.guild_id AND article = OLD.article;
    DELETE FROM take_member_counts
        WHERE guild_id = OLD.guild_id AND article = OLD.article AND author_id = OLD.author_id AND takes <= 0;
    UPDATE take_day_counts SET takes = takes - 1
        WHERE guild_id = OLD.guild_id AND article = OLD.article AND day = substr(OLD.created_at, 1, 10);
END;

DELETE FROM take_member_counts WHERE takes <= 0;
