-- Nothing to change on SQLite. V8 is PostgreSQL's group INSERT as one function (cf_add_takes,
-- migrations_postgres/V8): SQLite's group commit already runs its checks, INSERTs and COMMIT in
-- one call on the writer thread. The pager's keyset pages use the indexes V1 and V3 made
-- (takes_by_guild_article, takes_by_guild_article_author). The version is kept in step with
-- PostgreSQL's so both backends report the same schema version.
SELECT 1;
