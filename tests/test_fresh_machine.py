"""The README's test command on a fresh machine: no root, no system PostgreSQL, no Chromium.

Each test runs pytest in a child process with ``PATH`` pointing at an empty folder (no ``psql``,
``pg_config``, ``initdb`` or ``chromium`` to find) and ``PG_BINDIR`` unset; when the tests run
as root, the child runs as ``nobody``, as a user without root would."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import PROJECT_ROOT

BROWSER_TEST = "tests/test_tryout.py::test_the_browser_preview_renders_the_bot_in_headless_chromium"


@pytest.fixture
def home() -> Iterator[Path]:
    """A home and temporary folder the unprivileged user owns (pytest's own is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="cf-fresh-"))
    (folder / "bin").mkdir()  # PATH: nothing in it
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for path in (folder, folder / "bin"):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _runs(python: str, user: dict[str, Any]) -> bool:
    try:
        return subprocess.run([python, "-c", "pass"], capture_output=True, timeout=60, cwd="/", **user).returncode == 0
    except OSError:
        return False


def pytest_as_a_newcomer(home: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest ARGS`` without root, system PostgreSQL or Chromium."""
    env = {"HOME": str(home), "TMPDIR": str(home), "PATH": str(home / "bin"), "PYTHONDONTWRITEBYTECODE": "1",
           "LANG": "C.UTF-8", **variables}
    user: dict[str, Any] = {}
    python = sys.executable
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        user = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        if not _runs(python, user):
            # This interpreter lives where nobody may not go (a pyenv under /root): the same
            # Python version from the system, with this environment's packages.
            version = f"python{sys.version_info.major}.{sys.version_info.minor}"
            system = next((p for p in (f"/usr/bin/{version}", f"/usr/local/bin/{version}") if _runs(p, user)), None)
            assert system, f"nobody can run neither {python} nor a system {version}"
            python = system
            env["PYTHONPATH"] = sysconfig.get_paths()["purelib"]
    return subprocess.run([python, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", *args],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240, **user)


def test_the_postgresql_tests_start_their_own_server_without_root(home: Path) -> None:
    probe = home / "test_probe.py"
    probe.write_text(
        "import os, tempfile\n"
        "from pathlib import Path\n"
        "from tests.postgres_server import PostgresServer\n"
        "def test_who_serves():\n"
        "    server = PostgresServer.start(Path(tempfile.mkdtemp()))\n"
        "    try:\n"
        "        assert os.geteuid() != 0 and server.run_as is None\n"
        "        assert 'pgserver' in str(server.bindir)\n"
        "        version = server.psql('SHOW server_version', server.create_database())\n"
        "        assert version.startswith('16.'), version\n"
        "    finally:\n"
        "        server.stop()\n", encoding="utf-8")
    if os.geteuid() == 0:
        os.chown(probe, pwd.getpwnam("nobody").pw_uid, -1)

    # The suite's own fixture (a contract test on PostgreSQL), and the server it starts, as probed.
    done = pytest_as_a_newcomer(home, "-q", str(probe),
                                "tests/test_storage.py::test_a_saved_take_comes_back_exactly[postgresql]")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_the_whole_suite_is_collected_without_postgresql_or_chromium(home: Path) -> None:
    done = pytest_as_a_newcomer(home, "--collect-only", "-q")

    assert done.returncode == 0, done.stdout + done.stderr
    assert BROWSER_TEST in done.stdout and "[postgresql]" in done.stdout


def test_without_chromium_the_browser_test_alone_is_skipped_by_name_but_not_in_ci(home: Path) -> None:
    skipped = pytest_as_a_newcomer(home, BROWSER_TEST)
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "1 skipped" in skipped.stdout
    assert "SKIPPED" in skipped.stdout and "test_the_browser_preview_renders_the_bot_in_headless_chromium needs a " \
        "Chromium" in skipped.stdout

    required = pytest_as_a_newcomer(home, BROWSER_TEST, CF_REQUIRE_BROWSER="1")
    assert required.returncode == 1 and "1 failed" in required.stdout
    assert "CF_REQUIRE_BROWSER is set but there is no Chromium" in required.stdout
