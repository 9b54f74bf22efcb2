"""Evidence settings (env prefix EVIDENCE_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.evidence.targets import TargetPolicy, networks
from shared.contracts.checkpoints import DEV_SIGNING_SEED
from shared.plumbing.settings import Environment, ServiceSettings


class EvidenceSettings(ServiceSettings):
    """Evidence's own settings: where blobs live, upload limits, the log's signing key, checkpoints, report rendering and court pushes."""

    model_config = SettingsConfigDict(env_prefix="EVIDENCE_", extra="ignore")

    port: int = 8004
    # Content-addressed files; empty means <SONGDA_VAR_DIR>/blobs.
    blob_dir: Path | None = None
    max_upload_mb: float = Field(default=50.0, gt=0)
    # The log's name in its checkpoints, and the Ed25519 seed (base64, 32 bytes) that signs them.
    log_origin: str = Field(default="songda.evidence/log", min_length=1)
    signing_seed: str = DEV_SIGNING_SEED
    checkpoint_every_s: float = Field(default=60.0, gt=0)
    # Pushes of issued reports to courts' webhooks: tries, backoff between them, and the HTTP timeout.
    push_attempts: int = Field(default=12, ge=1)
    push_backoff_s: float = Field(default=2.0, gt=0)
    push_backoff_max_s: float = Field(default=900.0, gt=0)
    push_timeout_s: float = Field(default=10.0, gt=0)
    # Each idle look costs a transaction; an issued version waits at most this long for its push or its PDF.
    push_poll_ms: int = Field(default=2000, ge=10)
    # Issued report versions rendered as PDF in the background (off: each on its first request), looked for at this interval.
    render_issued: bool = True
    render_poll_ms: int = Field(default=2000, ge=10)
    # Court webhooks: https only (None: everywhere but development), and non-public networks the operator allows (法院专网, CIDR).
    webhook_require_https: bool | None = None
    webhook_allowed_networks: list[str] = []

    @property
    def webhook_policy(self) -> TargetPolicy:
        """Returns the rules a court's webhook URL must pass."""
        https = self.webhook_require_https if self.webhook_require_https is not None else self.common.env is not Environment.development
        return TargetPolicy(require_https=https, allowed=networks(self.webhook_allowed_networks))

    @property
    def blobs(self) -> Path:
        """Returns the blob directory."""
        return self.blob_dir or self.common.var_dir / "blobs"

    @property
    def max_upload_bytes(self) -> int:
        """Returns the upload limit in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    @model_validator(mode="after")
    def _refuse_dev_key(self) -> EvidenceSettings:
        if self.common.env is Environment.production and self.signing_seed == DEV_SIGNING_SEED:
            raise ValueError("EVIDENCE_SIGNING_SEED must be the court's own key when SONGDA_ENV=production (songda keygen prints one)")
        return self
