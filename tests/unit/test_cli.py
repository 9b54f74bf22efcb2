"""The songda command: dev tokens that the services accept, and clear errors for bad arguments."""

from __future__ import annotations

import pytest

from shared.plumbing.auth import Role, TokenVerifier
from shared.plumbing.settings import CommonSettings
from songda.cli import main


@pytest.mark.parametrize(("role", "sub"), [("court", "C371002"), ("agent", "agent-7"), ("supervisor", "dev")])
def test_token_prints_a_token_the_services_accept(role: str, sub: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGDA_JWT_SECRET", "a-secret-for-this-test-of-32-characters")
    assert main(["token", "--role", role, "--sub", sub]) == 0
    settings = CommonSettings()
    principal = TokenVerifier(secret=settings.jwt_secret, issuer=settings.jwt_issuer).verify(capsys.readouterr().out.strip())
    assert (principal.role, principal.sub) == (Role(role), sub)


@pytest.mark.parametrize(("extra", "user"), [(["--user", "lawyer-wang"], "lawyer-wang"), ([], "")])
def test_token_names_the_person_only_when_asked(extra: list[str], user: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGDA_JWT_SECRET", "a-secret-for-this-test-of-32-characters")
    assert main(["token", "--role", "lawyer", "--sub", "31371000MD0543210E", *extra]) == 0
    settings = CommonSettings()
    principal = TokenVerifier(secret=settings.jwt_secret, issuer=settings.jwt_issuer).verify(capsys.readouterr().out.strip())
    assert (principal.role, principal.sub, principal.user) == (Role.lawyer, "31371000MD0543210E", user)


def test_token_refuses_an_unknown_role(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["token", "--role", "judge", "--sub", "x"])
    assert exit_.value.code == 2
    assert "invalid choice: 'judge'" in capsys.readouterr().err


def test_token_ttl_must_be_a_duration(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["token", "--role", "court", "--sub", "C1", "--ttl", "soon"])
    assert "expected a duration like 30m, 12h or 7d" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("service", "reason"),
    [
        ("delivery", "replicas of delivery need a PostgreSQL database (DELIVERY_DATABASE_URL)"),
        ("intake", "replicas of intake need a PostgreSQL database (INTAKE_DATABASE_URL)"),
        ("evidence", "only delivery and intake run as several replicas; evidence runs as one process"),
        ("twilio_sim", "only delivery and intake"),
    ],
)
def test_serve_refuses_replicas_it_cannot_run(service: str, reason: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("SONGDA_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DELIVERY_DATABASE_URL", raising=False)
    monkeypatch.delenv("INTAKE_DATABASE_URL", raising=False)
    monkeypatch.setenv("EVIDENCE_DATABASE_URL", "postgresql://songda@127.0.0.1:1/nowhere")
    assert main(["serve", service, "--port", "0", "--replica-port", "0"]) == 2
    assert reason in capsys.readouterr().err
