"""Carrier gateway settings (env prefix CARRIER_GATEWAY_)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.carrier_gateway.adapters.ems.mapper import Sender
from shared.plumbing.settings import DEV_EMS_AUTHORIZATION, DEV_EMS_PUSH_SECRET, DEV_EMS_SENDER_NO, DEV_EMS_SM4_KEY, Environment, ServiceSettings

# The court's own return address on every item it books; a deployment names its court's.
DEFAULT_SENDER = Sender(name="威海市环翠区人民法院", mobile="06315200000", prov="山东省", city="威海市", county="环翠区", address="山东省威海市环翠区青岛中路137号")


class CarrierGatewaySettings(ServiceSettings):
    """The carrier gateway's own settings: EMS's address and credentials, the return address, retries, the breaker, polling and receipt scans."""

    model_config = SettingsConfigDict(env_prefix="CARRIER_GATEWAY_", extra="ignore")

    port: int = 8003
    # EMS's open platform, or the simulator; bookings, cancellations and tracking queries go to {ems_origin}/api/gateway.
    ems_origin: str = "http://127.0.0.1:8010"
    ems_sender_no: str = DEV_EMS_SENDER_NO
    ems_authorization: str = DEV_EMS_AUTHORIZATION
    ems_sm4_key: str = DEV_EMS_SM4_KEY
    ems_push_secret: str = DEV_EMS_PUSH_SECRET
    # JSON in the environment, e.g. CARRIER_GATEWAY_SENDER='{"name": "…", "mobile": "…", …}'.
    sender: Sender = DEFAULT_SENDER
    ems_timeout_s: float = Field(default=10.0, gt=0)
    # Tries per request, with exponential backoff and jitter between them.
    ems_attempts: int = Field(default=4, ge=1)
    ems_backoff_s: float = Field(default=0.5, gt=0)
    ems_backoff_max_s: float = Field(default=8.0, gt=0)
    # Failed requests in a row that open the circuit, and how long it stays open before one trial request.
    breaker_failures: int = Field(default=5, ge=1)
    breaker_cooldown_s: float = Field(default=30.0, gt=0)
    booking_poll_ms: int = Field(default=200, ge=10)
    # An item whose last node is older than this (domain hours) is asked about with a tracking query.
    poll_quiet_hours: float = Field(default=12.0, gt=0)
    poll_every_s: float = Field(default=5.0, gt=0)
    # Evidence's intake, where each return receipt's scan is uploaded before the receipt is reported.
    evidence_url: str = "http://127.0.0.1:8004"
    evidence_timeout_s: float = Field(default=10.0, gt=0)
    # Tries to fetch and upload a receipt's scan, the first backoff between them (domain seconds, doubling),
    # and how often due scans are looked for; after the last try the receipt goes out without its scan.
    scan_attempts: int = Field(default=8, ge=1)
    scan_backoff_s: float = Field(default=300.0, gt=0)
    scan_poll_ms: int = Field(default=500, ge=10)

    @model_validator(mode="after")
    def _refuse_simulator_credentials(self) -> CarrierGatewaySettings:
        simulator = {self.ems_authorization, self.ems_sm4_key, self.ems_push_secret} & {DEV_EMS_AUTHORIZATION, DEV_EMS_SM4_KEY, DEV_EMS_PUSH_SECRET}
        if self.common.env is Environment.production and simulator:
            raise ValueError("CARRIER_GATEWAY_EMS_AUTHORIZATION, _EMS_SM4_KEY and _EMS_PUSH_SECRET must be the court's own when SONGDA_ENV=production")
        return self
