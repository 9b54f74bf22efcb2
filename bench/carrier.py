"""Carrier benchmark: EMS trace pushes through `POST /webhooks/ems` until their `TrackingUpdated` is on Kafka.

Starts the carrier gateway as a process on a fresh PostgreSQL database and a private set of topics,
books N court-mail items straight into its table (booking is not what is measured), then pushes each
item's journey — 收寄 203, 310, 306, 702, 妥投 704 — one digest-signed node per push, the items
concurrently and each item's nodes in order, as EMS does. A consumer on the gateway's topic notes when
each node's `carrier_gateway.TrackingUpdated` arrives. It reports the gateway's CPU per push, and the
run's PostgreSQL backends' and the Kafka broker's beside it. In the same run it measures the floor: raw
aiokafka produce + consume of the same number of messages of the same size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.floor import kafka_floor  # noqa: E402
from bench.measure import KEEPALIVE_S, Figures, ServerCpu, cpu_seconds, delete_topics, drop_databases, each, figures, logs_on_failure, make_databases, save  # noqa: E402
from shared.contracts.ems_wire import DIGEST_HEADER, digest, format_time  # noqa: E402 — the repo root must be importable first
from shared.contracts.envelope import Envelope  # noqa: E402
from shared.contracts.topics import CARRIER_GATEWAY_EVENTS, TopicNames, create_topics  # noqa: E402
from shared.plumbing.settings import DEV_EMS_PUSH_SECRET  # noqa: E402
from songda.devstack import Stack  # noqa: E402
from tests.support import KAFKA, free_port, stack_env  # noqa: E402

# One item's journey to delivery: (opCode, opName, opDesc, minutes after collection).
JOURNEY = (
    ("203", "收寄", "已收寄", 0),
    ("310", "离开处理中心", "离开【威海邮区中心】，下一站【文登区投递部】", 373),
    ("306", "到达投递机构", "到达【文登区投递部】", 903),
    ("702", "安排投递", "投递员：孙海涛，电话：13906318888", 988),
    ("704", "妥投", "已签收，本人签收", 1158),
)


def waybill(run_index: int, index: int) -> str:
    """Returns the benchmark's waybill number for an item (13 digits, like EMS's)."""
    return f"9{run_index:04d}{index:08d}"


def pushes(waybill_no: str, collected: datetime) -> list[bytes]:
    """Returns an item's journey as push bodies, one node each, in the order EMS sends them."""
    bodies = []
    for code, name, desc, minutes in JOURNEY:
        trace = {
            "waybillNo": waybill_no,
            "opTime": format_time(collected + timedelta(minutes=minutes)),
            "opCode": code,
            "opName": name,
            "opDesc": desc,
            "opOrgCode": "26440001",
            "opOrgName": "威海市文登区投递部",
        }
        bodies.append(json.dumps({"traces": [trace]}, ensure_ascii=False).encode())
    return bodies


async def book(url: str, waybills: list[str], now: datetime) -> None:
    """Writes the items as booked, as the booker would have after EMS answered 020003."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        command = json.dumps({"bench": True})
        await connection.executemany(
            "INSERT INTO carrier_item (attempt_id, notice_id, recipient_id, correlation_id, command_id, command, booking, tries, waybill_no, status, last_node_at, closed, created_at, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6::jsonb, 'booked', 1, $7, 'booked', $8, false, $8, $8)",
            [(f"att-{no}", f"ntc-{no}", f"rcp-{no}", str(uuid.uuid4()), str(uuid.uuid4()), command, no, now) for no in waybills],
        )
    finally:
        await connection.close()


class Updates:
    """Follows the gateway's topic and notes the wall-clock time each node's TrackingUpdated arrived."""

    def __init__(self, prefix: str) -> None:
        self.consumer = AIOKafkaConsumer(
            TopicNames(prefix).physical(CARRIER_GATEWAY_EVENTS), bootstrap_servers=KAFKA, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False
        )
        self.arrived: dict[tuple[str, str], float] = {}
        self.sizes: list[int] = []

    async def wait(self, expected: int, timeout: float) -> None:
        """Reads until `expected` nodes have arrived; fails with a count when the deadline passes."""
        deadline = time.monotonic() + timeout
        while len(self.arrived) < expected:
            if time.monotonic() > deadline:
                raise SystemExit(f"\nonly {len(self.arrived)} of {expected} TrackingUpdated arrived after {timeout:.0f} s")
            for records in (await self.consumer.getmany(timeout_ms=200, max_records=1000)).values():
                now = time.time()
                for record in records:
                    envelope = Envelope.from_bytes(record.value)
                    if envelope.type == "carrier_gateway.TrackingUpdated":
                        self.arrived.setdefault((envelope.data["waybill_no"], envelope.data["op_code"]), now)
                        self.sizes.append(len(record.value))


async def push_all(stack: Stack, journeys: dict[str, list[bytes]], concurrency: int) -> tuple[dict[tuple[str, str], float], list[float], float]:
    """Pushes every journey, items concurrently and each item's nodes in order; returns when each node was sent, each POST's latency (ms) and when the last was answered."""
    sent: dict[tuple[str, str], float] = {}
    answered: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, keepalive_expiry=KEEPALIVE_S)
    async with httpx.AsyncClient(base_url=stack.url("carrier_gateway"), timeout=60, limits=limits) as client:

        async def journey(waybill_no: str) -> None:
            for (code, *_), body in zip(JOURNEY, journeys[waybill_no], strict=True):
                started = time.time()
                sent[(waybill_no, code)] = started
                response = await client.post("/webhooks/ems", content=body, headers={DIGEST_HEADER: digest(body, DEV_EMS_PUSH_SECRET), "Content-Type": "application/json"})
                if response.status_code != 200 or response.json()["new"] != 1:
                    raise SystemExit(f"\npush refused: {response.status_code} {response.text}")
                answered.append((time.time() - started) * 1000)

        await each("items pushed", list(journeys), concurrency, journey)
    return sent, answered, time.time()


async def measure(args: argparse.Namespace, run: str, prefix: str, workdir: Path) -> tuple[list[Figures], int, dict[str, float], dict[str, float]]:
    """Runs the gateway and measures pushes; returns figures, event size and CPU ms per push: the gateway's and the servers'."""
    urls = await make_databases(run)
    env = {**stack_env(kafka=KAFKA, prefix=prefix), "SONGDA_LOG_LEVEL": "WARNING", **{f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()}}
    stack = Stack(env=env, ports={"carrier_gateway": free_port()}, log_dir=workdir / "log", run_dir=workdir / "run")
    now = datetime.now(UTC)
    run_index = int(run[:4], 16) % 10_000
    journeys = {no: pushes(no, now - timedelta(days=1)) for no in (waybill(run_index, i) for i in range(args.items))}
    updates = Updates(prefix)
    stack.start()
    try:
        stack.wait_healthy()
        await book(urls["carrier_gateway"], list(journeys), now)
        await updates.consumer.start()
        gateway = stack.processes["carrier_gateway"].pid
        cpu_before = cpu_seconds(gateway)
        began = time.time()
        try:
            with logs_on_failure(stack), ServerCpu([url.rsplit("/", 1)[1] for url in urls.values()]) as servers:
                # Read while pushing, so each arrival is stamped when it lands rather than after the last push.
                (sent, answered, pushed), _ = await asyncio.gather(push_all(stack, journeys, args.concurrency), updates.wait(len(journeys) * len(JOURNEY), timeout=args.timeout))
        finally:
            await updates.consumer.stop()
        cpu = {"carrier_gateway": (cpu_seconds(gateway) - cpu_before) * 1000 / len(sent)}
    finally:
        stack.stop()
        await drop_databases(urls)
    seconds = max(updates.arrived.values()) - began
    rows = [
        figures("push → TrackingUpdated on Kafka", [(updates.arrived[key] - at) * 1000 for key, at in sent.items()], seconds),
        figures("push answered (HTTP 200)", answered, pushed - began),
    ]
    return rows, round(sum(updates.sizes) / max(len(updates.sizes), 1)), cpu, servers.per(len(sent))


def report(rows: list[Figures], args: argparse.Namespace, size: int, cpu: dict[str, float], servers: dict[str, float]) -> str:
    """Formats the figures as a table."""
    lines = [
        "",
        f"Songda carrier benchmark: {args.items} items × {len(JOURNEY)} nodes = {args.items * len(JOURNEY)} signed pushes, {args.concurrency} concurrent pushers, event ≈ {size} B",
        f"  {'path':<34} {'per second':>12} {'p50 ms':>9} {'p99 ms':>9} {'seconds':>9}",
    ]
    for row in rows:
        lines.append(f"  {row.name:<34} {row.per_second:>12,.1f} {row.p50_ms:>9.1f} {row.p99_ms:>9.1f} {row.seconds:>9.2f}")
    lines.append(f"  pushes / raw aiokafka throughput: {rows[0].per_second / rows[-1].per_second:.3f}")
    lines.append(f"  carrier gateway CPU per push: {cpu['carrier_gateway']:.1f} ms")
    lines.append("  server CPU per push (ms): " + ", ".join(f"{name} {ms:.1f}" for name, ms in servers.items()) + " (postgres: this run's backends; kafka: the whole broker)")
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    run = uuid.uuid4().hex[:8]
    prefix, floor_prefix = f"bench{run}.", f"floor{run}."
    await create_topics(KAFKA, prefix=prefix)
    await create_topics(KAFKA, prefix=floor_prefix)
    try:
        with tempfile.TemporaryDirectory(prefix="songda-bench-") as tmp:
            rows, size, cpu, servers = await measure(args, run, prefix, Path(tmp))
        rows.append(await kafka_floor(KAFKA, rows[0].count, size, floor_prefix))
    finally:
        await delete_topics(KAFKA, prefix)
        await delete_topics(KAFKA, floor_prefix)
    print(report(rows, args, size, cpu, servers))
    save("carrier", args, rows, event_bytes=size, cpu_ms_per_push=cpu, cpu_ms_per_push_servers=servers)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--items", type=int, default=2000, help=f"court-mail items, {len(JOURNEY)} pushes each (default 2000)")
    parser.add_argument("-c", "--concurrency", type=int, default=32, help="concurrent pushers (default 32)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for every TrackingUpdated")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
