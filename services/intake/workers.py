"""Intake's one worker: the batch registrar, which registers the notices of uploaded workbooks a round of rows at a time through the batches' handler."""

from __future__ import annotations

from services.intake import batches
from shared.plumbing.loops import repeat
from shared.plumbing.runtime import Deps


async def register_batches(deps: Deps, *, poll_s: float) -> None:
    """Registers waiting notices round after round, waiting `poll_s` whenever none waits; a restart picks up where the last commit left off."""
    await repeat(lambda: batches.register_next(deps), wait_s=poll_s, again_while_busy=True)
