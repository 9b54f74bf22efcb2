"""Intake settings (env prefix INTAKE_)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.plumbing.documents import DEFAULT_MAX_BYTES
from shared.plumbing.settings import Environment, ServiceSettings

DEMO_COURTS = Path(__file__).with_name("courts.toml")


class IntakeSettings(ServiceSettings):
    """Intake's own settings."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    port: int = 8001
    # Courts registered at start when missing; by default the demo courts outside production, none in production.
    courts_seed: Path | None = None
    # The largest document a court may upload (bytes); a scanned 起诉状 with its exhibits stays well below 50 MB.
    document_max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1)
    # A workbook of notices: how big it and the whole upload with its files may be, and how many rows and files it may carry.
    batch_workbook_max_mb: float = Field(default=10, gt=0)
    batch_upload_max_mb: float = Field(default=500, gt=0)
    batch_max_rows: int = Field(default=5000, ge=1)
    batch_max_files: int = Field(default=1000, ge=1)
    # How long the batch worker waits when no notice of a workbook waits to be registered: a batch this process keeps wakes it at once,
    # so this only bounds how soon it takes one another replica kept, and each look costs a query.
    batch_poll_ms: int = Field(default=5000, ge=10)

    @property
    def seed_file(self) -> Path | None:
        """Returns the courts file to seed the registry from, if any."""
        if self.courts_seed is not None:
            return self.courts_seed
        return None if self.common.env is Environment.production else DEMO_COURTS
