"""Pipeline benchmark: notices per second from HTTP submit until visible in delivery and evidence.

Starts the services and the simulators (so anything delivery sends is answered, as in production, instead of
failing and retrying) as processes on fresh PostgreSQL databases (or SQLite with --sqlite) and a private set of topics
on the running broker, submits N notices concurrently, and reads from the services' databases when each notice became
visible. Delivery's policy holds calls and SMS for a contact window hours away, as outside contact hours, so the CPU
counted is the pipeline's; sending is the delivery bench's (bench/delivery.py). With --send they go out during the run,
and the CPU counted holds whatever part of that sending falls before the last notice is visible. It reports the CPU each
process spent per notice, their sum for the whole system, and the run's PostgreSQL backends and the
Kafka broker beside it. In the same run it measures the floor: raw aiokafka produce + consume of N
messages of the same size on the same broker, and raw SQL inserts.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.floor import kafka_floor, sql_floor, work_alone, work_alone_line  # noqa: E402
from bench.measure import (  # noqa: E402
    KEEPALIVE_S,
    Figures,
    ServerCpu,
    cpu_per_service,
    delete_topics,
    drop_databases,
    each,
    figures,
    logs_on_failure,
    make_databases,
    messages_on,
    profiled,
    progress,
    save,
    stack_cpu,
    transactions,
)
from shared.contracts.topics import create_topics  # noqa: E402
from shared.plumbing.auth import Role, mint  # noqa: E402 — the repo root must be importable first
from shared.plumbing.db import Database  # noqa: E402
from songda.devstack import PROCESSES, SERVICES, Stack  # noqa: E402
from tests.support import KAFKA, free_port, notice_payload, upload_document, with_calls_and_sms_held, with_documents, without_contact_hours  # noqa: E402

SECRET = "songda-bench-secret-at-least-32-characters"


def court_headers() -> dict[str, str]:
    """Returns the headers of the court that submits the notices."""
    bearer = mint(secret=SECRET, role=Role.court, sub="C371002", issuer="songda", now=datetime.now(UTC))
    return {"Authorization": f"Bearer {bearer}"}


async def upload(stack: Stack) -> str:
    """Uploads the one document every notice is served with, before the clock starts (the bench measures notices, not uploads); returns its sha256."""
    async with httpx.AsyncClient(timeout=120) as client:
        return str((await upload_document(client, stack.url("intake"), headers=court_headers()))["sha256"])


async def submit_all(stack: Stack, count: int, concurrency: int, seed: int, *, sha256: str, batch: int = 0) -> dict[str, float]:
    """Submits the notices, each served with the uploaded document `sha256`, one POST each or `batch` to a POST /v1/notices/batch; returns each notice id with the wall-clock time its POST was sent."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=KEEPALIVE_S)
    async with httpx.AsyncClient(base_url=stack.url("intake"), headers=court_headers(), timeout=120, limits=limits) as client:

        async def post(index: int) -> tuple[str, float]:
            started = time.time()
            response = await client.post("/v1/notices", json=with_documents(notice_payload(index, seed=seed), sha256))
            response.raise_for_status()
            return response.json()["id"], started

        async def post_batch(indexes: list[int]) -> list[tuple[str, float]]:
            started = time.time()
            notices = [with_documents(notice_payload(index, seed=seed), sha256) for index in indexes]
            response = await client.post("/v1/notices/batch", json={"notices": notices})
            response.raise_for_status()
            results = response.json()["results"]
            refused = [r for r in results if r["status"] not in (200, 201)]
            assert not refused, refused[:3]
            return [(r["id"], started) for r in results]

        if batch:
            chunks = [list(range(start, min(start + batch, count))) for start in range(0, count, batch)]
            return dict(pair for sent in await each("submitted", chunks, concurrency, post_batch) for pair in sent)
        return dict(await each("submitted", list(range(count)), concurrency, post))


async def visible_times(dbs: dict[str, Database], count: int, timeout: float) -> dict[str, float]:
    """Waits until every notice is in delivery and evidence; returns when each became visible in both."""
    deadline = time.monotonic() + timeout
    while True:
        async with dbs["delivery"].sessions() as session:
            delivered = int(await session.scalar(text("SELECT count(*) FROM delivery_notice")))
        async with dbs["evidence"].sessions() as session:
            recorded = int(await session.scalar(text("SELECT count(DISTINCT notice_id) FROM evidence_timeline_entry")))
        progress("visible in both", min(delivered, recorded), count)
        if delivered >= count and recorded >= count:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"\nonly {delivered} in delivery and {recorded} in evidence after {timeout:.0f} s")
        await asyncio.sleep(0.25)
    async with dbs["delivery"].sessions() as session:
        delivery = {row[0]: row[1] for row in await session.exec(text("SELECT id, received_at FROM delivery_notice"))}
    async with dbs["evidence"].sessions() as session:
        evidence = {row[0]: row[1] for row in await session.exec(text("SELECT notice_id, recorded_at FROM evidence_timeline_entry"))}
    return {nid: max(_epoch(delivery[nid]), _epoch(evidence[nid])) for nid in delivery}


def _epoch(value: datetime | str) -> float:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


async def pipeline(args: argparse.Namespace, run: str, prefix: str, workdir: Path) -> tuple[Figures, int, dict[str, float], dict[str, float], dict[str, float]]:
    """Runs the services and measures the pipeline; returns its figures, the event size in bytes, CPU ms per notice by process and by server, the work per notice."""
    if args.sqlite:
        urls = {name: f"sqlite:///{workdir / f'{name}.db'}" for name in SERVICES}
    else:
        urls = await make_databases(run)
    env = {
        "SONGDA_ENV": "test",
        "SONGDA_KAFKA_BOOTSTRAP": KAFKA,
        "SONGDA_TOPIC_PREFIX": prefix,
        "SONGDA_JWT_SECRET": SECRET,
        "SONGDA_LOG_LEVEL": "WARNING",
        # The simulators' outcomes for numbers and items nobody scripted drawn from their usual mix, the same run after run.
        "TWILIO_SIM_SEED": "1",
        "EMS_SIM_SEED": "1",
        # The same work at any hour: calls and SMS held (or, with --send, never held by contact hours).
        "DELIVERY_POLICY_FILE": str(without_contact_hours(workdir / "policy") if args.send else with_calls_and_sms_held(workdir / "policy", now=datetime.now(UTC))),
        **{f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()},
    }
    # Free ports: several runs (or a run beside the tests) may share the machine.
    stack = Stack(
        env=env,
        ports={name: free_port() for name in PROCESSES},
        log_dir=workdir / "log",
        run_dir=workdir / "run",
        replicas={"intake": args.intake_replicas, "delivery": args.delivery_replicas},
    )
    dbs = {name: Database(urls[name]) for name in ("intake", "delivery", "evidence")}
    transactions_before, work = 0, {}
    stack.start()
    try:
        stack.wait_healthy()
        sha256 = await upload(stack)
        messages_before = await messages_on(prefix)
        if not args.sqlite:
            transactions_before = await transactions(urls, settle_s=0)
        cpu_before = stack_cpu(stack)
        began = time.time()
        with logs_on_failure(stack), profiled(stack.processes, args.profile), ServerCpu([url.rsplit("/", 1)[1] for url in urls.values()]) as servers:
            sent = await submit_all(stack, args.notices, args.concurrency, seed=int(began), sha256=sha256, batch=args.batch)
            visible = await visible_times(dbs, args.notices, timeout=args.timeout)
        cpu = cpu_per_service(stack, cpu_before, args.notices)
        work["kafka_messages"] = (await messages_on(prefix) - messages_before) / args.notices
        async with dbs["intake"].sessions() as session:
            size = int(await session.scalar(text("SELECT avg(length(payload)) FROM outbox_message")))
    finally:
        stack.stop()
        for db in dbs.values():
            await db.dispose()
        if not args.sqlite:
            # Read once the stopped services' backends have reported theirs; it includes the bench's own reads of when each notice became visible.
            work["postgres_transactions"] = (await transactions(urls) - transactions_before) / args.notices
            await drop_databases(urls)
    latencies = [(visible[nid] - sent[nid]) * 1000 for nid in sent]
    seconds = max(visible.values()) - began
    return figures("pipeline (HTTP → visible in both)", latencies, seconds), size, cpu, {} if args.sqlite else servers.per(args.notices), work


def system_cpu(cpu: dict[str, float]) -> float:
    """Returns the whole system's CPU ms per notice: the services' sum, without the simulators standing in for Twilio, EMS and mail."""
    return sum(ms for name, ms in cpu.items() if name in SERVICES)


def report(rows: list[Figures], args: argparse.Namespace, size: int, cpu: dict[str, float], servers: dict[str, float], work: dict[str, float]) -> str:
    storage = "SQLite" if args.sqlite else "PostgreSQL"
    lines = [
        "",
        f"Songda pipeline benchmark: {args.notices} notices, {storage}, {args.concurrency} concurrent submitters, intake ×{args.intake_replicas}, delivery ×{args.delivery_replicas}, event ≈ {size} B, calls and SMS {'sent' if args.send else 'held'}",
        f"  {'path':<36} {'per second':>12} {'p50 ms':>9} {'p99 ms':>9} {'seconds':>9}",
    ]
    for row in rows:
        lines.append(f"  {row.name:<36} {row.per_second:>12,.1f} {row.p50_ms:>9.1f} {row.p99_ms:>9.1f} {row.seconds:>9.2f}")
    lines.append(f"  pipeline / raw aiokafka throughput: {rows[0].per_second / rows[1].per_second:.3f}")
    lines.append("  process CPU per notice (ms): " + ", ".join(f"{name} {ms:.1f}" for name, ms in cpu.items()))
    lines.append(f"  whole system (the services' sum) CPU per notice: {system_cpu(cpu):.1f} ms (target ≤ 5)")
    if servers:
        lines.append("  server CPU per notice (ms): " + ", ".join(f"{name} {ms:.1f}" for name, ms in servers.items()) + " (postgres: this run's backends; kafka: the whole broker)")
    counted = [f"{work['kafka_messages']:.2f} Kafka messages produced"] + (
        [f"{work['postgres_transactions']:.2f} PostgreSQL transactions"] if "postgres_transactions" in work else []
    )
    lines.append("  work per notice: " + ", ".join(counted) + (f", 1/{args.batch} of a batch request (left out below)" if args.batch else ", one HTTP request (left out below)"))
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    run = uuid.uuid4().hex[:8]
    prefix = f"bench{run}."
    await create_topics(KAFKA, prefix=prefix)
    floor_prefix = f"floor{run}."
    await create_topics(KAFKA, prefix=floor_prefix)
    try:
        with tempfile.TemporaryDirectory(prefix="songda-bench-") as tmp:
            flow, size, cpu, servers, work = await pipeline(args, run, prefix, Path(tmp))
        kafka = await kafka_floor(KAFKA, args.notices, size, floor_prefix)
        rows = [flow, kafka]
        prices = {"kafka_messages": kafka}
        if not args.sqlite:
            rows.append(await sql_floor(args.notices, size, args.concurrency))
            prices["postgres_transactions"] = rows[2]
    finally:
        await delete_topics(KAFKA, prefix)
        await delete_topics(KAFKA, floor_prefix)
    alone = work_alone(work, prices, kafka=kafka)
    print(report(rows, args, size, cpu, servers, work))
    print(work_alone_line(alone, unit="notice"))
    save(
        "pipeline",
        args,
        rows,
        event_bytes=size,
        cpu_ms_per_notice=cpu,
        cpu_ms_per_notice_system=system_cpu(cpu),
        cpu_ms_per_notice_servers=servers,
        work_per_notice=work,
        work_alone=alone,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--notices", type=int, default=5000, help="notices to submit (default 5000)")
    parser.add_argument("-c", "--concurrency", type=int, default=32, help="concurrent HTTP submitters (default 32)")
    parser.add_argument("--batch", type=int, default=0, help="notices per POST /v1/notices/batch (default 0: one POST /v1/notices each)")
    parser.add_argument("--sqlite", action="store_true", help="run the services on SQLite files instead of PostgreSQL")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for every notice to become visible")
    parser.add_argument("--intake-replicas", type=int, default=1, help="intake processes sharing its port, on PostgreSQL (default 1)")
    parser.add_argument("--delivery-replicas", type=int, default=1, help="delivery processes sharing its port, on PostgreSQL (default 1)")
    parser.add_argument("--profile", type=Path, help="sample every service with py-spy into this directory")
    parser.add_argument("--send", action="store_true", help="let delivery call and text during the run instead of holding calls and SMS")
    args = parser.parse_args(argv)
    if args.sqlite and max(args.intake_replicas, args.delivery_replicas) > 1:
        # Replicas keep each outside call and the outbox's publishing to one of them with PostgreSQL's locks, which SQLite lacks.
        parser.error("--intake-replicas or --delivery-replicas above 1 needs PostgreSQL")
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
