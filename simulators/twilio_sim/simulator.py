"""The running simulator: what it received, what it was told to do, and the lives it is playing out."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request

from shared.contracts.values import LineType, Phone
from shared.plumbing.clock import Clock
from simulators.twilio_sim.callbacks import CallbackSender
from simulators.twilio_sim.config import TwilioSimSettings
from simulators.twilio_sim.mix import RandomMix
from simulators.twilio_sim.outcomes import CallOutcome, Scripts, SmsOutcome, Undelivered
from simulators.twilio_sim.resources import Call, Message

log = structlog.get_logger(__name__)


class Simulator:
    """Resources by SID, scripts, the random mix and the background tasks that move resources on."""

    def __init__(self, *, settings: TwilioSimSettings, clock: Clock, callbacks: CallbackSender) -> None:
        self.settings = settings
        self.clock = clock
        self.callbacks = callbacks
        self.scripts = Scripts()
        self.mix = RandomMix(settings.seed)
        self.messages: dict[str, Message] = {}
        self.calls: dict[str, Call] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def sms_outcome(self, to: Phone) -> SmsOutcome:
        """Returns what becomes of a message to `to`: its script, else what its line and chance make of it."""
        scripted = self.scripts.sms(to.e164)
        if scripted is not None:
            return scripted
        if to.line_type is LineType.FIXED_LINE:
            # Carriers take an SMS for a landline and then report it undeliverable, as Twilio relays.
            return Undelivered(error_code=30006)
        return self.mix.sms()

    def call_outcome(self, to: Phone) -> CallOutcome:
        """Returns what becomes of a call to `to`: its script, else chance."""
        scripted = self.scripts.call(to.e164)
        return scripted if scripted is not None else self.mix.call()

    def spawn(self, name: str, coroutine: Coroutine[Any, Any, None]) -> None:
        """Runs a resource's life in the background until it ends or the simulator stops."""
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("lifecycle.crashed", task=task.get_name(), exc_info=task.exception())

    async def stop(self) -> None:
        """Cancels every life still playing out and waits for each to end."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.callbacks.stop()


async def get_simulator(request: Request) -> Simulator:
    """Returns the running simulator."""
    return request.app.state.simulator


SimulatorDep = Annotated[Simulator, Depends(get_simulator)]
