"""The workers' loop: a busy round goes again at once when asked to, every other round waits, longer while idle, shorter when woken."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

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


async def waits_between(monkeypatch: pytest.MonkeyPatch, rounds_wanted: int, **options: Any) -> list[float]:
    """Runs `repeat` over rounds that find nothing until `rounds_wanted` ran; returns the waits it asked for between them."""
    waits: list[float] = []
    calls = 0
    done = asyncio.Event()
    real_sleep = asyncio.sleep

    async def round_of_work() -> int:
        nonlocal calls
        calls += 1
        if calls >= rounds_wanted:
            done.set()
        return 0

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    task = asyncio.create_task(repeat(round_of_work, **options))
    try:
        await done.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return waits[: rounds_wanted - 1]


async def test_idle_rounds_wait_longer_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    assert await waits_between(monkeypatch, 6, wait_s=0.5, idle_max_s=3.0) == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert await waits_between(monkeypatch, 4, wait_s=0.5) == [0.5, 0.5, 0.5]


async def test_waking_ends_a_long_idle_wait() -> None:
    wake = asyncio.Event()
    calls = 0

    async def round_of_work() -> int:
        nonlocal calls
        calls += 1
        return 0

    task = asyncio.create_task(repeat(round_of_work, wait_s=3600, idle_max_s=7200, wake=wake))
    try:
        await eventually(lambda: asyncio.sleep(0, result=calls >= 1 or None), what="the first round")
        wake.set()
        await eventually(lambda: asyncio.sleep(0, result=calls >= 2 or None), what="the round the wake brought forward")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
