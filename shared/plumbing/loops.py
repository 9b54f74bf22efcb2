"""The one loop every worker runs: a round of due work, then a wait, or at once again while a round found work."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def repeat(round_of_work: Callable[[], Awaitable[object]], *, wait_s: float, again_while_busy: bool = False) -> None:
    """Runs rounds until cancelled, waiting `wait_s` after each; with `again_while_busy`, only after one that found nothing (returned 0, False or None)."""
    while True:
        found = await round_of_work()
        if not (again_while_busy and found):
            await asyncio.sleep(wait_s)
