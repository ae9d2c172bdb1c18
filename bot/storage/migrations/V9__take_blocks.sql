-- V9: "go to page N" at the cost of a page near either end, whatever N is.
--
-- Takes per block of 256 consecutive ids per (guild, article), kept by the same kind of triggers
-- as the V3 counters. A page far from both ends of a list of a million takes skipped every take
-- before it in the index (page 500: 4,990 entries); the pager now sums these counts from the
-- nearer end to find the block the page starts in, then skips fewer than 256 entries in it
-- (bot.storage.sqlite list_takes, take_blocks_page). A block whose takes all went loses its row
-- (a row of 0 would be a block to walk past for nothing). Ids never change: takes_never_move
-- already refuses to move a take, and nothing updates an id.
CREATE TABLE take_blocks (
    guild_id INTEGER NOT NULL,
    article  TEXT    NOT NULL,
    block    INTEGER NOT NULL,  -- id >> 8: the ids block * 256 to block * 256 + 255
    takes    INTEGER NOT NULL,
    PRIMARY KEY (guild_id, article, block)
) WITHOUT ROWID;

INSERT INTO take_blocks (guild_id, article, block, takes)
    SELECT guild_id, article, id >> 8, COUNT(*) FROM takes GROUP BY guild_id, article, id >> 8;

CREATE TRIGGER takes_block_insert AFTER INSERT ON takes BEGIN
    INSERT INTO take_blocks (guild_id, article, block, takes) VALUES (NEW.guild_id, NEW.article, NEW.id >> 8, 1)
        ON CONFLICT (guild_id, article, block) DO UPDATE SET takes = takes + 1;
END;

CREATE TRIGGER takes_block_delete AFTER DELETE ON takes BEGIN
    UPDATE take_blocks SET takes = takes - 1
        WHERE guild_id = OLD.guild_id AND article = OLD.article AND block = OLD.id >> 8;
    DELETE FROM take_blocks
        WHERE guild_id = OLD.guild_id AND article = OLD.article AND block = OLD.id >> 8 AND takes <= 0;
END;
