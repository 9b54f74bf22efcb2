"""The side-effect ledger on real PostgreSQL, shared by two processes (two pools): a call in flight in one is never made by the other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from shared.plumbing.clock import RealClock
from shared.plumbing.db import Database, create_tables, table_of
from shared.plumbing.ledger import Busy, Effect, SideEffect, perform_all
from tests.support import eventually

CLOCK = RealClock()


@pytest.fixture
async def replicas(make_database) -> AsyncIterator[tuple[Database, Database]]:
    url = await make_database("ledger")
    first, second = Database(url), Database(url)
    await create_tables(first.engine, [table_of(SideEffect)])
    yield first, second
    await first.dispose()
    await second.dispose()


class Gate:
    """An outside call that counts how often it is made and answers only once it is let through."""

    def __init__(self) -> None:
        self.calls = 0
        self.started = asyncio.Event()
        self.go = asyncio.Event()

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        self.started.set()
        await self.go.wait()
        return {"message_id": f"m-{self.calls}"}


async def advisory_locks(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")))


async def test_a_call_in_flight_in_one_replica_is_busy_in_the_other_then_its_recorded_result(replicas: tuple[Database, Database]) -> None:
    first, second = replicas
    gate, other, spare = Gate(), Gate(), Gate()
    spare.go.set()
    in_flight = asyncio.create_task(perform_all(first, [Effect("sms:a-1", "sms", gate)], clock=CLOCK))
    await asyncio.wait_for(gate.started.wait(), timeout=30)

    # The same key while the first replica's call is out, beside a key nobody holds: busy, and made, each alone.
    outcomes = await perform_all(second, [Effect("sms:a-1", "sms", other), Effect("sms:a-2", "sms", spare)], clock=CLOCK)
    assert isinstance(outcomes[0], Busy)
    assert outcomes[1] == {"message_id": "m-1"}
    assert (other.calls, spare.calls) == (0, 1)

    gate.go.set()
    assert await asyncio.wait_for(in_flight, timeout=30) == [{"message_id": "m-1"}]
    # Once the first replica recorded it, the second gets the recorded result and calls nothing.
    again = await perform_all(second, [Effect("sms:a-1", "sms", other)], clock=CLOCK)
    assert again == [{"message_id": "m-1"}]
    assert (gate.calls, other.calls) == (1, 0)
    assert await advisory_locks(first) == 0


async def test_a_replica_that_dies_mid_call_leaves_the_key_to_reconcile(replicas: tuple[Database, Database]) -> None:
    first, second = replicas
    gate = Gate()
    in_flight = asyncio.create_task(perform_all(first, [Effect("sms:b-1", "sms", gate)], clock=CLOCK))
    await asyncio.wait_for(gate.started.wait(), timeout=30)
    # The dying process's connections go with it: the server ends every backend of the first pool.
    async with second.sessions() as session:
        await session.scalar(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    in_flight.cancel()
    with pytest.raises((asyncio.CancelledError, Exception)):
        await in_flight

    asked: list[str] = []

    async def reconcile() -> dict[str, Any] | None:
        asked.append("sms:b-1")
        return {"message_id": "found"}

    async def never() -> dict[str, Any]:
        raise AssertionError("a call whose outcome is unknown is not made again while the provider can tell")

    async def free() -> bool:
        [outcome] = await perform_all(second, [Effect("sms:b-1", "sms", never, reconcile)], clock=CLOCK)
        if isinstance(outcome, AssertionError):
            raise outcome
        return isinstance(outcome, dict)

    await eventually(free, timeout=30, what="the dead replica's lock to be released")
    assert asked == ["sms:b-1"]
