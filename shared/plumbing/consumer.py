"""Consumer runner: inbox-deduplicated handling, offsets committed after the database, retries, DLQ."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.contracts.envelope import Envelope
from shared.contracts.registry import Event, UnknownEvent, decode
from shared.contracts.topics import TopicNames, dlq
from shared.plumbing import inbox, ledger, outbox
from shared.plumbing.backoff import Backoff
from shared.plumbing.clock import Clock
from shared.plumbing.db import Database
from shared.plumbing.kafka import Producer

log = structlog.get_logger(__name__)

# How long the broker may hold a fetch that finds nothing new. aiokafka keeps one fetch per broker in flight and leaves
# out of it the partitions whose records the consumer is still applying; records arriving on those meanwhile wait until
# that fetch returns. At Kafka's default of 500 ms a busy consumer stalled up to half a second with records waiting
# (a 500-notice run took 1.0–1.1 s instead of 0.6–0.7 one time in two); an idle consumer pays ten empty fetches a second.
_FETCH_MAX_WAIT_MS = 100


# Writes what a transaction's handlers gathered under one key, in that transaction, once.
Flush = Callable[[AsyncSession, list[Any]], Awaitable[None]]


@dataclass
class BatchWork:
    """Work the handlers of one transaction defer to its end: a list per key, and the flush that writes it."""

    lists: dict[str, tuple[list[Any], Flush]] = field(default_factory=dict)

    def pending(self, key: str, flush: Flush) -> list[Any]:
        """Returns the list gathered under `key`, registering `flush` for it on first use."""
        if key not in self.lists:
            self.lists[key] = ([], flush)
        return self.lists[key][0]

    async def flush(self, session: AsyncSession) -> None:
        """Runs every registered flush once with its list, in the order the keys were first used."""
        for items, flush in self.lists.values():
            await flush(session, items)
        self.lists.clear()

    async def settle(self, key: str, session: AsyncSession) -> None:
        """Runs the flush registered under `key` now, for a handler that must see its work before the transaction ends."""
        if key in self.lists:
            items, flush = self.lists.pop(key)
            await flush(session, items)


@dataclass
class MessageContext:
    """What a handler gets besides its event: the open transaction, a way to emit events, and work deferred to the transaction's end."""

    session: AsyncSession
    envelope: Envelope
    raw: bytes
    clock: Clock
    source: str
    # Shared by every message applied in the same transaction; whoever opened the transaction flushes it before commit.
    batch: BatchWork = field(default_factory=BatchWork)
    # The message's event as decoded for its handler; None when no handler takes its type, or it could not be decoded.
    event: Event | None = None

    def pending(self, key: str, flush: Flush) -> list[Any]:
        """Returns a list shared by every message of this transaction under `key`; `flush` runs once with it after the last handler, before commit."""
        return self.batch.pending(key, flush)

    def emit(self, event: Event, *, topic: str, subject: str | None = None) -> Envelope:
        """Stages an event caused by the current message in the outbox of this transaction."""
        child = event.envelope(
            source=self.source,
            subject=subject or self.envelope.subject,
            time=self.clock.now(),
            correlationid=self.envelope.correlationid,
            causationid=str(self.envelope.id),
        )
        outbox.add(self.session, child, topic=topic, now=self.clock.now())
        return child


EventHandler = Callable[[MessageContext, Any], Awaitable[None]]
EnvelopeHandler = Callable[[MessageContext], Awaitable[None]]


class PoisonMessage(Exception):
    """The message can never be handled as it is; it goes to the dead-letter topic."""


def is_transient(exc: BaseException) -> bool:
    """Tells whether an error is about our surroundings (database, network) rather than the message."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    # Another process is making the same outside call (a replica, after a rebalance): retried until it has recorded it.
    return isinstance(exc, (OSError, ledger.Busy))  # OSError includes ConnectionError and TimeoutError


@dataclass
class ConsumerStats:
    """Counters shown on /healthz and read by tests."""

    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_lettered: int = 0
    assigned: int = 0
    committed: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


class _CommitOnRevoke(ConsumerRebalanceListener):
    """Commits what was fully applied before partitions move to another consumer."""

    def __init__(self, runner: ConsumerRunner) -> None:
        self._runner = runner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self._runner.commit_pending(only=set(revoked))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self._runner.stats.assigned = len(assigned)


class ConsumerRunner:
    """Runs one consumer group member: fetch, apply in a transaction with the inbox row, commit offsets."""

    def __init__(
        self,
        *,
        name: str,
        topics: Sequence[str],
        handlers: Mapping[str, EventHandler],
        on_any: EnvelopeHandler | None = None,
        database: Database,
        producer: Producer,
        names: TopicNames,
        bootstrap: str,
        clock: Clock,
        max_attempts: int = 5,
        commit_interval_ms: int = 0,
        batch_size: int = 200,
    ) -> None:
        self.name = name
        self._topics = [names.physical(t) for t in topics]
        self._handlers = handlers
        self._on_any = on_any
        self._db = database
        self._producer = producer
        self._names = names
        self._bootstrap = bootstrap
        self._clock = clock
        self._max_attempts = max_attempts
        self._commit_interval_s = commit_interval_ms / 1000
        self._batch_size = batch_size
        self._consumer: AIOKafkaConsumer | None = None
        self._pending: dict[TopicPartition, int] = {}
        self._last_commit = 0.0
        self.stats = ConsumerStats()

    @property
    def group_id(self) -> str:
        """Names the consumer group; the topic prefix keeps separate stacks apart."""
        return f"{self._names.prefix}songda.{self.name}"

    async def run(self) -> None:
        """Consumes until cancelled; waits out Kafka outages rather than failing."""
        consumer = await self._start_consumer()
        self._last_commit = asyncio.get_running_loop().time()
        backoff = Backoff(maximum=5.0)
        try:
            while True:
                try:
                    batches = await consumer.getmany(timeout_ms=500, max_records=self._batch_size)
                except KafkaError as exc:
                    if not exc.retriable:
                        raise
                    log.warning("consumer.fetch_failed", consumer=self.name, error=type(exc).__name__)
                    await asyncio.sleep(backoff.next())
                    continue
                backoff.reset()
                # Every partition's records in one transaction, each partition's in its order: a transaction's fixed
                # cost (begin, inbox claim, flush, commit) was most of a small batch's, and six partitions made six.
                records = [record for partition in batches.values() for record in partition]
                if records:
                    await self._apply_all(records)
                for tp, partition in batches.items():
                    self._pending[tp] = partition[-1].offset + 1
                await self._maybe_commit()
        finally:
            try:
                await self.commit_pending()
            finally:
                await consumer.stop()

    async def _start_consumer(self) -> AIOKafkaConsumer:
        backoff = Backoff(maximum=5.0)
        while True:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=self.group_id,
                client_id=f"songda-{self.name}",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                isolation_level="read_committed",
                fetch_max_wait_ms=_FETCH_MAX_WAIT_MS,
            )
            try:
                await consumer.start()
            except KafkaError as exc:
                await consumer.stop()
                log.warning("consumer.waiting_for_kafka", consumer=self.name, error=type(exc).__name__)
                await asyncio.sleep(backoff.next())
                continue
            consumer.subscribe(self._topics, listener=_CommitOnRevoke(self))
            self._consumer = consumer
            return consumer

    async def _maybe_commit(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._pending and now - self._last_commit >= self._commit_interval_s:
            await self.commit_pending()

    async def commit_pending(self, only: set[TopicPartition] | None = None) -> None:
        """Commits offsets of applied messages; a failure only means some redelivery, which the inbox absorbs."""
        consumer = self._consumer
        offsets = {tp: off for tp, off in self._pending.items() if only is None or tp in only}
        if consumer is None or not offsets:
            return
        try:
            await consumer.commit({tp: OffsetAndMetadata(off, "") for tp, off in offsets.items()})
            self.stats.committed += len(offsets)
        except CommitFailedError as exc:
            # The partitions moved to another member, which starts from the last committed offset.
            log.warning("consumer.commit_failed", consumer=self.name, error=str(exc))
        except KafkaError as exc:
            log.warning("consumer.commit_deferred", consumer=self.name, error=type(exc).__name__)
            return
        for tp, off in offsets.items():
            if self._pending.get(tp) == off:
                del self._pending[tp]
        self._last_commit = asyncio.get_running_loop().time()

    async def _apply_all(self, records: list[ConsumerRecord]) -> None:
        """Applies a fetch's records in one transaction; on any failure, one by one with retries."""
        if len(records) > 1:
            try:
                await self._apply_together(records)
                return
            except Exception as exc:  # noqa: BLE001 — the batch rolled back; each record is retried alone
                log.info("consumer.batch_split", consumer=self.name, records=len(records), error=type(exc).__name__)
        for record in records:
            await self._apply(record)

    async def _apply(self, record: ConsumerRecord) -> None:
        """Applies one record, retrying transient errors forever and others up to max_attempts."""
        backoff = Backoff(initial=0.2, maximum=10.0)
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._apply_together([record])
                return
            except PoisonMessage as exc:
                await self._dead_letter(record, exc)
                return
            except Exception as exc:  # noqa: BLE001 — every failure is either retried or dead-lettered
                transient = is_transient(exc)
                log.warning(
                    "consumer.apply_failed",
                    consumer=self.name,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    attempt=attempt,
                    transient=transient,
                    error=type(exc).__name__,
                )
                if not transient and attempt >= self._max_attempts:
                    await self._dead_letter(record, exc)
                    return
                await asyncio.sleep(backoff.next())

    async def _apply_together(self, records: list[ConsumerRecord]) -> None:
        """Claims every record in the inbox with one statement and runs the handlers of the fresh ones."""
        prepared = [(record, message) for record in records if (message := self._prepare(record)) is not None]
        outcomes: list[tuple[str, bool]] = []
        if prepared:
            async with self._db.transaction() as session:
                batch = BatchWork()
                fresh = await inbox.claim_all(
                    session,
                    consumer=self.name,
                    messages=[
                        inbox.Claim(
                            message_id=str(envelope.id),
                            event_type=envelope.type,
                            topic=self._names.logical(record.topic),
                            partition=record.partition,
                            offset=record.offset,
                        )
                        for record, (envelope, _, _) in prepared
                    ],
                    now=self._clock.now(),
                )
                for record, (envelope, handler, event) in prepared:
                    is_fresh = str(envelope.id) in fresh
                    # The same message twice in one batch: only its first copy is fresh.
                    fresh.discard(str(envelope.id))
                    if is_fresh:
                        ctx = MessageContext(session=session, envelope=envelope, raw=record.value, clock=self._clock, source=f"songda/{self.name}", batch=batch, event=event)
                        if handler is not None:
                            await handler(ctx, event)
                        if self._on_any is not None:
                            await self._on_any(ctx)
                    outcomes.append((envelope.type, is_fresh))
                # A batch that fails here rolls back whole and is retried message by message, each flushing its own.
                await batch.flush(session)
        self._count(outcomes, ignored=len(records) - len(prepared))

    def _prepare(self, record: ConsumerRecord) -> tuple[Envelope, EventHandler | None, Event | None] | None:
        """Parses and decodes a record; None when nothing here handles its type."""
        try:
            envelope = Envelope.from_bytes(record.value)
        except (ValidationError, ValueError, TypeError) as exc:
            raise PoisonMessage(f"not a Songda envelope: {exc}") from exc
        handler = self._handlers.get(envelope.type)
        if handler is None and self._on_any is None:
            return None
        event: Event | None = None
        if handler is not None:
            try:
                event = decode(envelope)
            except (ValidationError, UnknownEvent) as exc:
                if self._on_any is None:
                    raise PoisonMessage(f"cannot decode {envelope.type} v{envelope.dataversion}: {exc}") from exc
                # A service that records every message (evidence) still records one it cannot read as its type
                # (a newer version from a producer upgraded first): the type's own handling is skipped, loudly.
                log.warning("consumer.undecodable", consumer=self.name, event_type=envelope.type, version=envelope.dataversion, error=type(exc).__name__)
                return envelope, None, None
        return envelope, handler, event

    def _count(self, outcomes: list[tuple[str, bool]], *, ignored: int = 0) -> None:
        """Updates the counters once the transaction committed."""
        stats = self.stats
        stats.ignored += ignored
        for event_type, fresh in outcomes:
            if fresh:
                stats.applied += 1
                stats.by_type[event_type] = stats.by_type.get(event_type, 0) + 1
            else:
                stats.duplicates += 1

    async def _dead_letter(self, record: ConsumerRecord, exc: BaseException) -> None:
        """Parks a message on <topic>.dlq with the error in headers; waits for Kafka rather than drop it."""
        target = self._names.physical(dlq(self._names.logical(record.topic)))
        headers = [
            *(record.headers or ()),
            ("songda.consumer", self.name.encode()),
            ("songda.error.type", type(exc).__name__.encode()),
            ("songda.error.message", str(exc)[:2000].encode()),
            ("songda.error.trace", "".join(traceback.format_exception(exc))[-4000:].encode()),
            ("songda.original.topic", record.topic.encode()),
            ("songda.original.partition", str(record.partition).encode()),
            ("songda.original.offset", str(record.offset).encode()),
        ]
        backoff = Backoff(maximum=5.0)
        while True:
            try:
                await self._producer.send_and_wait(target, value=record.value or b"", key=(record.key or b"").decode(errors="replace"), headers=headers)
                break
            except KafkaError as send_exc:
                log.warning("consumer.dlq_send_failed", consumer=self.name, error=type(send_exc).__name__)
                await asyncio.sleep(backoff.next())
        self.stats.dead_lettered += 1
        log.error("consumer.dead_lettered", consumer=self.name, topic=record.topic, partition=record.partition, offset=record.offset, error=type(exc).__name__)
