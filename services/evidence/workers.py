"""Evidence's timers: the checkpointer signs the log at intervals, the court pusher delivers due report versions; each tick is a handler."""

from __future__ import annotations

import asyncio

from services.evidence import handlers
from services.evidence.deps import EvidenceDeps


async def sign_checkpoints(deps: EvidenceDeps, *, every_s: float) -> None:
    """Signs a checkpoint whenever the log has grown, every `every_s` seconds; the first at once."""
    while True:
        await handlers.sign_checkpoint(deps)
        await asyncio.sleep(every_s)


async def push_reports(deps: EvidenceDeps, *, poll_s: float) -> None:
    """Pushes due report versions one after another, waiting `poll_s` whenever none is due."""
    while True:
        if not await handlers.push_report(deps):
            await asyncio.sleep(poll_s)
