"""Consumer runner on real Kafka and PostgreSQL: inbox deduplication and the dead-letter path."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.delivery.config import DeliverySettings
from services.delivery.main import create_app as create_delivery
from services.delivery.models import DeliveryNotice
from services.evidence.config import EvidenceSettings
from services.evidence.main import create_app as create_evidence
from services.evidence.models import EvidenceNotice, EvidenceTimelineEntry
from services.intake.notices import registered_event
from services.intake.requests import NoticeIn
from shared.contracts.envelope import Envelope
from shared.contracts.topics import INTAKE_EVENTS, TopicNames, dlq
from shared.plumbing.clock import RealClock
from shared.plumbing.consumer import ConsumerRunner, MessageContext
from shared.plumbing.db import Database, create_tables
from shared.plumbing.inbox import InboxMessage
from shared.plumbing.kafka import Producer
from shared.plumbing.runtime import PLUMBING_TABLES, Runtime
from tests.support import eventually, notice_payload, ranked_notice, read_topic, running, settings

CLOCK = RealClock()


def registered(index: int, *, notice_id: str | None = None) -> Envelope:
    """Returns an intake.NoticeRegistered envelope as intake would publish it."""
    payload = NoticeIn.model_validate(notice_payload(index)).model_dump(mode="json")
    notice = ranked_notice(payload, now=CLOCK.now())
    if notice_id:
        notice.id = notice_id
    event = registered_event(notice)
    return event.envelope(source="songda/intake", subject=notice.id, time=CLOCK.now(), correlationid=notice.correlation_id)


@pytest.fixture
async def producer(kafka: str) -> AsyncIterator[AIOKafkaProducer]:
    raw = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await raw.start()
    yield raw
    await raw.stop()


async def count(runtime: Runtime, model: type) -> int:
    async with runtime.db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_the_same_envelope_consumed_twice_has_one_effect(kafka, topic_prefix, make_database, producer) -> None:
    app = create_evidence(settings(EvidenceSettings, database_url=await make_database("evidence"), kafka=kafka, prefix=topic_prefix))
    runtime: Runtime = app.state.runtime
    envelope = registered(1)
    async with running(app):
        for _ in range(2):
            await producer.send_and_wait(topic_prefix + INTAKE_EVENTS, envelope.to_bytes(), key=envelope.subject.encode())
        await eventually(lambda: _done(runtime, 2), what="both deliveries to be consumed")
        assert runtime.consumer.stats.applied == 1
        assert runtime.consumer.stats.duplicates == 1
        assert await count(runtime, EvidenceTimelineEntry) == 1
        assert await count(runtime, InboxMessage) == 1


async def test_a_service_that_records_every_message_records_one_it_cannot_decode(kafka, topic_prefix, make_database, producer) -> None:
    app = create_evidence(settings(EvidenceSettings, database_url=await make_database("evidence"), kafka=kafka, prefix=topic_prefix))
    runtime: Runtime = app.state.runtime
    # A NoticeRegistered evidence has a handler for, in a version this release does not know.
    newer = registered(1).model_copy(update={"dataversion": 99})
    async with running(app):
        await producer.send_and_wait(topic_prefix + INTAKE_EVENTS, newer.to_bytes(), key=newer.subject.encode())
        await eventually(lambda: count(runtime, EvidenceTimelineEntry), timeout=60, what="the message on its notice's timeline")
        assert runtime.consumer.stats.dead_lettered == 0
        assert await count(runtime, EvidenceNotice) == 0, "the type's own handling is skipped"


async def _done(runtime: Runtime, messages: int) -> bool:
    stats = runtime.consumer.stats
    return stats.applied + stats.duplicates + stats.dead_lettered >= messages


async def test_poison_messages_go_to_the_dlq_and_the_partition_keeps_flowing(kafka, topic_prefix, make_database, producer) -> None:
    app = create_delivery(settings(DeliverySettings, database_url=await make_database("delivery"), kafka=kafka, prefix=topic_prefix, consumer_max_attempts=2))
    runtime: Runtime = app.state.runtime
    key = b"notice-shared-key"  # one key, so every message lands on the same partition, in this order
    first = registered(1, notice_id="notice-a")
    # Another notice claiming notice-a's recipient: the recipient row's key collides, every time.
    replay = registered(2, notice_id="notice-c").model_copy(update={"data": {**first.data, "notice_id": "notice-c"}})
    undecodable = first.model_copy(update={"id": registered(3).id, "data": {"notice_id": "notice-x"}})
    after = registered(4, notice_id="notice-b")
    messages = [
        b"{not json",  # not an envelope at all
        undecodable.to_bytes(),  # an envelope whose data is not a valid NoticeRegistered
        first.to_bytes(),
        replay.to_bytes(),  # the handler keeps failing on it
        after.to_bytes(),  # must still be applied
    ]
    async with running(app):
        for value in messages:
            await producer.send_and_wait(topic_prefix + INTAKE_EVENTS, value, key=key)
        await eventually(lambda: _done(runtime, 5), timeout=60, what="all five messages to be handled")
        async with runtime.db.sessions() as session:
            notices = sorted((await session.exec(select(DeliveryNotice.id))).all())
    dead = await read_topic(kafka, topic_prefix + dlq(INTAKE_EVENTS), expect=3, settle=1.0)
    assert notices == ["notice-a", "notice-b"]
    assert [r.value for r in dead] == [messages[0], messages[1], messages[3]]
    headers = [dict(r.headers) for r in dead]
    assert [h["songda.error.type"] for h in headers] == [b"PoisonMessage", b"PoisonMessage", b"IntegrityError"]
    assert all(h["songda.consumer"] == b"delivery" for h in headers)
    assert all(h["songda.original.topic"] == (topic_prefix + INTAKE_EVENTS).encode() for h in headers)
    assert runtime.consumer.stats.dead_lettered == 3


class _Deferring:
    """A handler that defers a write per message to the transaction's end, and a journal of what ran in which order."""

    def __init__(self) -> None:
        self.journal: list[tuple[str, list[str]]] = []
        self.fail_once = ""

    async def handle(self, ctx: MessageContext, event: Any) -> None:
        subject = ctx.envelope.subject
        self.journal.append(("handle", [subject]))
        ctx.pending("subjects", self.flush).append(subject)
        if subject == self.fail_once:
            self.fail_once = ""
            raise ValueError("fails the batch it is in, once")

    async def flush(self, session: AsyncSession, subjects: list[Any]) -> None:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        self.journal.append(("flush", list(subjects)))


async def _consume_waiting(kafka: str, topic_prefix: str, db: Database, producer: AIOKafkaProducer, handler: _Deferring, subjects: list[str]) -> None:
    """Produces the messages on one partition, then runs a consumer until it applied them all: they are there before it starts, so they come as one batch."""
    for subject in subjects:
        await producer.send_and_wait(topic_prefix + INTAKE_EVENTS, registered(1, notice_id=subject).to_bytes(), key=b"notice-shared-key")
    runner = ConsumerRunner(
        name="deferring",
        topics=[INTAKE_EVENTS],
        handlers={"intake.NoticeRegistered": handler.handle},
        database=db,
        producer=Producer(bootstrap=kafka, client_id="deferring"),
        names=TopicNames(topic_prefix),
        bootstrap=kafka,
        clock=CLOCK,
    )
    task = asyncio.create_task(runner.run())
    try:
        await eventually(lambda: _applied(runner, len(subjects)), timeout=60, what=f"{subjects} applied")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _applied(runner: ConsumerRunner, messages: int) -> bool:
    return runner.stats.applied >= messages


async def test_deferred_work_is_flushed_once_per_transaction_after_its_last_handler_and_per_message_when_the_batch_splits(kafka, topic_prefix, make_database, producer) -> None:
    db = Database(await make_database("deferring"))
    await create_tables(db.engine, PLUMBING_TABLES)
    deferring = _Deferring()
    try:
        await _consume_waiting(kafka, topic_prefix, db, producer, deferring, ["notice-a", "notice-b", "notice-c"])
        together = deferring.journal[:]
        deferring.journal.clear()
        deferring.fail_once = "notice-e"
        await _consume_waiting(kafka, topic_prefix, db, producer, deferring, ["notice-d", "notice-e", "notice-f"])
    finally:
        await db.dispose()
    assert together == [("handle", ["notice-a"]), ("handle", ["notice-b"]), ("handle", ["notice-c"]), ("flush", ["notice-a", "notice-b", "notice-c"])]
    # The failed batch flushed nothing; each message retried alone flushed its own list.
    assert deferring.journal == [
        ("handle", ["notice-d"]),
        ("handle", ["notice-e"]),
        *[step for subject in ("notice-d", "notice-e", "notice-f") for step in (("handle", [subject]), ("flush", [subject]))],
    ]
