"""The process's Kafka producer: idempotent, acks=all, started on first use and rebuilt when broken."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

Headers = Sequence[tuple[str, bytes]]


class Producer:
    """Sends messages to Kafka for the outbox relay and the dead-letter path."""

    def __init__(self, *, bootstrap: str, client_id: str) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def _started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap,
                    client_id=self._client_id,
                    # The broker drops the retries of a send it already has, so a retry never doubles.
                    enable_idempotence=True,
                    acks="all",
                    linger_ms=5,
                    request_timeout_ms=15000,
                )
                try:
                    await producer.start()
                except BaseException:
                    await producer.stop()
                    raise
                self._producer = producer
            return self._producer

    async def send(self, topic: str, *, value: bytes, key: str, headers: Headers = ()) -> asyncio.Future[RecordMetadata]:
        """Queues a message and returns the future of its acknowledgement."""
        producer = await self._started()
        return await producer.send(topic, value=value, key=key.encode(), headers=list(headers))

    async def send_and_wait(self, topic: str, *, value: bytes, key: str, headers: Headers = ()) -> RecordMetadata:
        """Sends a message and waits until the broker has it."""
        return await (await self.send(topic, value=value, key=key, headers=headers))

    async def reset(self) -> None:
        """Drops the current producer so the next send starts a fresh one."""
        async with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    @property
    def connected(self) -> bool:
        """Tells whether a producer is started."""
        return self._producer is not None

    async def close(self) -> None:
        """Flushes and stops the producer."""
        await self.reset()
