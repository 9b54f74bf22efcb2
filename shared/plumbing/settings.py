"""Settings shared by every Songda process (SONGDA_*) and the base each service extends."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "songda-development-secret-never-use-in-production"
# The Twilio simulator's credentials; delivery uses them unless DELIVERY_TWILIO_* name real ones.
DEV_TWILIO_ACCOUNT_SID = "AC6336bcf5763acaebab2dd016c08e4b54"
DEV_TWILIO_AUTH_TOKEN = "0b280b497e3fc2a5d8bf5e5f12a12bf1"
# The EMS simulator's credentials; the carrier gateway uses them unless real ones are configured.
DEV_EMS_SENDER_NO = "37100200018"
DEV_EMS_AUTHORIZATION = "4ad3c68767d9976333f5a64815422faa"
DEV_EMS_SM4_KEY = "qjWoPE+0ODlwyYfhMxQCMw=="
DEV_EMS_PUSH_SECRET = "53aUkCaI8_4kAgL49de1nPlWLyswxnCQ"
# The secret the mail sink signs its bounces (DSNs) to delivery's webhook with; a real mail server's pipe gets its own.
DEV_MAIL_DSN_SECRET = "songda-development-dsn-secret-never-use-in-production"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class ApiDocs(StrEnum):
    """Who may read a service's OpenAPI document (/openapi.json): anyone, bearers of a token, or nobody."""

    public = "public"
    token = "token"
    off = "off"


class CommonSettings(BaseSettings):
    """Settings every process agrees on: environment, Kafka, topics, tokens, clock, logging."""

    model_config = SettingsConfigDict(env_prefix="SONGDA_", extra="ignore")

    env: Environment = Environment.development
    kafka_bootstrap: str = "127.0.0.1:9092"
    # Lets several independent stacks (test runs) share one broker without seeing each other.
    topic_prefix: str = ""
    jwt_secret: str = DEV_JWT_SECRET
    jwt_issuer: str = "songda"
    var_dir: Path = Path("var")
    # The courts' documents (content-addressed): intake writes them, delivery reads them; empty means <var_dir>/documents.
    documents_dir: Path | None = None
    # The imported holiday calendar (songda calendar import, the console's calendar page): the console writes it, every service reads it;
    # empty means <var_dir>/calendar.
    calendar_dir: Path | None = None
    clock: str = "real"
    clock_epoch: str | None = None
    clock_anchor: str | None = None
    time_scale: float = 1.0
    log_level: str = "INFO"
    log_format: str = "json"
    # The longest a token may live (exp - iat); enforced everywhere but in development.
    token_max_ttl_hours: float = Field(default=24, gt=0, le=24 * 31)
    # None picks by environment: public in development, token in test, off in production.
    api_docs: ApiDocs | None = None
    # Per client address on the surfaces without a token, in the `limits` notation ("30/minute"): every request,
    # and misses (unknown or expired links, forged signatures), which once spent refuse the address for the window.
    rate_limit_edelivery: str = "120/minute"
    rate_limit_edelivery_misses: str = "10/minute"
    rate_limit_webhooks: str = "60000/minute"
    rate_limit_webhook_forgeries: str = "20/minute"
    rate_limit_health: str = "120/minute"
    # The proxies whose X-Forwarded-For and X-Forwarded-Proto uvicorn believes (comma-separated addresses or networks, "*" for any):
    # the console calls delivery on a lawyer's behalf and forwards the browser's address, which the e-service certificate records.
    forwarded_allow_ips: str = "127.0.0.1"

    @property
    def token_max_ttl(self) -> timedelta | None:
        """Returns the longest lifetime a token may have, or None in development."""
        return None if self.env is Environment.development else timedelta(hours=self.token_max_ttl_hours)

    @property
    def documents(self) -> Path:
        """Returns the document store's directory."""
        return self.documents_dir or self.var_dir / "documents"

    @property
    def calendar(self) -> Path:
        """Returns the directory of the imported holiday calendar's year files."""
        return self.calendar_dir or self.var_dir / "calendar"

    @property
    def docs(self) -> ApiDocs:
        """Returns who may read the OpenAPI document here."""
        if self.api_docs is not None:
            return self.api_docs
        return {Environment.development: ApiDocs.public, Environment.test: ApiDocs.token}.get(self.env, ApiDocs.off)

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> CommonSettings:
        if self.env is Environment.production and self.jwt_secret == DEV_JWT_SECRET:
            raise ValueError("SONGDA_JWT_SECRET must be set to a real secret when SONGDA_ENV=production")
        if self.env is Environment.production and len(self.jwt_secret) < 32:
            raise ValueError("SONGDA_JWT_SECRET must be at least 32 characters in production")
        return self


class ServiceSettings(BaseSettings):
    """What each service configures for itself; subclasses set env_prefix to <NAME>_."""

    model_config = SettingsConfigDict(extra="ignore")

    host: str = "127.0.0.1"
    port: int
    database_url: str = ""
    db_pool_size: int = Field(default=20, ge=1)
    # The consumer commits offsets at most this often; 0 commits after every batch.
    commit_interval_ms: int = 0
    consumer_max_attempts: int = Field(default=5, ge=1)
    relay_batch_size: int = Field(default=500, ge=1)
    relay_poll_ms: int = Field(default=250, ge=10)
    # How long start-up waits for the revoked tokens to be read before serving (503 to tokens until then).
    revocations_wait_s: float = Field(default=30, ge=0)
    common: CommonSettings = Field(default_factory=CommonSettings)

    def resolved_database_url(self, service: str) -> str:
        """Returns the configured database URL, or the embedded SQLite file under var/."""
        return self.database_url or f"sqlite:///{self.common.var_dir / f'{service}.db'}"
