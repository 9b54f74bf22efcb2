"""Composition root of delivery: `create_app()` builds the app; the lifespan runs relay and consumer."""

from fastapi import FastAPI

from services.delivery import api, consumers
from services.delivery.config import DeliverySettings
from services.delivery.models import TABLES
from shared.runtime import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="delivery",
    title="Songda delivery",
    description="Runs delivery tier by tier for every recipient of a notice and records how and when service happened.",
    tables=TABLES,
    routers=(api.router,),
    consumes=consumers.TOPICS,
    handlers=consumers.HANDLERS,
)


def create_app(settings: DeliverySettings | None = None) -> FastAPI:
    """Builds the delivery app from settings (environment by default)."""
    return create_service_app(SPEC, settings or DeliverySettings())
