"""Composition root of the Twilio simulator: `create_app()` builds the app; the lifespan owns callbacks in flight."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from services.twilio_sim import api, control, errors
from services.twilio_sim.callbacks import CallbackSender, callback_client
from services.twilio_sim.config import TwilioSimSettings
from services.twilio_sim.simulator import Simulator
from shared import problems
from shared.clock import clock_from_settings

_health = APIRouter(tags=["health"])


@_health.get("/healthz", summary="Liveness of the simulator")
async def healthz() -> dict[str, object]:
    """Answers 200 while the simulator serves; it has no Kafka consumer to wait for."""
    return {"service": "twilio_sim", "status": "ok", "kafka": {"consumer": "none"}}


def create_app(settings: TwilioSimSettings | None = None) -> FastAPI:
    """Builds the Twilio simulator app from settings (environment by default)."""
    settings = settings or TwilioSimSettings()
    clock = clock_from_settings(settings.common)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with callback_client() as client:
            simulator = Simulator(settings=settings, clock=clock, callbacks=CallbackSender(client=client, auth_token=settings.auth_token, clock=clock))
            app.state.simulator = simulator
            try:
                yield
            finally:
                await simulator.stop()

    app = FastAPI(
        title="Songda Twilio simulator",
        description="Twilio's Messages and Calls API with signed status callbacks, scripted per number or left to a realistic mix.",
        version="0.1.0",
        lifespan=lifespan,
    )
    # It has no database, relay or consumer: nothing for `songda serve` to supervise.
    app.state.runtime = None
    problems.install(app)
    errors.install(app)
    app.include_router(_health)
    app.include_router(api.router)
    app.include_router(control.router)
    return app
