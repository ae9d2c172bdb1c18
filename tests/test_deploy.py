"""The systemd units in deploy/ say what the README promises, and agree with each other."""

from __future__ import annotations

from pathlib import Path

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
ENV_FILE = "/etc/commonfactors-bot/env"


def directives(name: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    section = ""
    for raw in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        found.setdefault(f"{section}.{key}", []).append(value)
    return found


def test_the_service_runs_the_venv_python_as_its_own_user_and_restarts_on_failure() -> None:
    unit = directives("commonfactors-bot.service")
    assert unit["Service.ExecStart"] == [f"/opt/commonfactors-bot/.venv/bin/python -m bot run --env-file {ENV_FILE}"]
    assert unit["Service.User"] == ["commonfactors"] and unit["Service.Group"] == ["commonfactors"]
    assert unit["Service.Restart"] == ["on-failure"]
    assert "Service.EnvironmentFile" not in unit  # one settings source: the bot reads the file itself
    assert unit["Unit.After"] == ["network-online.target"] and unit["Install.WantedBy"] == ["multi-user.target"]
    assert unit["Service.KillSignal"] == ["SIGTERM"]
    assert int(unit["Service.TimeoutStopSec"][0]) > 10  # longer than the bot's drain (bot.app.DRAIN_SECONDS)


def test_the_service_can_write_only_its_state_directory() -> None:
    unit = directives("commonfactors-bot.service")
    assert unit["Service.ProtectSystem"] == ["strict"] and unit["Service.StateDirectory"] == ["commonfactors-bot"]
    for hardening in ("ProtectHome", "PrivateTmp", "NoNewPrivileges", "PrivateDevices", "RestrictSUIDSGID"):
        assert unit[f"Service.{hardening}"] == ["yes"], hardening
    assert unit["Service.CapabilityBoundingSet"] == [""]


def test_the_backup_timer_runs_the_backup_command_daily() -> None:
    service = directives("commonfactors-bot-backup.service")
    timer = directives("commonfactors-bot-backup.timer")
    assert service["Service.ExecStart"] == [
        f"/opt/commonfactors-bot/.venv/bin/python -m bot backup --env-file {ENV_FILE} /var/backups/commonfactors-bot"]
    assert service["Service.ReadWritePaths"] == ["/var/backups/commonfactors-bot"]
    assert timer["Timer.Persistent"] == ["true"] and timer["Install.WantedBy"] == ["timers.target"]


def test_every_unit_and_the_readme_read_the_same_settings_file() -> None:
    sharded = directives("commonfactors-bot@.service")
    assert sharded["Service.ExecStart"] == [f"/opt/commonfactors-bot/.venv/bin/python -m bot run --env-file {ENV_FILE}"]
    readme = (DEPLOY.parent / "README.md").read_text(encoding="utf-8")
    for command in ("backup", "check"):
        assert f"bot {command} --env-file {ENV_FILE}" in readme, command
    assert "Running it as a service" not in (DEPLOY / "commonfactors-bot.service").read_text(encoding="utf-8")
