"""Transactional outbox: envelopes saved with the state change, published by one relay per service."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from aiokafka.errors import KafkaError
from sqlalchemy import BigInteger, Column, Index, Integer, Row, Text, text, update
from sqlalchemy import select as select_rows
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.contracts.envelope import CONTENT_TYPE, Envelope
from shared.contracts.topics import TopicNames
from shared.plumbing import staging
from shared.plumbing.backoff import Backoff
from shared.plumbing.clock import Clock
from shared.plumbing.db import Database, UTCDateTime, core_rows, table_of
from shared.plumbing.kafka import Producer
from shared.plumbing.loops import pause

log = structlog.get_logger(__name__)

_ADDED = "songda.outbox.added"


class OutboxMessage(SQLModel, table=True):
    """An envelope waiting to be (or already) published."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_unpublished", "id", postgresql_where=text("published_at IS NULL")),)

    # BIGINT on PostgreSQL; SQLite only auto-increments a plain INTEGER primary key.
    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True))
    message_id: str = Field(unique=True)
    topic: str
    key: str
    event_type: str
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True, index=True))


_TABLE = table_of(OutboxMessage)


def add(session: AsyncSession, envelope: Envelope, *, topic: str, now: datetime) -> None:
    """Stages an envelope for publication in the caller's transaction: its row is written with the others staged as the transaction commits."""
    # A row, not an ORM object: an OutboxMessage cost ≈30 µs to build and as much again to flush, and nothing reads the
    # row back before commit.
    row = {"message_id": str(envelope.id), "topic": topic, "key": envelope.subject, "event_type": envelope.type, "payload": envelope.model_dump_json(), "created_at": now}
    staging.stage(session, _TABLE, row, read_back=False)
    session.info[_ADDED] = True


def lock_key(service: str) -> int:
    """Derives the advisory-lock key that keeps a service to one publishing relay."""
    return int.from_bytes(hashlib.sha256(f"songda.outbox.{service}".encode()).digest()[:8], "big", signed=True)


class OutboxRelay:
    """Publishes unpublished outbox rows in id order, then marks them published."""

    def __init__(
        self,
        *,
        service: str,
        database: Database,
        producer: Producer,
        topics: TopicNames,
        clock: Clock,
        batch_size: int = 500,
        poll_s: float = 0.25,
        idle_polls: int = 8,
    ) -> None:
        self._service = service
        self._db = database
        self._producer = producer
        self._topics = topics
        self._clock = clock
        self._batch_size = batch_size
        self._poll_s = poll_s
        self._idle_polls = idle_polls
        self._lock_busy = False
        self._wakeup = asyncio.Event()
        self._local_lock = asyncio.Lock()
        self.published = 0
        database.after_commit(self._on_commit)

    def _on_commit(self, session: AsyncSession) -> None:
        if session.info.pop(_ADDED, False):
            self._wakeup.set()

    def wake(self) -> None:
        """Asks the relay to look for new rows now rather than at the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        """Publishes forever; Kafka or database outages are waited out, never fatal."""
        backoff = Backoff(maximum=5.0)
        failures = 0
        idle_s = self._poll_s
        while True:
            # Cleared before looking, so a commit made while a batch is out still wakes the next round.
            self._wakeup.clear()
            try:
                count = await self.publish_batch()
            except (TimeoutError, KafkaError, SQLAlchemyError, OSError) as exc:
                failures += 1
                # Only the error's type: a database error's text carries the row, personal data included.
                log.warning("outbox.publish_failed", service=self._service, error=type(exc).__name__, failures=failures)
                if failures % 3 == 0:
                    # A producer that kept failing across a broker restart is rebuilt from scratch.
                    await self._producer.reset()
                await asyncio.sleep(backoff.next())
                continue
            failures = 0
            backoff.reset()
            if count < self._batch_size:
                await pause(idle_s, self._wakeup)
            # Our own commits wake the relay, so while nothing comes the poll (a transaction with the lock and a
            # SELECT) only catches rows another process committed: it slows down to `idle_polls` × poll.
            # Rows found, or the lock held by another relay (whose rows may be next), keep the short poll.
            idle_s = self._poll_s if count or self._lock_busy else min(idle_s * 2, self._poll_s * self._idle_polls)

    async def publish_batch(self) -> int:
        """Publishes up to one batch of rows; returns how many were published."""
        async with self._local_lock:
            if self._db.is_postgres:
                # One transaction holds the advisory lock from read to mark, so a second relay of
                # this service (another replica) waits instead of publishing the same rows.
                async with self._db.sessions() as session, session.begin():
                    self._lock_busy = not await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": lock_key(self._service)})
                    if self._lock_busy:
                        return 0
                    rows = await self._unpublished(session)
                    await self._send(rows)
                    await self._mark_published(session, rows)
            else:
                # SQLite has one writer at a time; holding it across Kafka sends would stall the API.
                async with self._db.sessions() as session, session.begin():
                    rows = await self._unpublished(session)
                await self._send(rows)
                async with self._db.sessions() as session, session.begin():
                    await self._mark_published(session, rows)
        self.published += len(rows)
        return len(rows)

    async def _unpublished(self, session: AsyncSession) -> Sequence[Row[Any]]:
        # Plain rows, not ORM objects: the relay reads every message once and only needs these columns.
        wanted = select_rows(_TABLE.c.id, _TABLE.c.message_id, _TABLE.c.topic, _TABLE.c.key, _TABLE.c.event_type, _TABLE.c.payload)
        return await core_rows(session, wanted.where(_TABLE.c.published_at.is_(None)).order_by(_TABLE.c.id).limit(self._batch_size))

    async def _send(self, rows: Sequence[Row[Any]]) -> None:
        acks = [
            await self._producer.send(
                self._topics.physical(row.topic),
                value=row.payload.encode(),
                key=row.key,
                headers=[("content-type", CONTENT_TYPE.encode()), ("ce_type", row.event_type.encode()), ("ce_id", row.message_id.encode())],
            )
            for row in rows
        ]
        await asyncio.gather(*acks)

    async def _mark_published(self, session: AsyncSession, rows: Sequence[Row[Any]]) -> None:
        if rows:
            ids = [row.id for row in rows]
            await session.exec(update(OutboxMessage).where(col(OutboxMessage.id).in_(ids)).values(published_at=self._clock.now()))
