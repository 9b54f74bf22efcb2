"""`songda user` on the console's database, and the demo accounts `songda run` adds in development and prints with the console's URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.console.demo import DEMO_ACCOUNTS
from songda import cli
from songda.devstack import Stack


@pytest.fixture
def console_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "console.db"
    monkeypatch.setenv("CONSOLE_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("SONGDA_JWT_SECRET", "a-secret-for-this-test-of-32-characters")
    return path


def test_users_are_added_listed_and_disabled(console_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["user", "add", "--username", "agent-7", "--role", "agent", "--scope", "agent-huancui-2", "--name", "王五", "--password", "a long password"]) == 0
    assert cli.main(["user", "add", "--username", "firm-1", "--role", "lawyer", "--scope", "31371000md0543210e", "--password", "a long password"]) == 0
    assert "user: added agent-7 (agent agent-huancui-2)" in capsys.readouterr().out
    assert cli.main(["user", "add", "--username", "agent-7", "--role", "agent", "--scope", "agent-huancui-2", "--password", "a long password"]) == 1
    assert "agent-7 is taken" in capsys.readouterr().err
    assert cli.main(["user", "disable", "agent-7"]) == 0
    assert cli.main(["user", "disable", "nobody"]) == 1
    capsys.readouterr()
    assert cli.main(["user", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:4] for line in lines[1:]] == [["agent-7", "agent", "agent-huancui-2", "disabled"], ["firm-1", "lawyer", "31371000MD0543210E", "active"]]
    assert lines[1].endswith("王五")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--role", "agent", "--password", "a long password"], "scope: a agent's scope is its agent id"),
        (["--role", "lawyer", "--scope", "123", "--password", "a long password"], "scope: a lawyer's scope is the firm's USCC"),
        (["--role", "court", "--scope", "C371002", "--password", "short"], "password: String should have at least 10 characters"),
    ],
)
def test_a_user_that_cannot_be_is_refused_naming_the_field(console_db: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str) -> None:
    assert cli.main(["user", "add", "--username", "someone", *arguments]) == 2
    assert message in capsys.readouterr().err
    assert not console_db.exists(), "refused before the database is opened"


def test_a_password_is_asked_for_twice_and_must_match(console_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["first password", "other password"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: next(answers))
    assert cli.main(["user", "add", "--username", "clerk-1", "--role", "court", "--scope", "C371002"]) == 2
    assert "the two passwords differ; nothing was added" in capsys.readouterr().err


def test_run_adds_the_demo_accounts_once_in_development_and_prints_each_login(console_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGDA_ENV", "development")
    monkeypatch.delenv("SONGDA_JWT_SECRET")
    accounts = cli._demo_accounts()
    assert [a.username for a in accounts] == [a.username for a in DEMO_ACCOUNTS] and cli._demo_accounts() == accounts
    assert cli.main(["user", "list"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1 + len(DEMO_ACCOUNTS), "each account once"
    banner = cli._banner(Stack(), accounts)
    assert "Console (sign in here): http://127.0.0.1:8000" in banner
    for account in DEMO_ACCOUNTS:
        assert f"{account.username:<16} password {account.password}" in banner
    assert {a.role.value for a in accounts} == {"court", "agent", "supervisor", "lawyer", "auditor"}


def test_outside_development_no_demo_account_is_made(console_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGDA_ENV", "test")
    assert cli._demo_accounts() == []
    assert not console_db.exists()
