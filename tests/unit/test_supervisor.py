"""Supervised tasks: a task that dies is reported loudly; shutdown cancels and awaits every task."""

from __future__ import annotations

import asyncio

from shared.plumbing.supervisor import Supervisor
from tests.support import eventually


async def test_a_task_that_dies_is_reported_and_triggers_the_failure_action() -> None:
    failures: list[tuple[str, str]] = []
    supervisor = Supervisor(on_failure=lambda name, exc: failures.append((name, str(exc))))

    async def forever() -> None:
        await asyncio.Event().wait()

    async def crash() -> None:
        raise RuntimeError("the broker client gave up")

    supervisor.start("relay", forever())
    supervisor.start("consumer", crash())
    await eventually(lambda: _async(bool(failures)), timeout=5, what="the failure action")
    assert failures == [("consumer", "the broker client gave up")]
    assert not supervisor.healthy
    assert supervisor.status() == {"relay": "running", "consumer": "RuntimeError: the broker client gave up"}
    await supervisor.stop()


async def test_a_task_that_returns_counts_as_dead() -> None:
    failures: list[str] = []
    supervisor = Supervisor(on_failure=lambda name, exc: failures.append(f"{name}: {exc}"))

    async def returns() -> None:
        return None

    supervisor.start("consumer", returns())
    await eventually(lambda: _async(bool(failures)), timeout=5, what="the failure action")
    assert failures == ["consumer: consumer returned; it must run until shutdown"]
    await supervisor.stop()


async def test_stop_cancels_every_task_and_waits_for_its_cleanup_without_reporting_failure() -> None:
    failures: list[str] = []
    cleaned: list[str] = []
    supervisor = Supervisor(on_failure=lambda name, exc: failures.append(name))

    async def worker(name: str) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)
            cleaned.append(name)

    for name in ("relay", "consumer"):
        supervisor.start(name, worker(name))
    await asyncio.sleep(0)
    assert supervisor.healthy
    await supervisor.stop()
    assert sorted(cleaned) == ["consumer", "relay"]
    assert failures == []


async def _async(value: bool) -> bool:
    return value
