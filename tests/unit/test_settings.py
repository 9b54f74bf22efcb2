"""Settings: insecure production secrets are refused, service settings read their own prefix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.intake.config import IntakeSettings
from shared.plumbing.settings import DEV_JWT_SECRET, CommonSettings, Environment, ServiceSettings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith(("SONGDA_", "INTAKE_"))]:
        monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (DEV_JWT_SECRET, "must be set to a real secret"),
        ("s" * 31, "at least 32 characters"),
        ("", "at least 32 characters"),
    ],
)
def test_production_refuses_insecure_secret(secret: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CommonSettings(env="production", jwt_secret=secret)


def test_production_refuses_default_secret_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGDA_ENV", "production")
    with pytest.raises(ValidationError, match="SONGDA_JWT_SECRET must be set"):
        CommonSettings()


def test_production_accepts_long_secret() -> None:
    settings = CommonSettings(env="production", jwt_secret="s" * 32)
    assert settings.env is Environment.production


@pytest.mark.parametrize("env", ["development", "test"])
def test_other_environments_accept_dev_secret(env: str) -> None:
    assert CommonSettings(env=env).jwt_secret == DEV_JWT_SECRET


def test_development_is_the_default() -> None:
    settings = CommonSettings()
    assert settings.env is Environment.development
    assert settings.jwt_secret == DEV_JWT_SECRET
    assert settings.clock == "real"


def test_common_settings_read_songda_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGDA_KAFKA_BOOTSTRAP", "kafka.internal:9093")
    monkeypatch.setenv("SONGDA_TIME_SCALE", "60")
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "unprefixed:1")
    settings = CommonSettings()
    assert settings.kafka_bootstrap == "kafka.internal:9093"
    assert settings.time_scale == 60.0


def test_database_url_falls_back_to_sqlite_under_var_dir(tmp_path: Path) -> None:
    settings = ServiceSettings(port=8000, common=CommonSettings(var_dir=tmp_path))
    assert settings.resolved_database_url("intake") == "sqlite:///" + str(tmp_path / "intake.db")


def test_database_url_default_var_dir() -> None:
    assert IntakeSettings().resolved_database_url("intake") == "sqlite:///var/intake.db"


def test_configured_database_url_wins(tmp_path: Path) -> None:
    url = "postgresql://songda:songda@db:5432/intake"
    settings = ServiceSettings(port=8000, database_url=url, common=CommonSettings(var_dir=tmp_path))
    assert settings.resolved_database_url("intake") == url


def test_var_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SONGDA_VAR_DIR", str(tmp_path))
    assert IntakeSettings().resolved_database_url("intake") == f"sqlite:///{tmp_path}/intake.db"


def test_intake_settings_read_intake_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_PORT", "9101")
    monkeypatch.setenv("INTAKE_HOST", "0.0.0.0")
    monkeypatch.setenv("INTAKE_DATABASE_URL", "postgresql://db/intake")
    monkeypatch.setenv("INTAKE_CONSUMER_MAX_ATTEMPTS", "9")
    settings = IntakeSettings()
    assert (settings.port, settings.host, settings.database_url, settings.consumer_max_attempts) == (9101, "0.0.0.0", "postgresql://db/intake", 9)


def test_intake_settings_ignore_other_prefixes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "1234")
    monkeypatch.setenv("DELIVERY_PORT", "1235")
    assert IntakeSettings().port == 8001


@pytest.mark.parametrize(("name", "value"), [("INTAKE_PORT", "eighty"), ("INTAKE_CONSUMER_MAX_ATTEMPTS", "0"), ("INTAKE_RELAY_POLL_MS", "5")])
def test_intake_settings_validate(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        IntakeSettings()


def test_service_settings_refuse_insecure_production(monkeypatch: pytest.MonkeyPatch) -> None:
    # The nested common settings are built from SONGDA_* too, so a service cannot start insecurely.
    monkeypatch.setenv("SONGDA_ENV", "production")
    with pytest.raises(ValidationError, match="SONGDA_JWT_SECRET"):
        IntakeSettings()
