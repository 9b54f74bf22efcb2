"""The bare floor every benchmark stands next to: raw aiokafka produce + consume, raw SQL inserts and bare HTTP requests on the same machine, with the CPU each costs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.measure import KEEPALIVE_S, Figures, ServerCpu, cpu_seconds, each, figures
from shared.contracts.topics import INTAKE_EVENTS, TopicNames
from tests.support import POSTGRES, free_port

REPO = Path(__file__).resolve().parent.parent


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

        with ServerCpu([]) as broker:
            client = time.process_time()
            await asyncio.gather(produce(), consume())
            client = time.process_time() - client
        seconds = time.time() - began
    finally:
        await producer.stop()
        await consumer.stop()
    servers = broker.per(count)
    cpu = {"client": client * 1000 / count} | ({"broker": servers["kafka"]} if "kafka" in servers else {})
    return replace(figures("raw aiokafka produce+consume", latencies, seconds), cpu_ms=cpu)


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
        with ServerCpu([f"bench_{run}_floor"]) as backends:
            client = time.process_time()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            client = time.process_time() - client
        seconds = time.perf_counter() - began
    finally:
        await pool.close()
        admin = await asyncpg.connect(POSTGRES)
        await admin.execute(f'DROP DATABASE IF EXISTS "bench_{run}_floor" WITH (FORCE)')
        await admin.close()
    cpu = {"client": client * 1000 / count, "backend": backends.per(count)["postgres"]}
    return replace(figures("raw SQL insert (1 tx per row)", latencies, seconds), cpu_ms=cpu)


# A Twilio status callback's form, as the simulator posts it: the size of what a status callback's handler reads.
CALLBACK_FORM = {
    "AccountSid": "AC" + "0" * 32,
    "MessageSid": "SM" + "0" * 32,
    "MessageStatus": "delivered",
    "From": "+861065529988",
    "To": "+8613900000000",
    "ApiVersion": "2010-04-01",
    "SmsSid": "SM" + "0" * 32,
    "SmsStatus": "delivered",
}


async def http_floor(count: int, concurrency: int) -> Figures:
    """Bare HTTP: form POSTs the size of a status callback to a FastAPI endpoint under uvicorn that only reads the form, from an httpx client, `concurrency` at once."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.bare_http:app", "--port", str(port), "--log-level", "warning", "--no-access-log"], cwd=REPO, stdout=subprocess.DEVNULL
    )
    latencies: list[float] = []
    try:
        limits = httpx.Limits(max_connections=concurrency, keepalive_expiry=KEEPALIVE_S)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits) as client:
            deadline = time.monotonic() + 30
            while not await _answers(client):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the bare HTTP server did not start")
                await asyncio.sleep(0.05)

            async def post(_: int) -> None:
                started = time.perf_counter()
                (await client.post("/form", data=CALLBACK_FORM)).raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)

            await each("bare HTTP warm-up", list(range(min(200, count))), concurrency, post)
            latencies.clear()
            served, sent, began = cpu_seconds(server.pid), time.process_time(), time.perf_counter()
            await each("bare HTTP requests", list(range(count)), concurrency, post)
            seconds = time.perf_counter() - began
            cpu = {"client": (time.process_time() - sent) * 1000 / count, "server": (cpu_seconds(server.pid) - served) * 1000 / count}
    finally:
        server.terminate()
        server.wait(timeout=30)
    return replace(figures("bare HTTP POST (uvicorn, httpx)", latencies, seconds), cpu_ms=cpu)


async def _answers(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/health")).is_success
    except httpx.TransportError:
        return False
