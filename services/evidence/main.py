"""Composition root of evidence: `create_app()` builds the app; the lifespan runs relay, consumer, checkpoints and court pushes."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.evidence import api, checkpointer, consumers, courts, handlers
from services.evidence.blobs import BlobStore
from services.evidence.config import EvidenceSettings
from services.evidence.models import TABLES
from services.evidence.signer import Signer
from shared.plumbing.runtime import Deps, ServiceSpec, create_service_app


def create_app(settings: EvidenceSettings | None = None) -> FastAPI:
    """Builds the evidence app from settings (environment by default)."""
    settings = settings or EvidenceSettings()
    # A malformed key stops the service at start, not at its first checkpoint.
    signer = Signer(origin=settings.log_origin, seed=settings.signing_seed)
    http = httpx.AsyncClient()

    def workers(deps: Deps) -> dict:
        pusher = courts.Pusher(
            db=deps.db,
            clock=deps.clock,
            http=http,
            policy=settings.webhook_policy,
            attempts=settings.push_attempts,
            backoff_s=settings.push_backoff_s,
            backoff_max_s=settings.push_backoff_max_s,
            timeout_s=settings.push_timeout_s,
            poll_s=settings.push_poll_ms / 1000,
        )
        checkpoints = checkpointer.run(db=deps.db, signer=signer, clock=deps.clock, every_s=settings.checkpoint_every_s)
        return {"checkpoints": checkpoints, "court_pushes": pusher.run()}

    async def close() -> None:
        await http.aclose()

    spec = ServiceSpec(
        name="evidence",
        title="Songda evidence",
        description="Keeps every event, call record and photo of a notice as tamper-evident evidence and issues the delivery reports.",
        tables=TABLES,
        routers=(api.router, courts.router),
        consumes=consumers.TOPICS,
        handlers=consumers.HANDLERS,
        on_any=handlers.recorder(signer),
        workers=workers,
        close=close,
    )
    app = create_service_app(spec, settings)
    app.state.signer = signer
    app.state.blobs = BlobStore(settings.blobs)
    app.state.max_upload_bytes = settings.max_upload_bytes
    app.state.webhook_policy = settings.webhook_policy
    return app
