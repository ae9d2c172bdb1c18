"""``python -m bot [run|check|invite|migrate-data]``: run the bot, validate the set-up, print the
invite, or move the data to another database.

A start-up failure is one clear line on stderr and a non-zero exit, never a traceback: the
person running the bot is a moderator, not necessarily a Python developer.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import logging
import sys
from collections.abc import Sequence

import discord

from bot.article import ArticleError, load_articles
from bot.settings import Settings, SettingsError
from bot.storage import StorageError

PORTAL = "https://discord.com/developers/applications"

#: Exactly what the bot uses: read and answer in channels, embeds and files, react to confirm
#: a reply-take, read history to find its pinned summary, pin it.
REQUIRED_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
    pin_messages=True,
)


class StartupError(Exception):
    """Printed as one line, then exit 1."""


def application_id_from_token(token: str) -> int | None:
    """A bot token's first segment is its user id in base64, the application id for bots."""
    first = token.split(".", 1)[0]
    try:
        return int(base64.b64decode(first + "=" * (-len(first) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(application_id, permissions=REQUIRED_PERMISSIONS,
                                   scopes=("bot", "applications.commands"))


def command_invite(settings: Settings) -> int:
    app_id = settings.application_id or (application_id_from_token(settings.token) if settings.token else None)
    if app_id is None:
        raise StartupError("set APPLICATION_ID (or DISCORD_TOKEN) in .env to print the invite; see .env.example")
    print(invite_url(app_id))
    return 0


def command_check(settings: Settings) -> int:
    """Validate settings and every article file, without a token and without connecting."""
    articles = load_articles(settings.data_dir)
    print("settings:")
    for line in settings.describe():
        print(f"  {line}")
    for article in articles:
        print(f"ok  {article.command}: {article.title} ({len(article.faqs)} FAQs, "
              f"{len(article.citations)} references)")
    from bot.storage import is_postgres_url, sqlite_path_from_url

    if is_postgres_url(settings.database_url):
        from bot.storage.postgres import parse_postgres_url

        print(f"database: {parse_postgres_url(settings.database_url).label} (not contacted by check)")
    else:
        sqlite_path_from_url(settings.database_url)
    print(f"all {len(articles)} article file(s) are valid")
    return 0


async def _run(settings: Settings) -> None:
    from bot.app import create_bot

    if not settings.token:
        raise StartupError("no Discord token: set DISCORD_TOKEN in .env, see .env.example")
    bot = create_bot(settings)
    try:
        async with bot:
            await bot.start(settings.token)
    except discord.LoginFailure:
        raise StartupError(f"Discord rejected DISCORD_TOKEN: copy the bot's token again ({PORTAL} → your "
                           "application → Bot → Reset Token) into .env") from None
    except discord.PrivilegedIntentsRequired:
        raise StartupError(f"the Message Content intent is not enabled: turn it on at {PORTAL} → your "
                           "application → Bot → Privileged Gateway Intents → Message Content Intent, or set "
                           "MESSAGE_CONTENT_INTENT=false to run on slash commands and mentions only") from None


def command_run(settings: Settings) -> int:
    discord.utils.setup_logging(level=getattr(logging, settings.log_level.upper(), logging.INFO), root=True)
    asyncio.run(_run(settings))
    return 0


async def _migrate_data(source_url: str, target_url: str, *, force: bool, batch_size: int, pool_size: int,
                        sslmode: str | None) -> int:
    from bot.storage import open_store
    from bot.storage.transfer import describe, transfer

    source = await open_store(source_url, pool_size=pool_size, sslmode=sslmode)
    try:
        target = await open_store(target_url, pool_size=pool_size, sslmode=sslmode)
        try:
            print(f"copying {describe(source)} -> {describe(target)}", flush=True)
            report = await transfer(source, target, force=force, batch_size=batch_size,
                                    progress=lambda line: print(f"  {line}", flush=True))
        finally:
            await target.close()
    finally:
        await source.close()
    if not report.ok:
        raise StartupError("the copy does NOT match the source (see the MISMATCH lines above); the source is "
                           "unchanged. Run the command again to resume, or with --force to start over")
    print("verified: every table's rows and checksums match; point DATABASE_URL at the target and start the bot")
    return 0


def command_migrate_data(settings: Settings, args: argparse.Namespace) -> int:
    if not args.source or not args.target:
        raise StartupError("migrate-data needs --from URL and --to URL (e.g. --from sqlite:///data/commonfactors.db "
                           "--to postgresql://user:password@host/database)")
    if args.batch_size < 1:
        raise StartupError("--batch-size must be at least 1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return asyncio.run(_migrate_data(args.source, args.target, force=args.force, batch_size=args.batch_size,
                                     pool_size=settings.database_pool_size, sslmode=settings.database_sslmode))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="commonfactors-bot")
    parser.add_argument("command", nargs="?", default="run", choices=("run", "check", "invite", "migrate-data"),
                        help="run the bot (default), check the set-up, print the invite URL, or copy every "
                             "take, setting, pin record and audit entry to another database and verify it")
    parser.add_argument("--from", dest="source", metavar="URL", help="migrate-data: the database to copy from")
    parser.add_argument("--to", dest="target", metavar="URL", help="migrate-data: the database to copy into")
    parser.add_argument("--force", action="store_true",
                        help="migrate-data: empty a target that already holds data, then copy")
    parser.add_argument("--batch-size", type=int, default=1000, help="migrate-data: rows per transaction")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command == "migrate-data":
            return command_migrate_data(settings, args)
        if args.command == "check":
            return command_check(settings)
        if args.command == "invite":
            return command_invite(settings)
        return command_run(settings)
    except (StartupError, SettingsError, ArticleError, StorageError) as exc:
        print(f"commonfactors-bot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
