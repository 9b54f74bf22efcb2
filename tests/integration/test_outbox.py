"""Outbox on real PostgreSQL and Kafka: exactly once after commit, nothing after rollback, order per notice."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlmodel import func, select

from shared.contracts.envelope import Envelope, wrap
from shared.contracts.topics import INTAKE_EVENTS, TopicNames
from shared.plumbing import outbox
from shared.plumbing.clock import RealClock
from shared.plumbing.db import Database, create_tables
from shared.plumbing.kafka import Producer
from shared.plumbing.outbox import OutboxMessage, OutboxRelay
from shared.plumbing.runtime import PLUMBING_TABLES
from tests.support import read_topic

CLOCK = RealClock()


def sample(subject: str, seq: int = 0) -> Envelope:
    return wrap({"seq": seq}, event_type="test.Sampled", version=1, source="songda/test", subject=subject, time=CLOCK.now(), correlationid=subject)


@pytest.fixture
async def database(make_database) -> AsyncIterator[Database]:
    db = Database(await make_database("outbox"))
    await create_tables(db.engine, PLUMBING_TABLES)
    yield db
    await db.dispose()


async def start_relay(db: Database, kafka: str, prefix: str, *, name: str = "test") -> tuple[asyncio.Task[None], Producer]:
    producer = Producer(bootstrap=kafka, client_id=f"relay-{name}")
    relay = OutboxRelay(service="test", database=db, producer=producer, topics=TopicNames(prefix), clock=CLOCK, batch_size=50, poll_s=0.05)
    return asyncio.create_task(relay.run()), producer


async def stop(task: asyncio.Task[None], producer: Producer) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await producer.close()


async def unpublished(db: Database) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None)))


async def test_a_committed_change_is_published_exactly_once(database: Database, kafka: str, topic_prefix: str) -> None:
    envelope = sample("notice-1")
    async with database.transaction() as session:
        outbox.add(session, envelope, topic=INTAKE_EVENTS, now=CLOCK.now())
    task, producer = await start_relay(database, kafka, topic_prefix)
    try:
        records = await read_topic(kafka, topic_prefix + INTAKE_EVENTS, expect=1, settle=2.0)
    finally:
        await stop(task, producer)
    assert [Envelope.from_bytes(r.value).id for r in records] == [envelope.id]
    assert records[0].key == b"notice-1"
    assert await unpublished(database) == 0


async def test_a_rolled_back_transaction_publishes_nothing(database: Database, kafka: str, topic_prefix: str) -> None:
    doomed, marker = sample("notice-doomed"), sample("notice-marker")
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            outbox.add(session, doomed, topic=INTAKE_EVENTS, now=CLOCK.now())
            raise RuntimeError("the handler failed after staging its event")
    async with database.transaction() as session:
        outbox.add(session, marker, topic=INTAKE_EVENTS, now=CLOCK.now())
    task, producer = await start_relay(database, kafka, topic_prefix)
    try:
        records = await read_topic(kafka, topic_prefix + INTAKE_EVENTS, expect=1, settle=2.0)
    finally:
        await stop(task, producer)
    assert [Envelope.from_bytes(r.value).id for r in records] == [marker.id]


async def test_order_per_notice_is_kept_across_batches(database: Database, kafka: str, topic_prefix: str) -> None:
    notices = [f"notice-{n}" for n in range(5)]
    for seq in range(40):
        async with database.transaction() as session:
            for notice in notices:
                outbox.add(session, sample(notice, seq), topic=INTAKE_EVENTS, now=CLOCK.now())
    task, producer = await start_relay(database, kafka, topic_prefix)
    try:
        records = await read_topic(kafka, topic_prefix + INTAKE_EVENTS, expect=200, settle=1.0)
    finally:
        await stop(task, producer)
    seen: dict[str, list[int]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        envelope = Envelope.from_bytes(record.value)
        seen[envelope.subject].append(envelope.data["seq"])
        partitions[envelope.subject].add(record.partition)
    assert len(records) == 200
    assert all(seen[n] == list(range(40)) for n in notices), seen
    assert all(len(p) == 1 for p in partitions.values())


async def test_two_relays_of_one_service_never_publish_a_row_twice(database: Database, kafka: str, topic_prefix: str) -> None:
    async with database.transaction() as session:
        for seq in range(300):
            outbox.add(session, sample(f"notice-{seq % 7}", seq), topic=INTAKE_EVENTS, now=CLOCK.now())
    first = await start_relay(database, kafka, topic_prefix, name="a")
    second = await start_relay(database, kafka, topic_prefix, name="b")
    try:
        records = await read_topic(kafka, topic_prefix + INTAKE_EVENTS, expect=300, settle=2.0)
    finally:
        await stop(*first)
        await stop(*second)
    ids = [Envelope.from_bytes(r.value).id for r in records]
    assert len(ids) == 300
    assert len(set(ids)) == 300


async def test_a_relay_woken_as_it_is_stopped_stops(database: Database, kafka: str, topic_prefix: str) -> None:
    # The wake-up and the cancel land in the same turn of the loop: the relay must still end (a supervisor's stop waits for it).
    producer = Producer(bootstrap=kafka, client_id="relay-stop")
    relay = OutboxRelay(service="test", database=database, producer=producer, topics=TopicNames(topic_prefix), clock=CLOCK, batch_size=50, poll_s=30)
    task = asyncio.create_task(relay.run())
    try:
        for _ in range(3):  # every round: publish nothing, then wait for a wake-up or the 30 s poll
            await asyncio.sleep(0.2)
        relay.wake()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=5)
        assert done == {task} and task.cancelled()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.close()


async def test_a_large_envelope_is_stored_compressed_with_lz4(database: Database) -> None:
    # pglz, PostgreSQL's default, cost several times lz4's server CPU on the ≈2 kB envelopes and often kept them whole.
    big = wrap(
        {"recipients": [{"name": "张三", "address": "山东省威海市环翠区新威路17号"}] * 40},
        event_type="test.Sampled",
        version=1,
        source="songda/test",
        subject="n-1",
        time=CLOCK.now(),
        correlationid="n-1",
    )
    async with database.transaction() as session:
        outbox.add(session, big, topic=INTAKE_EVENTS, now=CLOCK.now())
    async with database.sessions() as session:
        size, method = (await session.exec(text("SELECT octet_length(payload), pg_column_compression(payload) FROM outbox_message"))).one()
    assert size > 2048
    assert method == "lz4"
