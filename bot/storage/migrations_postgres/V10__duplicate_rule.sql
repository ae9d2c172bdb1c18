-- V10 (PostgreSQL): the duplicate rule reads one index entry, not the member's recent takes.
--
-- The rule ("the same words from the same member on the same article within the window") read
-- the member's (guild_id, author_id, created_at) index and then every take in the window, up to
-- hundreds a member, to compare their words: measured as a quarter of a lone take's cost with
-- one take a second and a 10-minute window. takes_by_author (author_id) becomes
-- takes_by_author_text (author_id, a 64-bit hash of the words): the same leading column for
-- what read the old index (a member's takes across guilds, `forgetme`), and one probe for the
-- rule, whose other conditions are written so that no other index can serve it (`+ 0`,
-- `+ interval '0 s'`, `|| ''`): a fresh, unanalysed table otherwise costs the two plans alike
-- and PL/pgSQL keeps whichever it picked. A hash collision only costs a comparison: the words
-- themselves are compared too. hashtextextended is stable across PostgreSQL versions (hash
-- partitioning relies on it).
--
-- cf_add_take returns its one row as OUT parameters (no set to materialise): dropped and created
-- again, as CREATE OR REPLACE cannot change a function's result type. cf_add_takes is the V8
-- statement with the new rule. A new column of takes still needs a migration that replaces both
-- (tests/test_storage.py compares their arguments with NEW_TAKE_COLUMNS).
CREATE INDEX takes_by_author_text ON takes (author_id, hashtextextended(content, 0));
DROP INDEX takes_by_author;

DROP FUNCTION cf_add_take(bigint, bigint, bigint, text, bigint, text, text, text, text, timestamptz, timestamptz,
                          timestamptz, bigint, int, bigint);
CREATE FUNCTION cf_add_take(
    lock_key bigint, new_guild_id bigint, new_channel_id bigint, new_article text, new_author_id bigint,
    new_author_name text, new_content text, new_source text, new_message_url text, new_created_at timestamptz,
    duplicate_since timestamptz, cooldown_since timestamptz, new_meeting_id bigint, new_question int,
    new_message_id bigint, OUT take_id bigint, OUT refused text, OUT last_take_at timestamptz
) LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    IF lock_key IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(lock_key);
    END IF;
    INSERT INTO takes (guild_id, channel_id, article, author_id, author_name, content, source, message_url, created_at)
    SELECT new_guild_id, new_channel_id, new_article, new_author_id, new_author_name, new_content, new_source,
           new_message_url, new_created_at
    WHERE NOT EXISTS (SELECT 1 FROM takes t WHERE t.author_id = new_author_id
                      AND hashtextextended(t.content, 0) = hashtextextended(new_content, 0)
                      AND t.guild_id + 0 = new_guild_id AND t.created_at + interval '0 s' >= duplicate_since
                      AND t.article || '' = new_article AND t.content = new_content)
      AND NOT EXISTS (SELECT 1 FROM takes t WHERE t.guild_id = new_guild_id AND t.author_id = new_author_id
                      AND t.created_at > cooldown_since)
    RETURNING id INTO take_id;
    IF take_id IS NULL THEN
        SELECT CASE WHEN EXISTS (SELECT 1 FROM takes t WHERE t.author_id = new_author_id
                                 AND hashtextextended(t.content, 0) = hashtextextended(new_content, 0)
                                 AND t.guild_id + 0 = new_guild_id AND t.created_at + interval '0 s' >= duplicate_since
                                 AND t.article || '' = new_article AND t.content = new_content)
                    THEN 'duplicate' ELSE 'cooldown' END,
               (SELECT MAX(t.created_at) FROM takes t WHERE t.guild_id = new_guild_id AND t.author_id = new_author_id)
          INTO refused, last_take_at;
    ELSIF new_meeting_id IS NOT NULL THEN
        INSERT INTO meeting_takes (take_id, meeting_id, question, message_id)
        SELECT take_id, m.id, new_question, new_message_id FROM meetings m WHERE m.id = new_meeting_id;
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION cf_add_takes(
    lock_keys bigint[],
    guild_ids bigint[], channel_ids bigint[], articles text[], author_ids bigint[], author_names text[],
    contents text[], sources text[], message_urls text[], created_ats timestamptz[],
    duplicate_sinces timestamptz[], cooldown_sinces timestamptz[], positions int[],
    meeting_ids bigint[], questions int[], message_ids bigint[]
) RETURNS TABLE (take_position int, take_id bigint, refused text, last_take_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    PERFORM pg_advisory_xact_lock(k) FROM unnest(lock_keys) AS k ORDER BY k;
    RETURN QUERY
    WITH RECURSIVE given AS (
        SELECT * FROM unnest(guild_ids, channel_ids, articles, author_ids, author_names, contents, sources,
                             message_urls, created_ats, duplicate_sinces, cooldown_sinces, positions,
                             meeting_ids, questions, message_ids)
            AS g(guild_id, channel_id, article, author_id, author_name, content, source, message_url,
                 created_at, duplicate_since, cooldown_since, position, meeting_id, question, message_id)
    ), member AS (
        SELECT g.*, row_number() OVER (PARTITION BY g.guild_id, g.author_id ORDER BY g.position) AS rank,
               EXISTS (SELECT 1 FROM takes t WHERE t.author_id = g.author_id
                       AND hashtextextended(t.content, 0) = hashtextextended(g.content, 0)
                       AND t.guild_id + 0 = g.guild_id AND t.created_at + interval '0 s' >= g.duplicate_since
                       AND t.article || '' = g.article AND t.content = g.content) AS duplicate_before,
               EXISTS (SELECT 1 FROM takes t WHERE t.guild_id = g.guild_id AND t.author_id = g.author_id
                       AND t.created_at > g.cooldown_since) AS cooling_before
        FROM given g
    ), walk AS (
        SELECT m.guild_id, m.author_id, m.rank, m.position, v.refused,
               CASE WHEN v.refused IS NULL THEN ARRAY[m.position] ELSE '{}'::int[] END AS kept_before
        FROM member m
        CROSS JOIN LATERAL (SELECT CASE WHEN m.duplicate_before THEN 'duplicate'
                                        WHEN m.cooling_before THEN 'cooldown' END AS refused) v
        WHERE m.rank = 1
        UNION ALL
        SELECT m.guild_id, m.author_id, m.rank, m.position, v.refused,
               CASE WHEN v.refused IS NULL THEN w.kept_before || m.position ELSE w.kept_before END
        FROM walk w
        JOIN member m ON m.guild_id = w.guild_id AND m.author_id = w.author_id AND m.rank = w.rank + 1
        CROSS JOIN LATERAL (SELECT CASE
            WHEN m.duplicate_before OR EXISTS (
                SELECT 1 FROM member k WHERE k.position = ANY (w.kept_before) AND k.created_at >= m.duplicate_since
                AND k.article = m.article AND k.content = m.content) THEN 'duplicate'
            WHEN m.cooling_before OR EXISTS (
                SELECT 1 FROM member k WHERE k.position = ANY (w.kept_before)
                AND k.created_at > m.cooldown_since) THEN 'cooldown' END AS refused) v
    ), kept AS (
        SELECT s.*, nextval(pg_get_serial_sequence('takes', 'id')) AS id
        FROM (SELECT m.* FROM member m JOIN walk w USING (position) WHERE w.refused IS NULL
              ORDER BY m.guild_id, m.article, m.author_id, m.position) s
    ), inserted AS (
        INSERT INTO takes (id, guild_id, channel_id, article, author_id, author_name, content, source,
                           message_url, created_at)
        SELECT k.id, k.guild_id, k.channel_id, k.article, k.author_id, k.author_name, k.content, k.source,
               k.message_url, k.created_at FROM kept k ORDER BY k.id
    ), linked AS (  -- a take written in a meeting's thread, with the question then on the table
        INSERT INTO meeting_takes (take_id, meeting_id, question, message_id)
        SELECT k.id, m.id, k.question, k.message_id FROM kept k JOIN meetings m ON m.id = k.meeting_id ORDER BY k.id
    )
    SELECT w.position, k.id, w.refused,
           CASE WHEN w.refused IS NOT NULL THEN GREATEST(
               (SELECT MAX(t.created_at) FROM takes t WHERE t.guild_id = w.guild_id AND t.author_id = w.author_id),
               (SELECT MAX(b.created_at) FROM member b WHERE b.position = ANY (w.kept_before))) END
    FROM walk w LEFT JOIN kept k USING (position);
END;
$$;
