"""Composition root of the EMS simulator: `create_app()` builds the app; the lifespan owns the items' timers and pushes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shared.plumbing.clock import clock_from_settings
from simulators.ems_sim import api, control
from simulators.ems_sim.config import EmsSimSettings
from simulators.ems_sim.pushes import PushSender, push_client
from simulators.ems_sim.simulator import Simulator
from simulators.standalone import standalone_app


def create_app(settings: EmsSimSettings | None = None) -> FastAPI:
    """Builds the EMS simulator app from settings (environment by default)."""
    settings = settings or EmsSimSettings()
    clock = clock_from_settings(settings.common)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with push_client() as client:
            simulator = Simulator(settings=settings, clock=clock, pushes=PushSender(client=client, secret=settings.push_secret, clock=clock))
            app.state.simulator = simulator
            try:
                yield
            finally:
                await simulator.stop()

    app = standalone_app(
        name="ems_sim",
        title="EMS simulator",
        description="China Post EMS open platform for court mail: SM4-encrypted API calls, traces pushed with a digest, scripted per receiver or left to a realistic mix.",
        lifespan=lifespan,
        routers=(api.router, control.router),
    )
    return app
