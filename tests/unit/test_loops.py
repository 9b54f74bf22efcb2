"""The workers' loop: a busy round goes again at once when asked to, every other round waits."""

from __future__ import annotations

import asyncio

from shared.plumbing.loops import repeat
from tests.support import eventually


async def rounds(results: list[object], *, again_while_busy: bool) -> int:
    """Runs `repeat` over rounds answering `results` in turn; returns how many ran before it settled into a wait."""
    calls = 0

    async def round_of_work() -> object:
        nonlocal calls
        calls += 1
        return results[min(calls, len(results)) - 1]

    task = asyncio.create_task(repeat(round_of_work, wait_s=3600, again_while_busy=again_while_busy))
    try:
        # Past the last busy round the loop waits an hour, so the count it reached is final.
        await eventually(lambda: asyncio.sleep(0, result=calls >= len(results) or None), what="the busy rounds")
        await asyncio.sleep(0.05)
        return calls
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_busy_rounds_go_again_at_once_until_one_finds_nothing() -> None:
    assert await rounds([3, True, 1, 0], again_while_busy=True) == 4
    assert await rounds([2, None], again_while_busy=True) == 2


async def test_without_again_while_busy_every_round_waits() -> None:
    assert await rounds([5], again_while_busy=False) == 1
