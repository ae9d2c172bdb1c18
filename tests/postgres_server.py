"""A throwaway PostgreSQL server for the tests, from the distribution's packages.

Started once per test session on loopback (127.0.0.1, a free port, a data folder under the
session's temporary directory) and stopped at the end. Each test gets a database of its own
(created empty, dropped afterwards). PostgreSQL refuses to run as root, so under root the
server runs as the ``postgres`` user the Debian package creates (``runuser``).

Never skipped: if PostgreSQL is missing or cannot start, the tests that need it fail with the
server's own log, and ``.ci/run`` installs the package first.
"""

from __future__ import annotations

import contextlib
import glob
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


def wanted_backend() -> str:
    backend = os.environ.get(BACKEND_VARIABLE, "sqlite").strip().lower() or "sqlite"
    if backend not in {"sqlite", "postgresql"}:
        raise RuntimeError(f"{BACKEND_VARIABLE} must be sqlite or postgresql, not {backend!r}")
    return backend


def find_bindir() -> Path:
    """Where initdb and postgres live: $PG_BINDIR, pg_config, or Debian's versioned folders."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    pg_config = shutil.which("pg_config")
    if pg_config:
        return Path(subprocess.run([pg_config, "--bindir"], check=True, capture_output=True, text=True).stdout.strip())
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL is not installed (no initdb found): `apt-get install -y postgresql`, "
                       "or set PG_BINDIR; .ci/run installs it")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    bindir: Path
    folder: Path
    port: int
    #: The OS user the server runs as (``postgres`` under root), or None for the current user.
    run_as: str | None
    _names: itertools.count[int]

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def _command(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.run_as, "--", *args] if self.run_as else list(args)

    @classmethod
    def start(cls, folder: Path, *, durable: bool = False) -> PostgresServer:
        """``durable`` keeps fsync and synchronous commits on (benchmarks); tests turn them off."""
        bindir = find_bindir()
        run_as = "postgres" if os.geteuid() == 0 else None
        folder.mkdir(parents=True, exist_ok=True)
        if run_as:
            user = pwd.getpwnam(run_as)
            os.chown(folder, user.pw_uid, user.pw_gid)
        server = cls(bindir, folder, _free_port(), run_as, itertools.count(1))
        server._run(str(bindir / "initdb"), "-D", str(server.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                    "--no-sync", "--locale=C")
        speed = "" if durable else "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        options = (f"-h 127.0.0.1 -p {server.port} -k {folder} {speed}-c max_connections=300 "
                   "-c shared_buffers=128MB")
        server._run(str(bindir / "pg_ctl"), "-D", str(server.data), "-o", options, "-l", str(folder / "server.log"),
                    "-w", "-t", "60", "start")
        return server

    def _run(self, *args: str) -> str:
        try:
            result = subprocess.run(self._command(*args), check=True, capture_output=True, text=True, timeout=120)
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
