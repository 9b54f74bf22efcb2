"""Composition root of intake: `create_app()` builds the app; the lifespan seeds the court registry and runs relay and consumer."""

import structlog
from fastapi import FastAPI

from services.intake import api, consumers, courts, handlers, workers
from services.intake.batch_upload import BatchIntake, Limits
from services.intake.config import IntakeSettings
from services.intake.deps import IntakeDeps
from services.intake.models import TABLES
from shared.plumbing.documents import DocumentStore
from shared.plumbing.runtime import Deps, Runtime, ServiceSpec, create_service_app

log = structlog.get_logger(__name__)


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    """Builds the intake app from settings (environment by default)."""
    settings = settings or IntakeSettings()
    seed_file = settings.seed_file
    # A malformed courts file stops the service at start, not at its first notice.
    seed = courts.read_seed(seed_file) if seed_file else {}

    async def prepare(deps: Deps) -> None:
        added = await handlers.seed_courts(deps, seed=seed)
        if added:
            log.info("courts.seeded", added=added, file=str(seed_file))

    def build_deps(runtime: Runtime) -> IntakeDeps:
        store = DocumentStore(settings.common.documents, max_bytes=settings.document_max_bytes)
        return IntakeDeps(db=runtime.db, clock=runtime.clock, documents=store)

    def run(deps: Deps) -> dict:
        return {"batches": workers.register_batches(deps, poll_s=settings.batch_poll_ms / 1000)}

    spec = ServiceSpec(
        name="intake",
        title="Songda intake",
        description="Courts submit notices to serve; intake validates them and publishes them for delivery.",
        tables=TABLES,
        routers=(api.router,),
        consumes=consumers.TOPICS,
        handlers=consumers.HANDLERS,
        deps=build_deps,
        prepare=prepare,
        workers=run,
    )
    app = create_service_app(spec, settings)
    app.state.batch_intake = BatchIntake(
        limits=Limits(workbook_bytes=int(settings.batch_workbook_max_mb * 2**20), upload_bytes=int(settings.batch_upload_max_mb * 2**20), files=settings.batch_max_files),
        max_rows=settings.batch_max_rows,
    )
    return app
