"""Intake's one worker: the batch registrar, which registers the notices of uploaded workbooks a round of rows at a time through the batches' handler."""

from __future__ import annotations

import asyncio
import contextlib

from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake import batches
from shared.plumbing.runtime import Deps


async def register_batches(deps: Deps, *, poll_s: float) -> None:
    """Registers waiting notices round after round; when none waits, sleeps until this process keeps a batch, or `poll_s` for one another replica kept; a restart picks up where the last commit left off."""
    taken = asyncio.Event()

    def wake(session: AsyncSession) -> None:
        if session.info.pop(batches.TAKEN, False):
            taken.set()

    deps.db.after_commit(wake)
    while True:
        # Cleared before looking, so a batch kept while a round is out still wakes the next one.
        taken.clear()
        if await batches.register_next(deps):
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(taken.wait(), poll_s)
