"""Composition root of evidence: `create_app()` builds the app; the lifespan runs relay, consumer, checkpoints, the report renderer and court pushes."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.evidence import api, consumers, handlers, workers
from services.evidence.adapters.courts import HttpCourtWebhooks
from services.evidence.config import EvidenceSettings
from services.evidence.deps import EvidenceDeps
from services.evidence.models import TABLES
from services.evidence.signer import Signer
from shared.plumbing.backoff import Backoff
from shared.plumbing.blobs import BlobStore
from shared.plumbing.runtime import Runtime, ServiceSpec, create_service_app


def create_app(settings: EvidenceSettings | None = None) -> FastAPI:
    """Builds the evidence app from settings (environment by default)."""
    settings = settings or EvidenceSettings()
    # A malformed key stops the service at start, not at its first checkpoint.
    signer = Signer(origin=settings.log_origin, seed=settings.signing_seed)
    policy = settings.webhook_policy
    courts = HttpCourtWebhooks(http=httpx.AsyncClient(), policy=policy, timeout_s=settings.push_timeout_s)

    def build_deps(runtime: Runtime) -> EvidenceDeps:
        return EvidenceDeps(
            db=runtime.db,
            clock=runtime.clock,
            signer=signer,
            blobs=BlobStore(settings.blobs),
            max_upload_bytes=settings.max_upload_bytes,
            webhook_policy=policy,
            courts=courts,
            push_attempts=settings.push_attempts,
            push_backoff=Backoff(initial=settings.push_backoff_s, maximum=settings.push_backoff_max_s),
        )

    def run(deps: EvidenceDeps) -> dict:
        tasks = {
            "checkpoints": workers.sign_checkpoints(deps, every_s=settings.checkpoint_every_s),
            "court_pushes": workers.push_reports(deps, poll_s=settings.push_poll_ms / 1000),
        }
        if settings.render_issued:
            tasks["report_pdfs"] = workers.render_reports(deps, poll_s=settings.render_poll_ms / 1000)
        return tasks

    spec = ServiceSpec(
        name="evidence",
        title="Songda evidence",
        description="Keeps every event, call record and photo of a notice as tamper-evident evidence and issues the delivery reports.",
        tables=TABLES,
        routers=(api.router, api.courts, api.kpis_router),
        consumes=consumers.TOPICS,
        handlers=consumers.HANDLERS,
        on_any=handlers.record,
        deps=build_deps,
        workers=run,
        close=courts.close,
    )
    return create_service_app(spec, settings)
