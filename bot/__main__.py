"""``python -m bot [run|check|invite|try|backup|restore|migrate-data|rotate-signing-key]``: run the bot,
validate the set-up, print the invite, try the bot offline, back up its database, put a backup back in
place of a stopped bot's database, move the data to another database, or replace the key that signs
button and form ids.

Every subcommand reads its settings from one place: ``--env-file PATH`` (``.env`` by default), so
the service, the backup timer, a cron line and an upgrade by hand all see the same database.

A start-up failure is one clear line on stderr and a non-zero exit, never a traceback: the
person running the bot is a moderator, not necessarily a Python developer.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.settings import Settings, SettingsError, url_password
from bot.storage import is_postgres_url, open_store, sqlite_path_from_url

if TYPE_CHECKING:
    import discord

# Each command imports what it needs when it runs (``check --files-only`` never loads
# discord.py, asyncio, the bot's cogs or a database driver): it starts in less than the time of
# ``import discord`` (BENCHMARKS.md; tests/test_lazy_imports.py holds the line).


def required_permissions() -> discord.Permissions:
    """Exactly what the bot uses: read and answer in channels, embeds and files, react to confirm
    a reply-take, read history to find its pinned summary, pin it; a meeting's Discord event
    (Manage Events), its discussion thread (Create Public Threads), the next-article poll (Create Polls)."""
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
        manage_events=True,
        create_public_threads=True,
        send_polls=True,
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
    if app_id is None and settings.token:
        raise _startup_error("DISCORD_TOKEN is malformed (its first part is not a bot's id): copy it again from the "
                             "Developer Portal's Bot page, or set APPLICATION_ID in .env to print the invite")
    if app_id is None:
        raise _startup_error("set APPLICATION_ID (or DISCORD_TOKEN) in .env to print the invite; see .env.example")
    print(invite_url(app_id))
    return 0


def _check_database(settings: Settings) -> str:
    """Read the database the bot would start on, changing nothing: what it holds, or why not."""
    import asyncio

    from bot.backup import read_contents

    if is_postgres_url(settings.database_url):
        from bot.storage.postgres import probe  # asyncpg only for those who use PostgreSQL

        label, version = asyncio.run(probe(settings.database_url, sslmode=settings.database_sslmode))
        return f"{label}, schema version {version} (not changed by check)"
    path = sqlite_path_from_url(settings.database_url)
    if not isinstance(path, Path):
        return "in memory (nothing is kept)"
    if not path.exists():
        folder = next(parent for parent in Path(os.path.abspath(path)).parents if parent.exists())
        if not os.access(folder, os.W_OK | os.X_OK):
            raise _startup_error(f"there is no database at {path}, and the bot could not create it ({folder} is not "
                                 "writable by this user)")
        return f"SQLite file {path} does not exist yet: the bot creates it at its first start"
    return f"SQLite file {path} ({read_contents(path).describe()})"


def command_check(settings: Settings, *, files_only: bool = False) -> int:
    """Validate settings and every article file; unless ``files_only``, also what the bot needs to
    start (a token, a database it can open), so a check that passes means the bot can start."""
    from bot import logs
    from bot.article import load_articles

    articles = load_articles(settings.data_dir)
    print("settings:")
    for line in settings.describe():
        print(f"  {line}")
    for article in articles:
        print(f"ok  {article.command}: {article.title} ({len(article.faqs)} FAQs, "
              f"{len(article.citations)} references)")
    if files_only:
        if is_postgres_url(settings.database_url):
            from bot.storage.postgres import parse_postgres_url  # asyncpg only for those who use PostgreSQL

            print(f"database: {parse_postgres_url(settings.database_url).label} (not contacted: --files-only)")
        else:
            sqlite_path_from_url(settings.database_url)
        print(f"all {len(articles)} article file(s) are valid")
        return 0
    if not settings.token:
        raise _startup_error("no Discord token: set DISCORD_TOKEN in the settings file (--env-file), or run check "
                             "--files-only to check the files only")
    logs.configure(level="WARNING", fmt=settings.log_format, secrets=settings.secrets)
    print(f"database: {_check_database(settings)}")
    print(f"all {len(articles)} article file(s) are valid; the bot can start with these settings")
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


def command_restore(settings: Settings, backup: str) -> int:
    import asyncio

    from bot.backup import restore_database

    configure_logging(settings)
    result = asyncio.run(restore_database(settings.database_url, Path(backup)))
    print(result.describe())
    return 0


def load_settings(env_file: Path | None) -> Settings:
    """The settings from ``env_file`` (its values win over the environment's), or from ``.env``."""
    if env_file is None:
        return Settings.from_env()
    from dotenv import dotenv_values

    try:
        with open(env_file, encoding="utf-8") as handle:
            values = dotenv_values(stream=handle)
    except OSError as exc:
        raise SettingsError(f"cannot read the settings file {env_file} (--env-file): {exc.strerror or exc}") from None
    environ = {**os.environ, **{key: value for key, value in values.items() if value is not None}}
    return Settings.from_env(environ, dotenv=False)


def _refuse_the_same_sqlite_file(source_url: str, target_url: str) -> None:
    """Before opening anything: a SQLite source must exist, and must not be the target by another name."""
    from bot.storage.transfer import sqlite_file_identity

    if is_postgres_url(source_url):
        return
    source = sqlite_path_from_url(source_url)
    if str(source) == ":memory:":
        return
    found = sqlite_file_identity(source)
    if found is None:
        raise _startup_error(f"there is no database at {source} (check --from); nothing was copied")
    if not is_postgres_url(target_url) and found == sqlite_file_identity(sqlite_path_from_url(target_url)):
        raise _startup_error(f"the source and the target are the same database (SQLite file "
                             f"{Path(source).resolve()}); nothing was copied, with or without --force")


async def _migrate_data(source_url: str, target_url: str, *, force: bool, batch_size: int, pool_size: int,
                        sslmode: str | None) -> int:
    from bot.storage.transfer import describe, transfer

    _refuse_the_same_sqlite_file(source_url, target_url)
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
    if report.shrunk:
        raise _startup_error(f"the source lost rows during the copy ({', '.join(report.shrunk)}): is a bot still "
                             "running on it? Stop it, then run the command again; nothing is verified")
    if not report.ok:
        raise _startup_error("the copy does NOT match the source (see the MISMATCH lines above); the source is "
                             "unchanged. Run the command again to resume, or with --force to start over")
    print("verified: every table's rows and checksums match; point DATABASE_URL at the target and start the bot")
    return 0


def command_migrate_data(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from bot import logs

    if not args.source or not args.target:
        raise _startup_error("migrate-data needs --from URL and --to URL (e.g. --from sqlite:///data/commonfactors.db "
                             "--to postgresql://user:password@host/database)")
    if args.batch_size < 1:
        raise _startup_error("--batch-size must be at least 1")
    passwords = [p for p in (url_password(args.source), url_password(args.target)) if p]
    logs.configure(level="WARNING", fmt=settings.log_format, secrets=[*settings.secrets, *passwords])
    return asyncio.run(_migrate_data(args.source, args.target, force=args.force, batch_size=args.batch_size,
                                     pool_size=settings.database_pool_size, sslmode=settings.database_sslmode))


async def _rotate_signing_key(settings: Settings) -> None:
    from bot.signing import rotate_signing_key

    store = await open_store(settings.database_url, pool_size=2, sslmode=settings.database_sslmode)
    try:
        await rotate_signing_key(store)
    finally:
        await store.close()


def command_rotate_signing_key(settings: Settings) -> int:
    """A new key for signed custom ids (see :mod:`bot.signing`); the old one stops working at the next start."""
    import asyncio

    configure_logging(settings)
    asyncio.run(_rotate_signing_key(settings))
    print("the custom-id signing key was replaced. Restart the bot (every process): buttons and forms made "
          "before are then refused with a line asking to run the command again")
    return 0


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
    settings_file = argparse.ArgumentParser(add_help=False)
    settings_file.add_argument("--env-file", type=Path, metavar="PATH", default=argparse.SUPPRESS,
                               help="read the settings from this file (default: .env)")
    parser = argparse.ArgumentParser(prog="python -m bot", description="commonfactors-bot", parents=[settings_file])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the bot (the default)", parents=[settings_file])
    checking = commands.add_parser("check", parents=[settings_file],
                                   help="check that the bot can start: settings, article files, token, database")
    checking.add_argument("--files-only", action="store_true",
                          help="check the settings and article files only (no token needed, no database opened)")
    commands.add_parser("invite", help="print the URL that adds the bot to a server", parents=[settings_file])
    trying = commands.add_parser("try", help="try the bot offline, on a simulated Discord (no token)")
    trying.add_argument("--database", metavar="FILE_OR_URL",
                        help="keep the try-out's takes in this SQLite file, or a postgresql:// database "
                             "(default: a throwaway one)")
    trying.add_argument("--article", metavar="FILE", type=Path,
                        help="show a draft article file as members will see it (validated like check)")
    trying.add_argument("--browser", action="store_true",
                        help="also open SimCord's browser preview of the channel (needs simcord[preview])")
    backup = commands.add_parser("backup", help="copy the database consistently, even while the bot runs",
                                 parents=[settings_file])
    backup.add_argument("destination", help="a new file, a folder (a dated file in it), or an earlier backup")
    restoring = commands.add_parser("restore", parents=[settings_file],
                                    help="put a backup in place of the database of a stopped bot (the replaced "
                                         "database is kept beside it)")
    restoring.add_argument("backup", help="the backup file to restore")
    moving = commands.add_parser("migrate-data", help="copy every take, setting, pin record and audit entry "
                                                      "to another database (SQLite or PostgreSQL) and verify it",
                                 parents=[settings_file])
    moving.add_argument("--from", dest="source", metavar="URL", help="the database to copy from")
    moving.add_argument("--to", dest="target", metavar="URL", help="the database to copy into")
    moving.add_argument("--force", action="store_true", help="empty a target that already holds data, then copy")
    moving.add_argument("--batch-size", type=int, default=1000, help="rows per transaction (default 1000)")
    commands.add_parser("rotate-signing-key", parents=[settings_file],
                        help="replace the key that signs button and form ids (older ones stop working at the "
                             "next start)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(getattr(args, "env_file", None))
        if args.command == "check":
            return command_check(settings, files_only=args.files_only)
        if args.command == "invite":
            return command_invite(settings)
        if args.command == "try":
            return command_try(settings, args)
        if args.command == "backup":
            return command_backup(settings, args.destination)
        if args.command == "restore":
            return command_restore(settings, args.backup)
        if args.command == "rotate-signing-key":
            return command_rotate_signing_key(settings)
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
