"""Consumer runner on real Kafka and PostgreSQL: inbox deduplication and the dead-letter path."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer
from sqlmodel import func, select

from services.delivery.config import DeliverySettings
from services.delivery.main import create_app as create_delivery
from services.delivery.models import DeliveryNotice
from services.evidence.config import EvidenceSettings
from services.evidence.main import create_app as create_evidence
from services.evidence.models import EvidenceNotice, EvidenceTimelineEntry
from services.intake.notices import new_notice, registered_event
from services.intake.requests import NoticeIn
from shared.contracts.envelope import Envelope
from shared.contracts.topics import INTAKE_EVENTS, dlq
from shared.plumbing.clock import RealClock
from shared.plumbing.inbox import InboxMessage
from shared.plumbing.runtime import Runtime
from tests.support import eventually, notice_payload, read_topic, running, settings

CLOCK = RealClock()


def registered(index: int, *, notice_id: str | None = None) -> Envelope:
    """Returns an intake.NoticeRegistered envelope as intake would publish it."""
    payload = NoticeIn.model_validate(notice_payload(index)).model_dump(mode="json")
    notice = new_notice(payload, now=CLOCK.now())
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
