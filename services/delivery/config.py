"""Delivery settings (env prefix DELIVERY_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared.plumbing.settings import DEV_MAIL_DSN_SECRET, DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN, Environment, ServiceSettings


class DeliverySettings(ServiceSettings):
    """Delivery's own settings: where it is reachable, Twilio, SMTP and its bounces, the policy file and the loop intervals."""

    model_config = SettingsConfigDict(env_prefix="DELIVERY_", extra="ignore")

    port: int = 8002
    # The URL people and Twilio reach delivery at; links and signed callbacks are built on it exactly.
    public_url: str = "http://127.0.0.1:8002"
    policy_file: Path | None = None
    twilio_account_sid: str = DEV_TWILIO_ACCOUNT_SID
    twilio_auth_token: str = DEV_TWILIO_AUTH_TOKEN
    twilio_from: str = "+8610012368"
    # Where the Twilio SDK's requests go instead of https://api.twilio.com (the simulator); empty for real Twilio.
    twilio_origin: str = "http://127.0.0.1:8011"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_sender: str = "法院送达中心 <songda@court.example>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    # The secret the mail server's pipe signs each bounce (DSN) it posts to /webhooks/mail/dsn with (HMAC-SHA256 of the body).
    mail_dsn_secret: str = Field(default=DEV_MAIL_DSN_SECRET, min_length=16)
    dispatch_poll_ms: int = Field(default=200, ge=10)
    sweep_poll_ms: int = Field(default=1000, ge=10)
    # A message or call with no final status this long (domain seconds) after it went out is looked up at Twilio.
    status_check_after_s: float = Field(default=600, gt=0)
    status_check_poll_ms: int = Field(default=5000, ge=10)

    @model_validator(mode="after")
    def _refuse_development_dsn_secret(self) -> DeliverySettings:
        if self.common.env is Environment.production and self.mail_dsn_secret == DEV_MAIL_DSN_SECRET:
            raise ValueError("DELIVERY_MAIL_DSN_SECRET must be the court's own when SONGDA_ENV=production")
        return self
