"""Mail sink settings (env prefix MAIL_SINK_)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.plumbing.settings import DEV_MAIL_DSN_SECRET, CommonSettings


class MailSinkSettings(BaseSettings):
    """The mail sink's own settings: its web page, its SMTP port, how many messages it keeps and where its bounces and replies go."""

    model_config = SettingsConfigDict(env_prefix="MAIL_SINK_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8012
    smtp_port: int = 8025
    # Older messages are forgotten beyond this many, so a long `make run` does not grow without bound.
    keep: int = Field(default=500, ge=1)
    # Mail to this domain is accepted and then bounced: the sink posts a delivery status notification (RFC 3464),
    # signed with dsn_secret, to dsn_url (delivery's /webhooks/mail/dsn), as a mail server's pipe hands one over.
    bounce_domain: str = "bounce.invalid"
    dsn_url: str | None = None
    # A reply to a kept message (`POST /api/messages/{id}/reply`) is posted, signed with dsn_secret too, to reply_url
    # (delivery's /webhooks/mail/inbound).
    reply_url: str | None = None
    dsn_secret: str = Field(default=DEV_MAIL_DSN_SECRET, min_length=1)
    common: CommonSettings = Field(default_factory=CommonSettings)
