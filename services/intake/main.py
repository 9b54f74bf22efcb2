"""Composition root of intake: `create_app()` builds the app; the lifespan runs relay and consumer."""

from fastapi import FastAPI

from services.intake import api, consumers
from services.intake.config import IntakeSettings
from services.intake.models import TABLES
from shared.runtime import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="intake",
    title="Songda intake",
    description="Courts submit notices to serve; intake validates them and publishes them for delivery.",
    tables=TABLES,
    routers=(api.router,),
    consumes=consumers.TOPICS,
    handlers=consumers.HANDLERS,
)


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    """Builds the intake app from settings (environment by default)."""
    return create_service_app(SPEC, settings or IntakeSettings())
