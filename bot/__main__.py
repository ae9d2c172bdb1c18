"""``python -m bot [run|check|invite|try|backup|migrate-data]``: run the bot, validate the set-up,
print the invite, try the bot offline, back up its database, or move the data to another database.

A start-up failure is one clear line on stderr and a non-zero exit, never a traceback: the
person running the bot is a moderator, not necessarily a Python developer.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.settings import Settings

if TYPE_CHECKING:
    import discord

# Each command imports what it needs when it runs (``check`` never loads discord.py, the
# bot's cogs or a database driver): ``python -m bot check`` starts in about the time of
# ``import discord`` (BENCHMARKS.md; tests/test_lazy_imports.py holds the line).


def required_permissions() -> discord.Permissions:
    """Exactly what the bot uses: read and answer in channels, embeds and files, react to confirm
    a reply-take, read history to find its pinned summary, pin it."""
    import discord

    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        add_reactions=True,
        pin_messages=True,
    )


def __getattr__(name: str) -> Any:
    if name == "REQUIRED_PERMISSIONS":  # kept as a name, built on first use
        return required_permissions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _startup_error(message: str) -> Exception:
    from bot.runner import StartupError

    return StartupError(message)


#: The errors a command reports as one line (each class named by its module, which is loaded
#: whenever one of its errors can have been raised).
_FORESEEABLE = (("bot.runner", "StartupError"), ("bot.settings", "SettingsError"), ("bot.article", "ArticleError"),
                ("bot.storage.base", "StorageError"))


def _foreseeable(exc: BaseException) -> bool:
    return any(isinstance(exc, cls) for module, name in _FORESEEABLE
               if isinstance(cls := getattr(sys.modules.get(module), name, None), type))


def application_id_from_token(token: str) -> int | None:
    """A bot token's first segment is its user id in base64, the application id for bots."""
    first = token.split(".", 1)[0]
    try:
        return int(base64.b64decode(first + "=" * (-len(first) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def invite_url(application_id: int) -> str:
    import discord

    return discord.utils.oauth_url(application_id, permissions=required_permissions(),
                                   scopes=("bot", "applications.commands"))


def command_invite(settings: Settings) -> int:
    app_id = settings.application_id or (application_id_from_token(settings.token) if settings.token else None)
    if app_id is None:
        raise _startup_error("set APPLICATION_ID (or DISCORD_TOKEN) in .env to print the invite; see .env.example")
    print(invite_url(app_id))
    return 0


def command_check(settings: Settings) -> int:
    """Validate settings and every article file, without a token and without connecting."""
    from bot.article import load_articles
    from bot.storage import is_postgres_url, sqlite_path_from_url

    articles = load_articles(settings.data_dir)
    print("settings:")
    for line in settings.describe():
        print(f"  {line}")
    for article in articles:
        print(f"ok  {article.command}: {article.title} ({len(article.faqs)} FAQs, "
              f"{len(article.citations)} references)")
    if is_postgres_url(settings.database_url):
        from bot.storage.postgres import parse_postgres_url  # asyncpg only for those who use PostgreSQL

        print(f"database: {parse_postgres_url(settings.database_url).label} (not contacted by check)")
    else:
        sqlite_path_from_url(settings.database_url)
    print(f"all {len(articles)} article file(s) are valid")
    return 0


def configure_logging(settings: Settings) -> None:
    from bot import logs

    logs.configure(level=settings.log_level, fmt=settings.log_format, secrets=settings.secrets)


def command_run(settings: Settings) -> int:
    import asyncio

    from bot.runner import Runner

    configure_logging(settings)
    return asyncio.run(Runner(settings).run())


def command_backup(settings: Settings, destination: str) -> int:
    import asyncio

    from bot.backup import backup_database

    configure_logging(settings)
    result = asyncio.run(backup_database(settings.database_url, Path(destination)))
    print(result.describe())
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
        raise _startup_error("the copy does NOT match the source (see the MISMATCH lines above); the source is "
                             "unchanged. Run the command again to resume, or with --force to start over")
    print("verified: every table's rows and checksums match; point DATABASE_URL at the target and start the bot")
    return 0


def command_migrate_data(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from bot import logs
    from bot.settings import url_password

    if not args.source or not args.target:
        raise _startup_error("migrate-data needs --from URL and --to URL (e.g. --from sqlite:///data/commonfactors.db "
                             "--to postgresql://user:password@host/database)")
    if args.batch_size < 1:
        raise _startup_error("--batch-size must be at least 1")
    passwords = [p for p in (url_password(args.source), url_password(args.target)) if p]
    logs.configure(level="WARNING", fmt=settings.log_format, secrets=[*settings.secrets, *passwords])
    return asyncio.run(_migrate_data(args.source, args.target, force=args.force, batch_size=args.batch_size,
                                     pool_size=settings.database_pool_size, sslmode=settings.database_sslmode))


def command_try(settings: Settings, args: argparse.Namespace) -> int:
    try:  # an optional part: SimCord comes with the [try] extra
        from bot.tryout import TryOutUnavailable, run_tryout
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != "simcord":
            raise
        raise _startup_error('the try-out needs SimCord, which is not installed: run pip install -e ".[try]" '
                             "in the bot's folder") from None
    try:
        return run_tryout(settings, database=args.database, article=args.article, browser=args.browser)
    except TryOutUnavailable as exc:
        raise _startup_error(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="commonfactors-bot")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the bot (the default)")
    commands.add_parser("check", help="check the settings and every article file, offline")
    commands.add_parser("invite", help="print the URL that adds the bot to a server")
    trying = commands.add_parser("try", help="try the bot offline, on a simulated Discord (no token)")
    trying.add_argument("--database", metavar="PATH",
                        help="keep the try-out's takes in this SQLite file (default: a throwaway one)")
    trying.add_argument("--article", metavar="FILE", type=Path,
                        help="show a draft article file as members will see it (validated like check)")
    trying.add_argument("--browser", action="store_true",
                        help="also open SimCord's browser preview of the channel (needs simcord[preview])")
    backup = commands.add_parser("backup", help="copy the database consistently, even while the bot runs")
    backup.add_argument("destination", help="the backup file to write (a folder: a dated file in it)")
    moving = commands.add_parser("migrate-data", help="copy every take, setting, pin record and audit entry "
                                                      "to another database (SQLite or PostgreSQL) and verify it")
    moving.add_argument("--from", dest="source", metavar="URL", help="the database to copy from")
    moving.add_argument("--to", dest="target", metavar="URL", help="the database to copy into")
    moving.add_argument("--force", action="store_true", help="empty a target that already holds data, then copy")
    moving.add_argument("--batch-size", type=int, default=1000, help="rows per transaction (default 1000)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command == "migrate-data":
            return command_migrate_data(settings, args)
        if args.command == "check":
            return command_check(settings)
        if args.command == "invite":
            return command_invite(settings)
        if args.command == "try":
            return command_try(settings, args)
        if args.command == "backup":
            return command_backup(settings, args.destination)
        if args.command == "migrate-data":
            return command_migrate_data(settings, args)
        return command_run(settings)
    except Exception as exc:
        if not _foreseeable(exc):
            raise
        print(f"commonfactors-bot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
