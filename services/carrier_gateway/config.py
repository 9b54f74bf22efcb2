"""Carrier gateway settings (env prefix CARRIER_GATEWAY_)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CarrierGatewaySettings(ServiceSettings):
    """The carrier gateway's own settings."""

    model_config = SettingsConfigDict(env_prefix="CARRIER_GATEWAY_", extra="ignore")

    port: int = 8003
