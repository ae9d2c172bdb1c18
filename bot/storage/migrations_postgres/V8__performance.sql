-- A group of takes (or a lone take) in ONE round trip, in autocommit: cf_add_takes() takes the
-- members' advisory locks and then inserts the group, and the statement that calls it commits
-- by itself (its locks go with the commit, after the takes are visible to everyone).
--
-- Why the rules still hold across processes: in READ COMMITTED, a VOLATILE function takes a
-- fresh snapshot for each statement it runs. The locks are taken first (PERFORM), so the
-- INSERT's snapshot, taken after every lock is held, sees each take another process committed
-- under the same lock, exactly as when the locks and the INSERT were separate statements of a
-- BEGIN … COMMIT block. (tests/test_races.py races two processes over duplicates and cooldowns.)
--
-- The arguments: the advisory-lock keys (sorted by the caller; empty when no take has rules),
-- then one array per column of bot.storage.base.NEW_TAKE_COLUMNS in that order, then each
-- take's rule bounds, its place in the queue, its meeting, question and message id. Each take's
-- outcome comes back as before: its position, its new id or the rule that refused it and the
-- member's latest take before it. A new column of takes needs a new migration that replaces
-- this function (tests/test_storage.py compares its arguments with NEW_TAKE_COLUMNS).
--
-- The statement (until V7 sent by bot/storage/postgres.py after BEGIN and the locks): ``member``
-- numbers each member's takes in queue order and asks the table once per take; ``walk`` then goes
-- through each member's takes in that order (a recursive step per take of the same member,
-- usually none), refusing a take that the table or an earlier *kept* take of the group makes a
-- duplicate or too soon: the outcome a take-at-a-time loop gives, with the burst's first take
-- kept. The kept takes get their ids in (guild, article, member) order, the order their counter
-- rows are locked in every process, and are inserted (and linked in meeting_takes when written in
-- a meeting's thread). Both rules read the member's (guild_id, author_id, created_at) index:
-- ``article || ''`` keeps the planner from walking the article's recent takes instead (measured:
-- 0.2 ms a take with a busy article, 20 ms for a group of 100).
CREATE FUNCTION cf_add_takes(
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
               EXISTS (SELECT 1 FROM takes t WHERE t.guild_id = g.guild_id AND t.author_id = g.author_id
                       AND t.created_at >= g.duplicate_since AND t.article || '' = g.article
                       AND t.content = g.content) AS duplicate_before,
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

-- A lone take (the usual case with few writers): the same outcome as cf_add_takes gives a group
-- of one, by plain statements whose plans PL/pgSQL keeps (measured on one durable connection:
-- 0.41 ms a take against 1.18 ms through cf_add_takes and 0.33 ms for an unchecked autocommitted
-- INSERT). The lock first, then the checked INSERT on a fresh snapshot, as above; a refused take
-- learns which rule refused it (the duplicate rule first) and the member's latest take.
CREATE FUNCTION cf_add_take(
    lock_key bigint, new_guild_id bigint, new_channel_id bigint, new_article text, new_author_id bigint,
    new_author_name text, new_content text, new_source text, new_message_url text, new_created_at timestamptz,
    duplicate_since timestamptz, cooldown_since timestamptz, new_meeting_id bigint, new_question int,
    new_message_id bigint
) RETURNS TABLE (take_id bigint, refused text, last_take_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    IF lock_key IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(lock_key);
    END IF;
    INSERT INTO takes (guild_id, channel_id, article, author_id, author_name, content, source, message_url, created_at)
    SELECT new_guild_id, new_channel_id, new_article, new_author_id, new_author_name, new_content, new_source,
           new_message_url, new_created_at
    WHERE NOT EXISTS (SELECT 1 FROM takes t WHERE t.guild_id = new_guild_id AND t.author_id = new_author_id
                      AND t.created_at >= duplicate_since AND t.article || '' = new_article AND t.content = new_content)
      AND NOT EXISTS (SELECT 1 FROM takes t WHERE t.guild_id = new_guild_id AND t.author_id = new_author_id
                      AND t.created_at > cooldown_since)
    RETURNING id INTO take_id;
    IF take_id IS NULL THEN
        SELECT CASE WHEN EXISTS (SELECT 1 FROM takes t WHERE t.guild_id = new_guild_id AND t.author_id = new_author_id
                                 AND t.created_at >= duplicate_since AND t.article || '' = new_article
                                 AND t.content = new_content) THEN 'duplicate' ELSE 'cooldown' END,
               (SELECT MAX(t.created_at) FROM takes t WHERE t.guild_id = new_guild_id AND t.author_id = new_author_id)
          INTO refused, last_take_at;
    ELSIF new_meeting_id IS NOT NULL THEN
        INSERT INTO meeting_takes (take_id, meeting_id, question, message_id)
        SELECT take_id, m.id, new_question, new_message_id FROM meetings m WHERE m.id = new_meeting_id;
    END IF;
    RETURN NEXT;
END;
$$;
