"""Revoked tokens: `songda revoke` puts a token id on a compacted topic, and every service reads the whole topic into memory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import AwareDatetime, BaseModel, ValidationError

from shared.plumbing.backoff import Backoff

log = structlog.get_logger(__name__)


class Revocation(BaseModel):
    """One revoked token: its id, when it would have expired anyway, and why it was revoked."""

    jti: str
    expires_at: AwareDatetime
    revoked_at: AwareDatetime
    reason: str = ""


class RevocationList:
    """The revoked token ids known to this process; `ready` once the topic was read to its end at start."""

    def __init__(self, *, now: Callable[[], datetime]) -> None:
        self._now = now
        self._expiry: dict[str, datetime] = {}
        self.ready = False

    def add(self, revocation: Revocation) -> None:
        """Remembers a revocation until the token would have expired."""
        self._expiry[revocation.jti] = revocation.expires_at
        self._forget_expired()

    def revoked(self, jti: str) -> bool:
        """Tells whether the token with this id was revoked."""
        return jti in self._expiry

    def __len__(self) -> int:
        return len(self._expiry)

    def _forget_expired(self) -> None:
        # An expired token is refused for its expiry; keeping its id would only grow the set.
        now = self._now()
        for jti in [j for j, expires in self._expiry.items() if expires <= now]:
            del self._expiry[jti]


class RevocationWatcher:
    """Reads the revocation topic from its beginning, then follows it; a process of its own, with no consumer group."""

    def __init__(self, *, bootstrap: str, topic: str, revocations: RevocationList) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._revocations = revocations
        self._loaded = asyncio.Event()
        self._backoff = Backoff(initial=0.5, maximum=10)

    async def loaded(self, *, timeout_s: float) -> bool:
        """Waits until the topic was read to the end it had at start; returns whether that happened in time."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._loaded.wait()
        except TimeoutError:
            return False
        return True

    async def run(self) -> None:
        """Follows the topic forever, reconnecting after a Kafka outage."""
        failures = 0
        while True:
            try:
                await self._follow()
            except KafkaError as exc:
                failures += 1
                log.warning("revocations.kafka_unavailable", error=type(exc).__name__, failures=failures)
                await asyncio.sleep(self._backoff.after(failures))

    async def _follow(self) -> None:
        consumer = AIOKafkaConsumer(self._topic, bootstrap_servers=self._bootstrap, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest")
        await consumer.start()
        try:
            ends: dict | None = None
            warned = False
            while True:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        self._apply(record.value)
                if self._loaded.is_set():
                    continue
                assigned = consumer.assignment()
                if not assigned:
                    if not warned and self._topic not in await consumer.topics():
                        # Tokens stay refused (503) until it exists: say what to do rather than wait in silence.
                        log.error("revocations.topic_missing", topic=self._topic, fix="run `songda topics`")
                        warned = True
                    continue
                ends = ends or await consumer.end_offsets(list(assigned))
                positions = {tp: await consumer.position(tp) for tp in ends}
                if all(positions[tp] >= end for tp, end in ends.items()):
                    self._revocations.ready = True
                    self._loaded.set()
                    log.info("revocations.loaded", revoked=len(self._revocations))
        finally:
            await consumer.stop()

    def _apply(self, value: bytes | None) -> None:
        if value is None:
            return
        try:
            self._revocations.add(Revocation.model_validate_json(value))
        except ValidationError:
            log.error("revocations.unreadable", bytes=len(value))


async def revoke(*, bootstrap: str, topic: str, revocation: Revocation) -> None:
    """Publishes a revocation; every service refuses the token once it has read it."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=revocation.model_dump_json().encode(), key=revocation.jti.encode())
    finally:
        await producer.stop()
