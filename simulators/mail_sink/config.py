"""Mail sink settings (env prefix MAIL_SINK_)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.plumbing.settings import CommonSettings


class MailSinkSettings(BaseSettings):
    """The mail sink's own settings: its web page, its SMTP port and how many messages it keeps."""

    model_config = SettingsConfigDict(env_prefix="MAIL_SINK_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8012
    smtp_port: int = 8025
    # Older messages are forgotten beyond this many, so a long `make run` does not grow without bound.
    keep: int = Field(default=500, ge=1)
    common: CommonSettings = Field(default_factory=CommonSettings)
