"""Delivery benchmark: notices with two recipients each, from HTTP submit until both are served by SMS through the Twilio simulator.

Starts the four services and the Twilio simulator as processes on fresh PostgreSQL databases and a
private set of topics, on the scaled clock (a Monday morning in Beijing, sixty times faster, so the
simulator's delivery receipts come within the working day). Every party first confirms an address
with SMS consent and each number is scripted `delivered`; then N notices are submitted at once and a
consumer on delivery's topic notes when each `delivery.RecipientServed` arrives. It reports the CPU each
process spent per notice, the services' sum, and the run's PostgreSQL backends and the Kafka broker
beside it. In the same run it measures the floor: raw aiokafka produce + consume and raw SQL inserts of the same number of messages.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.floor import http_floor, kafka_floor, sql_floor, work_alone, work_alone_line  # noqa: E402
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
from shared.contracts.envelope import Envelope  # noqa: E402
from shared.contracts.topics import DELIVERY_EVENTS, TopicNames, create_topics  # noqa: E402
from shared.plumbing.auth import Role  # noqa: E402 — the repo root must be importable first
from songda.devstack import SERVICES, Stack  # noqa: E402
from tests.support import EXAMPLE_NOTICE, KAFKA, address_confirmation, free_port, resident_id, stack_env, token, upload_document, with_documents  # noqa: E402

COURT = token(Role.court, "C371002")
# Monday 23 November 2026, 09:00 in Beijing: SMS goes out within working hours for the whole run.
EPOCH = "2026-11-23T01:00:00+00:00"
SCALE = 60
SIM_DELIVERY_SECONDS = (3, 23)  # the simulator's queued → delivered delay, in simulated seconds
OUTCOMES = {"delivery.RecipientServed", "delivery.RecipientUnserved"}
# A notice's own HTTP requests: its submit, and for each of its two recipients the SMS sent and the simulator's queued, sent and delivered callbacks.
HTTP_REQUESTS = 1 + 2 * (1 + 3)


class Party:
    """One recipient of the benchmark: a person with a mobile number who consented to SMS service."""

    def __init__(self, rng: random.Random, index: int) -> None:
        self.name = f"测试{index:06d}"
        self.id_number = resident_id(rng)
        self.phone = f"+86139{index:08d}"

    def recipient(self) -> dict[str, Any]:
        """Returns this party as a notice's recipient."""
        base = copy.deepcopy(EXAMPLE_NOTICE["recipients"][0])
        base.update(name=self.name, id_number=self.id_number, phones=[self.phone], emails=[])
        return base

    def confirmation(self, case_number: str) -> dict[str, Any]:
        """Returns the party's address confirmation in the case, consenting to SMS service."""
        return address_confirmation(self.recipient(), case_number=case_number, phone=self.phone, consent=True)


def notices(count: int, run: str) -> list[tuple[dict[str, Any], list[Party]]]:
    """Builds `count` notices with two consenting recipients each."""
    rng = random.Random(run)
    built = []
    for index in range(count):
        parties = [Party(rng, 2 * index), Party(rng, 2 * index + 1)]
        notice = copy.deepcopy(EXAMPLE_NOTICE)
        notice.update(court_reference=f"B-{run}-{index:06d}", case_number=f"（2026）鲁1002民初{index % 9999 + 1:04d}号")
        notice["recipients"] = [party.recipient() for party in parties]
        built.append((notice, parties))
    return built


async def prepare(stack: Stack, built: list[tuple[dict[str, Any], list[Party]]], concurrency: int) -> str:
    """Scripts every number `delivered` at the simulator, records every party's address confirmation and uploads the document every notice is served with; returns its sha256."""
    limits = httpx.Limits(max_connections=concurrency, keepalive_expiry=KEEPALIVE_S)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def script(party: Party) -> None:
            response = await client.post(f"{stack.url('twilio_sim')}/sim/script", json={"number": party.phone, "sms": {"outcome": "delivered"}})
            response.raise_for_status()

        async def confirm(item: tuple[str, Party]) -> None:
            case_number, party = item
            response = await client.post(f"{stack.url('intake')}/v1/address-confirmations", json=party.confirmation(case_number), headers=COURT)
            if response.status_code not in (200, 201):
                raise SystemExit(f"\naddress confirmation refused: {response.status_code} {response.text}")

        parties = [(notice["case_number"], party) for notice, pair in built for party in pair]
        await each("numbers scripted", [party for _, party in parties], concurrency, script)
        await each("addresses confirmed", parties, concurrency, confirm)
        # One document, uploaded once before the clock starts: the bench measures delivery, not uploads.
        return str((await upload_document(client, stack.url("intake"), headers=COURT))["sha256"])


async def submit(stack: Stack, built: list[tuple[dict[str, Any], list[Party]]], concurrency: int, *, sha256: str) -> dict[str, float]:
    """Submits the notices, each served with the uploaded document `sha256`; returns each notice id with the wall-clock time its POST was sent."""
    limits = httpx.Limits(max_connections=concurrency, keepalive_expiry=KEEPALIVE_S)
    async with httpx.AsyncClient(base_url=stack.url("intake"), headers=COURT, timeout=120, limits=limits) as client:

        async def post(item: tuple[dict[str, Any], list[Party]]) -> tuple[str, float]:
            started = time.time()
            response = await client.post("/v1/notices", json=with_documents(item[0], sha256))
            if response.status_code != 201:
                raise SystemExit(f"\nnotice refused: {response.status_code} {response.text}")
            return response.json()["id"], started

        return dict(await each("submitted", built, concurrency, post))


class Outcomes:
    """Follows delivery's topic and notes the wall-clock time each recipient's outcome arrived."""

    def __init__(self, prefix: str) -> None:
        self.consumer = AIOKafkaConsumer(
            TopicNames(prefix).physical(DELIVERY_EVENTS), bootstrap_servers=KAFKA, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False
        )
        self.served: dict[tuple[str, str], float] = {}
        self.unserved: list[tuple[str, str]] = []
        self.sizes: list[int] = []

    async def start(self) -> None:
        """Starts reading the topic from its beginning."""
        await self.consumer.start()

    async def wait(self, expected: int, timeout: float) -> None:
        """Reads until `expected` recipients have an outcome; fails with a count when the deadline passes."""
        deadline = time.monotonic() + timeout
        try:
            while len(self.served) + len(self.unserved) < expected:
                if time.monotonic() > deadline:
                    raise SystemExit(f"\nonly {len(self.served)} of {expected} recipients served after {timeout:.0f} s")
                for records in (await self.consumer.getmany(timeout_ms=200, max_records=1000)).values():
                    arrived = time.time()
                    for record in records:
                        self.note(Envelope.from_bytes(record.value), len(record.value), arrived)
                progress("recipients served", len(self.served), expected)
        finally:
            await self.consumer.stop()

    def note(self, envelope: Envelope, size: int, arrived: float) -> None:
        """Records one outcome event."""
        if envelope.type not in OUTCOMES:
            return
        key = (envelope.data["notice_id"], envelope.data["recipient_id"])
        if envelope.type == "delivery.RecipientServed":
            self.served.setdefault(key, arrived)
            self.sizes.append(size)
        else:
            self.unserved.append(key)


async def measure(
    args: argparse.Namespace, run: str, prefix: str, workdir: Path
) -> tuple[list[Figures], int, dict[str, float], dict[str, float], dict[str, float], list[tuple[str, str]]]:
    """Runs the services and the simulator and measures delivery; returns figures, event size, CPU ms per notice by process and by server, the work per notice, the unserved."""
    urls = await make_databases(run)
    env = {
        **stack_env(kafka=KAFKA, prefix=prefix),
        "SONGDA_LOG_LEVEL": "WARNING",
        "SONGDA_CLOCK": "scaled",
        "SONGDA_CLOCK_EPOCH": EPOCH,
        "SONGDA_CLOCK_ANCHOR": datetime.now(UTC).isoformat(),
        "SONGDA_TIME_SCALE": str(SCALE),
        "TWILIO_SIM_SEED": "1",
        **{f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()},
    }
    # Free ports: several runs (or a run beside the tests) may share the machine.
    ports = {name: free_port() for name in [*SERVICES, "twilio_sim"]}
    stack = Stack(env=env, ports=ports, log_dir=workdir / "log", run_dir=workdir / "run", replicas={"delivery": args.delivery_replicas})
    built = notices(args.notices, run)
    outcomes = Outcomes(prefix)
    transactions_before = 0
    stack.start()
    try:
        stack.wait_healthy()
        sha256 = await prepare(stack, built, args.concurrency)
        await outcomes.start()
        # Counted from here; a backend reports its transactions about a second after it goes idle, so the count may include the preparation's last second.
        messages_before, transactions_before = await messages_on(prefix), await transactions(urls, settle_s=0)
        cpu_before = stack_cpu(stack)
        began = time.time()
        with logs_on_failure(stack), profiled(stack.processes, args.profile), ServerCpu([url.rsplit("/", 1)[1] for url in urls.values()]) as servers:
            sent = await submit(stack, built, args.concurrency, sha256=sha256)
            await outcomes.wait(2 * args.notices, timeout=args.timeout)
        cpu = cpu_per_service(stack, cpu_before, args.notices)
        messages = await messages_on(prefix) - messages_before
    finally:
        stack.stop()
        # Read once the stopped services' backends have reported theirs: it includes the little they did between the last outcome and the stop.
        committed = await transactions(urls) - transactions_before
        await drop_databases(urls)
    per_notice: dict[str, float] = {}
    for (notice_id, _), at in outcomes.served.items():
        per_notice[notice_id] = max(per_notice.get(notice_id, 0.0), at)
    both = [(per_notice[nid] - sent[nid]) * 1000 for nid in sent if nid in per_notice]
    each_recipient = [(at - sent[nid]) * 1000 for (nid, _), at in outcomes.served.items()]
    seconds = max(outcomes.served.values()) - began
    rows = [
        figures("notice (submit → both served)", both, seconds),
        figures("recipient (submit → RecipientServed)", each_recipient, seconds),
    ]
    size = round(sum(outcomes.sizes) / max(len(outcomes.sizes), 1))
    work = {"kafka_messages": messages / args.notices, "postgres_transactions": committed / args.notices, "http_requests": HTTP_REQUESTS}
    return rows, size, cpu, servers.per(args.notices), work, outcomes.unserved


def report(rows: list[Figures], args: argparse.Namespace, size: int, cpu: dict[str, float], servers: dict[str, float], work: dict[str, float], unserved: int) -> str:
    """Formats the figures as a table."""
    low, high = (s / SCALE * 1000 for s in SIM_DELIVERY_SECONDS)
    lines = [
        "",
        f"Songda delivery benchmark: {args.notices} notices × 2 recipients, SMS through the Twilio simulator, {args.concurrency} concurrent submitters, delivery ×{args.delivery_replicas}, event ≈ {size} B",
        f"  the simulator reports `delivered` {low:.0f}–{high:.0f} ms (wall) after a send (clock ×{SCALE}); {unserved} recipients unserved",
        f"  {'path':<38} {'per second':>12} {'p50 ms':>9} {'p99 ms':>9} {'seconds':>9}",
    ]
    for row in rows:
        lines.append(f"  {row.name:<38} {row.per_second:>12,.1f} {row.p50_ms:>9.1f} {row.p99_ms:>9.1f} {row.seconds:>9.2f}")
    lines.append(f"  delivery / raw aiokafka throughput: {rows[0].per_second / rows[2].per_second:.3f}")
    lines.append("  process CPU per notice (ms): " + ", ".join(f"{name} {ms:.1f}" for name, ms in cpu.items()))
    lines.append(f"  whole system (the services' sum) CPU per notice: {sum(ms for name, ms in cpu.items() if name in SERVICES):.1f} ms")
    lines.append("  server CPU per notice (ms): " + ", ".join(f"{name} {ms:.1f}" for name, ms in servers.items()) + " (postgres: this run's backends; kafka: the whole broker)")
    lines.append(
        f"  work per notice: {work['kafka_messages']:.1f} Kafka messages produced, {work['postgres_transactions']:.1f} PostgreSQL transactions (every service's), "
        f"{work['http_requests']:.0f} HTTP requests (a submit; for each recipient an SMS sent and its three status callbacks)"
    )
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    run = uuid.uuid4().hex[:8]
    prefix, floor_prefix = f"bench{run}.", f"floor{run}."
    await create_topics(KAFKA, prefix=prefix)
    await create_topics(KAFKA, prefix=floor_prefix)
    try:
        with tempfile.TemporaryDirectory(prefix="songda-bench-") as tmp:
            rows, size, cpu, servers, work, unserved = await measure(args, run, prefix, Path(tmp))
        rows.append(await kafka_floor(KAFKA, args.notices, size, floor_prefix))
        rows.append(await sql_floor(args.notices, size, args.concurrency))
        rows.append(await http_floor(HTTP_REQUESTS * args.notices, args.concurrency))
    finally:
        await delete_topics(KAFKA, prefix)
        await delete_topics(KAFKA, floor_prefix)
    alone = work_alone(work, {"kafka_messages": rows[2], "postgres_transactions": rows[3], "http_requests": rows[4]}, kafka=rows[2])
    print(report(rows, args, size, cpu, servers, work, len(unserved)))
    print(work_alone_line(alone, unit="notice"))
    system = sum(ms for name, ms in cpu.items() if name in SERVICES)
    save(
        "delivery",
        args,
        rows,
        event_bytes=size,
        cpu_ms_per_notice=cpu,
        cpu_ms_per_notice_system=system,
        cpu_ms_per_notice_servers=servers,
        work_per_notice=work,
        work_alone=alone,
        unserved=len(unserved),
    )
    if unserved:
        raise SystemExit(f"{len(unserved)} recipients were not served by SMS; see the services' logs")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--notices", type=int, default=500, help="notices to submit, two recipients each (default 500)")
    parser.add_argument("-c", "--concurrency", type=int, default=32, help="concurrent HTTP clients (default 32)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for every recipient to be served")
    parser.add_argument("--delivery-replicas", type=int, default=1, help="delivery processes sharing its port (default 1)")
    parser.add_argument("--profile", type=Path, help="sample every process with py-spy into this directory")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
