"""Twilio simulator settings (env prefix TWILIO_SIM_)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.plumbing.settings import DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN, CommonSettings


class TwilioSimSettings(BaseSettings):
    """The Twilio simulator's own settings."""

    model_config = SettingsConfigDict(env_prefix="TWILIO_SIM_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8011
    account_sid: str = Field(default=DEV_TWILIO_ACCOUNT_SID, pattern=r"^AC[0-9a-f]{32}$")
    auth_token: str = Field(default=DEV_TWILIO_AUTH_TOKEN, pattern=r"^[0-9a-f]{32}$")
    # Set, it makes the random mix of outcomes for unscripted numbers repeat run after run.
    seed: int | None = None
    # The number's incoming-message webhook (Twilio's SmsUrl: delivery's /webhooks/twilio/inbound), where a simulated reply goes.
    sms_url: str | None = None
    common: CommonSettings = Field(default_factory=CommonSettings)
