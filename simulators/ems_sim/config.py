"""EMS simulator settings (env prefix EMS_SIM_)."""

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.contracts.ems_wire import decode_key
from shared.plumbing.settings import DEV_EMS_AUTHORIZATION, DEV_EMS_PUSH_SECRET, DEV_EMS_SENDER_NO, DEV_EMS_SM4_KEY, CommonSettings


class EmsSimSettings(BaseSettings):
    """The EMS simulator's own settings."""

    model_config = SettingsConfigDict(env_prefix="EMS_SIM_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8010
    sender_no: str = Field(default=DEV_EMS_SENDER_NO, min_length=1)
    authorization: str = Field(default=DEV_EMS_AUTHORIZATION, min_length=1)
    # Base64 of the 16-byte SM4 key the court's payloads are encrypted with.
    sm4_key: str = DEV_EMS_SM4_KEY
    push_secret: str = Field(default=DEV_EMS_PUSH_SECRET, min_length=1)
    push_url: str = "http://127.0.0.1:8003/webhooks/ems"
    # Set, it makes waybill numbers, timelines, outcomes and misbehaviour repeat run after run.
    seed: int | None = None
    # Off (EMS_SIM_FAULTS=false), every rate below counts as zero.
    faults: bool = True
    duplicate_push_rate: float = Field(default=0.05, ge=0.0, le=1.0)
    reorder_push_rate: float = Field(default=0.05, ge=0.0, le=1.0)
    drop_push_rate: float = Field(default=0.03, ge=0.0, le=1.0)
    outage_rate: float = Field(default=0.02, ge=0.0, le=1.0)
    slow_answer_rate: float = Field(default=0.02, ge=0.0, le=1.0)
    # Latency is real, not domain time: a slow answer is meant to test the caller's HTTP timeout.
    slow_answer_seconds: float = Field(default=5.0, ge=0.0)
    common: CommonSettings = Field(default_factory=CommonSettings)

    @field_validator("sm4_key")
    @classmethod
    def _sixteen_bytes(cls, value: str) -> str:
        decode_key(value)
        return value

    @property
    def key(self) -> bytes:
        """Returns the SM4 key as bytes."""
        return decode_key(self.sm4_key)
