"""A throwaway PostgreSQL server for the tests, from the ``pgserver`` package (PostgreSQL 16 in a
wheel, installed by the ``test`` extra): no root, no apt, no system PostgreSQL needed.

Started once per test session (with pytest-xdist, once per worker) on loopback (127.0.0.1, a free
port, a data folder of its own) and stopped at the end. Each test gets a database of its own
(created empty, dropped afterwards).

We run the wheel's ``initdb`` and ``pg_ctl`` directly rather than through ``pgserver``'s Python
API: that API listens on a Unix socket only, and under root it creates a system user with
``useradd`` and opens every parent folder of its data to everyone. PostgreSQL refuses to run as
root, so under root the server runs as ``nobody`` (which every Unix has), through ``subprocess``'s
``user=``; if ``nobody`` cannot reach the wheel's files (a virtual environment under ``/root``),
they are copied into the server's own folder first.

The same server everywhere (a developer's machine, CI) unless ``PG_BINDIR`` names the ``bin``
folder of another PostgreSQL installation (e.g. ``/usr/lib/postgresql/15/bin``) to test against.

Never skipped: if PostgreSQL cannot start, the tests that need it fail with the server's own log.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: ``CF_TEST_DATABASE=postgresql`` runs the bot's behaviour tests on PostgreSQL instead of SQLite.
BACKEND_VARIABLE = "CF_TEST_DATABASE"
#: The ``bin`` folder of a PostgreSQL installation to use instead of the ``pgserver`` wheel's.
BINDIR_VARIABLE = "PG_BINDIR"
#: Who runs the server when the tests run as root (PostgreSQL refuses root).
UNPRIVILEGED_USER = "nobody"


def wanted_backend() -> str:
    backend = os.environ.get(BACKEND_VARIABLE, "sqlite").strip().lower() or "sqlite"
    if backend not in {"sqlite", "postgresql"}:
        raise RuntimeError(f"{BACKEND_VARIABLE} must be sqlite or postgresql, not {backend!r}")
    return backend


def wheel_root() -> Path:
    """The installed ``pgserver`` package's folder (found without importing it: its import
    sets up locks and a runtime folder we do not use)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError('PostgreSQL for the tests comes from the pgserver package, which is not installed: '
                           'pip install -e ".[test]" (or set PG_BINDIR to a PostgreSQL bin folder)')
    return Path(next(iter(spec.submodule_search_locations)))


def find_bindir() -> Path:
    """Where initdb, pg_ctl and psql live: $PG_BINDIR when set, else the ``pgserver`` wheel's."""
    configured = os.environ.get(BINDIR_VARIABLE, "").strip()
    bindir = Path(configured) if configured else wheel_root() / "pginstall" / "bin"
    if not (bindir / "initdb").exists():
        raise RuntimeError(f"no initdb in {bindir}" + (f" (from ${BINDIR_VARIABLE})" if configured else ""))
    return bindir


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _reachable(bindir: Path, user: str) -> bool:
    """Can ``user`` run the server's programs where they are?"""
    try:
        subprocess.run([str(bindir / "initdb"), "--version"], check=True, capture_output=True, timeout=30,
                       user=user, group=pwd.getpwnam(user).pw_gid, extra_groups=[], cwd="/")
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def _copy_wheel(folder: Path) -> Path:
    """A copy of the wheel's PostgreSQL that ``nobody`` can run: the same layout (the programs
    find their libraries relative to themselves), without the C headers."""
    root = wheel_root()
    target = folder / "wheel"
    shutil.copytree(root / "pginstall", target / "pgserver" / "pginstall", ignore=shutil.ignore_patterns("include"))
    libs = root.parent / "pgserver.libs"
    if libs.is_dir():
        shutil.copytree(libs, target / "pgserver.libs")
    for path in (target, *target.rglob("*")):
        path.chmod(path.stat().st_mode | 0o055)
    return target / "pgserver" / "pginstall" / "bin"


@dataclass
class PostgresServer:
    bindir: Path
    folder: Path
    port: int
    #: The OS user the server runs as (``nobody`` under root), or None for the current user.
    run_as: str | None
    _names: itertools.count[int]

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @classmethod
    def start(cls, folder: Path, *, durable: bool = False) -> PostgresServer:
        """``durable`` keeps fsync and synchronous commits on (benchmarks); tests turn them off."""
        bindir = find_bindir()
        run_as = UNPRIVILEGED_USER if os.geteuid() == 0 else None
        folder.mkdir(parents=True, exist_ok=True)
        if run_as:
            user = pwd.getpwnam(run_as)
            os.chown(folder, user.pw_uid, user.pw_gid)
            if not _reachable(bindir, run_as):
                if os.environ.get(BINDIR_VARIABLE, "").strip():
                    raise RuntimeError(f"{run_as} cannot run the PostgreSQL programs in {bindir} (${BINDIR_VARIABLE})")
                bindir = _copy_wheel(folder)
        server = cls(bindir, folder, 0, run_as, itertools.count(1))
        server._run(str(bindir / "initdb"), "-D", str(server.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                    "--no-sync", "--locale=C")
        speed = "" if durable else "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        # Another process (another xdist worker) may take the free port before the server binds
        # it: then start again on another.
        for attempt in itertools.count(1):
            server.port = _free_port()
            options = (f"-h 127.0.0.1 -p {server.port} -k {folder} {speed}-c max_connections=300 "
                       "-c shared_buffers=128MB")
            try:
                server._run(str(bindir / "pg_ctl"), "-D", str(server.data), "-o", options,
                            "-l", str(folder / "server.log"), "-w", "-t", "60", "start")
                return server
            except RuntimeError:
                if attempt == 3:
                    raise
        raise AssertionError("unreachable")

    def _run(self, *args: str) -> str:
        user = pwd.getpwnam(self.run_as) if self.run_as else None
        try:
            result = subprocess.run(list(args), check=True, capture_output=True, text=True, timeout=120,
                                    cwd=self.folder, user=user.pw_uid if user else None,
                                    group=user.pw_gid if user else None, extra_groups=[] if user else None)
        except subprocess.CalledProcessError as exc:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"PostgreSQL for the tests failed: {' '.join(args[:1])}: {exc.stderr or exc.stdout}"
                               f"\n{tail}") from exc
        return result.stdout

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        return subprocess.run([str(self.bindir / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                               "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
                               "-c", sql], check=True, capture_output=True, text=True, timeout=60).stdout

    def create_database(self) -> str:
        name = f"test_{os.getpid()}_{next(self._names)}"
        self.psql(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # -- an outage, for the tests of one -------------------------------------------------------------
    def pause(self) -> None:
        """Stop the server as an outage would (connections dropped); :meth:`resume` brings it back."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start the server again with the options it last started with (same port, same data)."""
        import shlex

        options = shlex.split((self.data / "postmaster.opts").read_text())[1:]  # after the postgres binary
        kept = [option for index, option in enumerate(options)
                if option != "-D" and (index == 0 or options[index - 1] != "-D")]
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", shlex.join(kept),
                  "-l", str(self.folder / "server.log"), "-w", "-t", "60", "start")
