"""The bare floor every benchmark stands next to: raw aiokafka produce + consume, raw SQL inserts and bare HTTP requests on the same machine, with the CPU each costs."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.measure import KEEPALIVE_S, Figures, ServerCpu, cpu_seconds, each, figures
from shared.contracts.topics import EVENT_TOPICS, TopicNames
from tests.support import POSTGRES, free_port

REPO = Path(__file__).resolve().parent.parent
# The cores every process of a run shares: what the work alone is divided over.
CORES = os.cpu_count() or 1


async def kafka_floor(kafka: str, count: int, size: int, prefix: str, *, rounds: int = 3) -> Figures:
    """Raw aiokafka: a fresh producer produces `count` messages of `size` bytes (acks=all, idempotent) to a fresh topic, and a fresh consumer consumes them, `rounds` times; returns the median round by throughput.

    A round of a few hundred messages lasts a tenth of a second, which a moment's load elsewhere on the machine can halve.
    Each round starts cold, as the floor always has: a producer and consumer already warm move a few hundred messages
    two to four times as fast, because most of a short round is their first round trips.
    """
    topics = [TopicNames(prefix).physical(topic) for topic in EVENT_TOPICS[:rounds]]
    measured = [await _kafka_round(kafka, topic, count, size, group=f"{prefix}floor") for topic in topics]
    return sorted(measured, key=lambda round_: round_.per_second)[len(measured) // 2]


async def _kafka_round(kafka: str, topic: str, count: int, size: int, *, group: str) -> Figures:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False)
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True, acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    filler = b"x" * max(0, size - 40)
    latencies: list[float] = []

    async def produce() -> None:
        acks = [await producer.send(topic, f"{time.time():.6f}|".encode() + filler, key=str(i % 997).encode()) for i in range(count)]
        await asyncio.gather(*acks)

    async def consume() -> None:
        while len(latencies) < count:
            for records in (await consumer.getmany(timeout_ms=200, max_records=1000)).values():
                now = time.time()
                latencies.extend((now - float(r.value.split(b"|", 1)[0])) * 1000 for r in records)
                await consumer.commit()

    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        # Reading /proc to find the broker and sample it takes longer than some rounds: outside the clock.
        with ServerCpu([]) as broker:
            began, client = time.time(), time.process_time()
            await asyncio.gather(produce(), consume())
            seconds, client = time.time() - began, time.process_time() - client
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

        with ServerCpu([f"bench_{run}_floor"]) as backends:
            began, client = time.perf_counter(), time.process_time()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            seconds, client = time.perf_counter() - began, time.process_time() - client
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


def work_alone(work: dict[str, float], prices: dict[str, Figures], *, kafka: Figures) -> dict[str, Any]:
    """Returns what a unit's counted work alone costs at the CPU of the floors that price it (both sides of each, no logic), and the units/s the machine's cores would allow at that, beside raw aiokafka."""
    each_ms = {kind: sum(floor.cpu_ms.values()) for kind, floor in prices.items()}
    cpu_ms = sum(count * each_ms[kind] for kind, count in work.items() if kind in each_ms)
    per_second = CORES * 1000 / cpu_ms
    return {"cpu_ms": cpu_ms, "per_second": per_second, "ratio": per_second / kafka.per_second, "each_ms": each_ms}


def work_alone_line(alone: dict[str, Any], *, unit: str) -> str:
    """Returns the report's line for work_alone's figures."""
    prices = ", ".join(f"{kind.replace('_', ' ')} {ms:.2f} ms" for kind, ms in alone["each_ms"].items())
    return (
        f"  the work alone at the floors' CPU (both sides, per unit: {prices}): {alone['cpu_ms']:.1f} ms per {unit} → at most {alone['per_second']:.0f} {unit}s/s "
        f"on {CORES} cores, {alone['ratio']:.3f} of raw aiokafka"
    )
