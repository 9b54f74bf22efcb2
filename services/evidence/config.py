"""Evidence settings (env prefix EVIDENCE_)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class EvidenceSettings(ServiceSettings):
    """Evidence's own settings."""

    model_config = SettingsConfigDict(env_prefix="EVIDENCE_", extra="ignore")

    port: int = 8004
