"""Composition root of evidence: `create_app()` builds the app; the lifespan runs relay and consumer."""

from fastapi import FastAPI

from services.evidence import api, consumers
from services.evidence.config import EvidenceSettings
from services.evidence.models import TABLES
from shared.runtime import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="evidence",
    title="Songda evidence",
    description="Keeps every event, call record and photo of a notice as tamper-evident evidence.",
    tables=TABLES,
    routers=(api.router,),
    consumes=consumers.TOPICS,
    handlers=consumers.HANDLERS,
    on_any=consumers.ON_ANY,
)


def create_app(settings: EvidenceSettings | None = None) -> FastAPI:
    """Builds the evidence app from settings (environment by default)."""
    return create_service_app(SPEC, settings or EvidenceSettings())
