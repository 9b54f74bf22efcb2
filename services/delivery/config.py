"""Delivery settings (env prefix DELIVERY_)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class DeliverySettings(ServiceSettings):
    """Delivery's own settings."""

    model_config = SettingsConfigDict(env_prefix="DELIVERY_", extra="ignore")

    port: int = 8002
