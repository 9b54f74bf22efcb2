"""Composition root of the Twilio simulator: `create_app()` builds the app; the lifespan owns callbacks in flight."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shared.plumbing.clock import clock_from_settings
from simulators.standalone import standalone_app
from simulators.twilio_sim import api, control, errors
from simulators.twilio_sim.callbacks import CallbackSender, callback_client
from simulators.twilio_sim.config import TwilioSimSettings
from simulators.twilio_sim.simulator import Simulator


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

    app = standalone_app(
        name="twilio_sim",
        title="Twilio simulator",
        description="Twilio's Messages and Calls API with signed status callbacks, scripted per number or left to a realistic mix.",
        lifespan=lifespan,
        routers=(api.router, control.router),
    )
    errors.install(app)
    return app
