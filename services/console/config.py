"""Console settings (env prefix CONSOLE_)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared.plumbing.settings import Environment, ServiceSettings


class ConsoleSettings(ServiceSettings):
    """The console's own settings: where the services listen, how long a session lives, when a username locks, how large an upload may be."""

    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore")

    port: int = 8000
    # The services' public HTTP APIs; the console calls them with a short-lived token of the signed-in user.
    # Intake names the courts on the notice list.
    intake_url: str = "http://127.0.0.1:8001"
    delivery_url: str = "http://127.0.0.1:8002"
    evidence_url: str = "http://127.0.0.1:8004"
    service_timeout_s: float = Field(default=15.0, gt=0)
    # A session ends after this long without a request, and at the latest this long after sign-in (wall-clock time).
    session_idle_minutes: float = Field(default=30, gt=0)
    session_max_hours: float = Field(default=12, gt=0)
    # Failed sign-ins in a row that lock a username, and for how long.
    lockout_attempts: int = Field(default=5, ge=1)
    lockout_minutes: float = Field(default=15, gt=0)
    # None: cookies are Secure everywhere but in development, whose console is plain http://127.0.0.1.
    secure_cookies: bool | None = None
    # The largest photo, video or signature the console takes to pass on to evidence.
    max_upload_mb: float = Field(default=25, gt=0)
    # The largest workbook upload (the workbook with its documents) the console passes on to intake, and how long intake may take to take it.
    max_batch_mb: float = Field(default=500, gt=0)
    batch_timeout_s: float = Field(default=300, gt=0)

    @property
    def cookies_secure(self) -> bool:
        """Tells whether the session cookie carries Secure (sent over HTTPS only)."""
        return self.common.env is not Environment.development if self.secure_cookies is None else self.secure_cookies

    @model_validator(mode="after")
    def _refuse_insecure_cookies(self) -> ConsoleSettings:
        if self.secure_cookies is False and self.common.env is not Environment.development:
            raise ValueError("CONSOLE_SECURE_COOKIES=false is allowed in development only: a session cookie sent over plain HTTP can be stolen")
        return self
