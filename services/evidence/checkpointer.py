"""Signs the log at intervals, so anyone can pin its state and later ask for proof it only grew."""

from __future__ import annotations

import asyncio

from services.evidence import log
from services.evidence.signer import Signer
from shared.plumbing.clock import Clock
from shared.plumbing.db import Database


async def run(*, db: Database, signer: Signer, clock: Clock, every_s: float) -> None:
    """Signs a checkpoint whenever the log has grown, every `every_s` seconds; the first at once."""
    while True:
        async with db.transaction() as session:
            if await log.size(session) > 0:
                await log.checkpoint(session, signer, now=clock.now())
        await asyncio.sleep(every_s)
