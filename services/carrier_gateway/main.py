"""Composition root of the carrier gateway: `create_app()` builds the app; the lifespan runs relay and consumer."""

from fastapi import FastAPI

from services.carrier_gateway import consumers
from services.carrier_gateway.config import CarrierGatewaySettings
from shared.runtime import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="carrier_gateway",
    title="Songda carrier gateway",
    description="Books court mail (法院专递) with EMS and turns its traces into delivery events.",
    tables=(),
    routers=(),
    consumes=consumers.TOPICS,
    handlers=consumers.HANDLERS,
)


def create_app(settings: CarrierGatewaySettings | None = None) -> FastAPI:
    """Builds the carrier gateway app from settings (environment by default)."""
    return create_service_app(SPEC, settings or CarrierGatewaySettings())
