"""Apps that run beside the services with no database or Kafka of their own: the provider simulators and the mail sink."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from fastapi import APIRouter, FastAPI

from shared.plumbing import problems


def standalone_app(*, name: str, title: str, description: str, lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]], routers: Sequence[APIRouter]) -> FastAPI:
    """Builds such an app with problem+json errors and a `/healthz` that reports no consumer."""
    health = APIRouter(tags=["health"])

    @health.get("/healthz", summary=f"Liveness of the {title}")
    async def healthz() -> dict[str, object]:
        """Answers 200 while the app serves; it has no Kafka consumer to wait for."""
        return {"service": name, "status": "ok", "kafka": {"consumer": "none"}}

    app = FastAPI(title=f"Songda {title}", description=description, version="0.1.0", lifespan=lifespan)
    # No database, relay or consumer: nothing for `songda serve` to supervise.
    app.state.runtime = None
    problems.install(app)
    app.include_router(health)
    for router in routers:
        app.include_router(router)
    return app
