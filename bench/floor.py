"""The bare floor every benchmark stands next to: raw aiokafka produce + consume and raw SQL inserts on the same machine."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.measure import Figures, figures
from shared.contracts.topics import INTAKE_EVENTS, TopicNames
from tests.support import POSTGRES


async def kafka_floor(kafka: str, count: int, size: int, prefix: str) -> Figures:
    """Raw aiokafka: produce `count` messages of `size` bytes (acks=all, idempotent) and consume them."""
    topic = TopicNames(prefix).physical(INTAKE_EVENTS)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka, group_id=f"{prefix}floor", auto_offset_reset="earliest", enable_auto_commit=False)
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True, acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    filler = b"x" * max(0, size - 40)
    latencies: list[float] = []
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        began = time.time()

        async def produce() -> None:
            acks = [await producer.send(topic, f"{time.time():.6f}|".encode() + filler, key=str(i % 997).encode()) for i in range(count)]
            await asyncio.gather(*acks)

        async def consume() -> None:
            while len(latencies) < count:
                for records in (await consumer.getmany(timeout_ms=200, max_records=1000)).values():
                    now = time.time()
                    latencies.extend((now - float(r.value.split(b"|", 1)[0])) * 1000 for r in records)
                    await consumer.commit()

        await asyncio.gather(produce(), consume())
        seconds = time.time() - began
    finally:
        await producer.stop()
        await consumer.stop()
    return figures("raw aiokafka produce+consume", latencies, seconds)


async def sql_floor(count: int, size: int, concurrency: int) -> Figures:
    """Raw SQL: one INSERT per transaction of a `size`-byte JSON document, `concurrency` connections at once."""
    run = uuid.uuid4().hex[:8]
    admin = await asyncpg.connect(POSTGRES)
    await admin.execute(f'CREATE DATABASE "bench_{run}_floor"')
    await admin.close()
    url = POSTGRES.rsplit("/", 1)[0] + f"/bench_{run}_floor"
    pool = await asyncpg.create_pool(url, min_size=concurrency, max_size=concurrency)
    document = json.dumps({"x": "y" * max(0, size - 10)})
    latencies: list[float] = []
    try:
        await pool.execute("CREATE TABLE floor (id uuid PRIMARY KEY, doc jsonb NOT NULL, at timestamptz NOT NULL DEFAULT now())")
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(count):
            queue.put_nowait(index)

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                await pool.execute("INSERT INTO floor (id, doc) VALUES ($1, $2::jsonb)", uuid.uuid4(), document)
                latencies.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - began
    finally:
        await pool.close()
        admin = await asyncpg.connect(POSTGRES)
        await admin.execute(f'DROP DATABASE IF EXISTS "bench_{run}_floor" WITH (FORCE)')
        await admin.close()
    return figures("raw SQL insert (1 tx per row)", latencies, seconds)
