"""The outbox stages rows and writes them as the transaction commits: what a rolled-back transaction or savepoint staged is never written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from shared.contracts.envelope import Envelope, wrap
from shared.plumbing import outbox
from shared.plumbing.clock import RealClock
from shared.plumbing.db import Database, create_tables
from shared.plumbing.outbox import OutboxMessage
from shared.plumbing.runtime import PLUMBING_TABLES

CLOCK = RealClock()


class Refused(Exception):
    """Raised to roll a transaction or savepoint back."""


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    await create_tables(database.engine, PLUMBING_TABLES)
    yield database
    await database.dispose()


def sample(name: str) -> Envelope:
    return wrap({"name": name}, event_type="test.Sampled", version=1, source="songda/test", subject="notice-1", time=CLOCK.now(), correlationid="notice-1")


async def written(db: Database) -> list[str]:
    async with db.sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    return [Envelope.model_validate_json(row.payload).data["name"] for row in rows]


async def test_rows_are_written_at_commit_in_the_order_staged(db: Database) -> None:
    async with db.transaction() as session:
        for name in ("a", "b", "c"):
            outbox.add(session, sample(name), topic="intake.events", now=CLOCK.now())
        assert await written(db) == []
    assert await written(db) == ["a", "b", "c"]


async def test_a_transaction_that_rolls_back_writes_nothing_and_leaves_nothing_staged(db: Database) -> None:
    with pytest.raises(Refused):
        async with db.transaction() as session:
            outbox.add(session, sample("doomed"), topic="intake.events", now=CLOCK.now())
            raise Refused
    async with db.transaction() as session:
        outbox.add(session, sample("kept"), topic="intake.events", now=CLOCK.now())
    assert await written(db) == ["kept"]


async def test_a_savepoint_rolled_back_drops_only_what_it_and_its_savepoints_staged(db: Database) -> None:
    async with db.transaction() as session:
        outbox.add(session, sample("before"), topic="intake.events", now=CLOCK.now())
        async with session.begin_nested():
            outbox.add(session, sample("released"), topic="intake.events", now=CLOCK.now())
        with pytest.raises(Refused):
            async with session.begin_nested():
                outbox.add(session, sample("outer savepoint"), topic="intake.events", now=CLOCK.now())
                async with session.begin_nested():
                    outbox.add(session, sample("inner savepoint, released"), topic="intake.events", now=CLOCK.now())
                raise Refused
        with pytest.raises(Refused):
            async with session.begin_nested():
                outbox.add(session, sample("savepoint"), topic="intake.events", now=CLOCK.now())
                raise Refused
        outbox.add(session, sample("after"), topic="intake.events", now=CLOCK.now())
    assert await written(db) == ["before", "released", "after"]
