"""The one loop every worker runs: a round of due work, then a wait, or at once again while a round found work."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def repeat(
    round_of_work: Callable[[], Awaitable[object]],
    *,
    wait_s: float,
    again_while_busy: bool = False,
    idle_max_s: float | None = None,
    wake: asyncio.Event | None = None,
) -> None:
    """Runs rounds until cancelled, waiting `wait_s` after each; with `again_while_busy`, only after one that found nothing (returned 0, False or None).

    With `idle_max_s`, each further round that finds nothing doubles the wait, up to `idle_max_s`; with `wake`,
    setting the event ends a wait at once (e.g. a commit that queued work), so an idle worker costs little and
    new work still starts without waiting out the poll.
    """
    wait = wait_s
    while True:
        if wake is not None:
            # Cleared before the round, so work queued while it runs still cuts the next wait short.
            wake.clear()
        found = await round_of_work()
        if again_while_busy and found:
            wait = wait_s
            continue
        await pause(wait, wake)
        wait = wait_s if found or idle_max_s is None else min(wait * 2, max(idle_max_s, wait_s))


async def pause(seconds: float, wake: asyncio.Event | None) -> None:
    """Waits `seconds`, or less when `wake` is set meanwhile."""
    if wake is None:
        await asyncio.sleep(seconds)
        return
    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that lands as the event is set.
    try:
        async with asyncio.timeout(seconds):
            await wake.wait()
    except TimeoutError:
        pass
