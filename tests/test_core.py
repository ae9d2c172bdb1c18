"""Settings, FAQ search, safe exports and the command line, without Discord."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import Settings
from bot.__main__ import REQUIRED_PERMISSIONS, application_id_from_token, invite_url, main
from bot.article import load_article
from bot.export import FORMULA_STARTS, safe_cell, takes_to_csv, takes_to_json
from bot.faq import autocomplete_faqs, find_faq
from bot.settings import DEFAULT_DATA_DIR, SettingsError
from bot.storage import Take

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = load_article(DEFAULT_DATA_DIR / "commonfactors.toml")


# -- settings ---------------------------------------------------------------------------------------


def test_settings_default_everything_but_the_token() -> None:
    settings = Settings()
    assert settings.token is None and settings.prefix == "!"
    assert settings.database_url == f"sqlite:///{DEFAULT_DATA_DIR / 'commonfactors.db'}"
    assert settings.database_url.startswith("sqlite:////")  # absolute: four slashes


def test_settings_from_environment() -> None:
    settings = Settings.from_env({"DISCORD_TOKEN": "abc", "COMMAND_PREFIX": "?", "TAKE_MAX_LENGTH": "900",
                                  "MESSAGE_CONTENT_INTENT": "false", "OWNER_IDS": "1, 2",
                                  "TAKES_RETENTION_DAYS": "30"}, dotenv=False)
    assert settings.token == "abc" and settings.prefix == "?" and settings.take_max_length == 900
    assert settings.message_content_intent is False and settings.owner_ids == {1, 2}
    assert settings.takes_retention_days == 30


@pytest.mark.parametrize(("env", "message"), [({"TAKE_MAX_LENGTH": "lots"}, "TAKE_MAX_LENGTH must be a whole number"),
                                              ({"MESSAGE_CONTENT_INTENT": "maybe"}, "true or false"),
                                              ({"COMMAND_PREFIX": "a b"}, "COMMAND_PREFIX"),
                                              ({"TAKES_RETENTION_DAYS": "0"}, "TAKES_RETENTION_DAYS")])
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env, dotenv=False)


def test_the_token_is_never_shown() -> None:
    settings = Settings(token="very-secret-token")
    assert "very-secret-token" not in repr(settings)
    assert "very-secret-token" not in "\n".join(settings.describe())


def test_every_setting_is_documented_in_env_example() -> None:
    example = (ROOT / ".env.example").read_text()
    for name in ("DISCORD_TOKEN", "APPLICATION_ID", "COMMAND_PREFIX", "DATA_DIR", "DATABASE_URL",
                 "MESSAGE_CONTENT_INTENT", "OWNER_IDS", "DEV_GUILD_ID", "TAKE_MAX_LENGTH", "TAKE_COOLDOWN_SECONDS",
                 "DUPLICATE_WINDOW_SECONDS", "TAKES_RETENTION_DAYS", "LOG_LEVEL"):
        assert f"\n{name}=" in example, name
    source = (ROOT / "bot" / "settings.py").read_text()
    for name in [line.split('"')[1] for line in source.splitlines() if '("' in line and '_' in line.split('"')[1]]:
        if name.isupper():
            assert f"\n{name}=" in example, name


# -- FAQ search ---------------------------------------------------------------------------------------


def test_faq_by_number() -> None:
    assert find_faq(ARTICLE, "2").number == 2
    assert find_faq(ARTICLE, "#3").number == 3
    assert find_faq(ARTICLE, "0").number is None
    assert find_faq(ARTICLE, str(len(ARTICLE.faqs) + 1)).number is None


def test_every_question_finds_itself_even_with_typos() -> None:
    for number, faq in enumerate(ARTICLE.faqs, start=1):
        assert find_faq(ARTICLE, faq.question).number == number
        assert find_faq(ARTICLE, faq.question.lower().replace("the ", "teh ", 1)).number == number


def test_nonsense_gets_three_suggestions() -> None:
    found = find_faq(ARTICLE, "qqqq zzzz")
    assert found.number is None and len(found.suggestions) == 3


@given(st.text(max_size=200))
def test_faq_search_never_fails(query: str) -> None:
    found = find_faq(ARTICLE, query)
    assert found.number is None or 1 <= found.number <= len(ARTICLE.faqs)
    assert len(found.suggestions) <= 3
    choices = autocomplete_faqs(ARTICLE, query)
    assert len(choices) <= 25 and all(len(name) <= 100 for name, _ in choices)


# -- exports ----------------------------------------------------------------------------------------


def take(content: str, name: str = "Dr. Who") -> Take:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return Take(id=1, guild_id=10, channel_id=20, article="commonfactors", author_id=30, author_name=name,
                content=content, source="command", created_at=now, edited_at=None, message_url=None)


@given(st.text(max_size=300), st.text(max_size=50))
def test_csv_cells_never_start_a_formula_and_round_trip(content: str, name: str) -> None:
    data = takes_to_csv([take(content, name)])
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == 2
    for cell in rows[1]:
        assert not cell.startswith(FORMULA_STARTS)
    text = rows[1][-1]
    assert text == safe_cell(content)
    assert text in (content, "'" + content)  # neutralised by an apostrophe, otherwise exactly as written
    if content.startswith(FORMULA_STARTS):
        assert text == "'" + content


def test_json_export_keeps_text_exactly() -> None:
    data = json.loads(takes_to_json([take("=1+1 🧠 **bold**")]))
    assert data[0]["text"] == "=1+1 🧠 **bold**"


# -- the command line -----------------------------------------------------------------------------


def test_check_files_only_validates_without_a_token(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert main(["check", "--files-only"]) == 0
    out = capsys.readouterr().out
    assert "ok  commonfactors" in out and "token = not set" in out
    assert main(["check"]) == 1  # the bot could not start: check says so
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("commonfactors-bot: no Discord token")


def test_check_names_the_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken.toml").write_text('command = "broken"\ntitle = ""\n')
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert "broken.toml" in err and "title" in err and "Traceback" not in err


def test_run_without_a_token_is_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot"], cwd=tmp_path, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DISCORD_TOKEN": ""},
                            timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "commonfactors-bot: no Discord token: set DISCORD_TOKEN in .env, see .env.example"]


def test_invite_has_exactly_the_needed_permissions(capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPLICATION_ID", "123456789012345678")
    assert main(["invite"]) == 0
    url = capsys.readouterr().out.strip()
    assert url == invite_url(123456789012345678)
    assert "client_id=123456789012345678" in url and f"permissions={REQUIRED_PERMISSIONS.value}" in url
    assert "scope=bot+applications.commands" in url
    assert not REQUIRED_PERMISSIONS.administrator and not REQUIRED_PERMISSIONS.manage_messages


def test_application_id_is_read_from_a_token() -> None:
    import base64

    token = base64.b64encode(b"123456789012345678").decode().rstrip("=") + ".abc.def"
    assert application_id_from_token(token) == 123456789012345678
    assert application_id_from_token("not a token") is None
