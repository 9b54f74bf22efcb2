"""Delivery's steps benchmark: CPU per notice of consuming, dispatching and applying the final callback, in one process.

The end-to-end benches run eight processes on two cores, and their figures move ±20% between runs: too much to see a
change to one step of delivery. Here delivery's handlers run in this process against a fresh PostgreSQL database, with
the fake telephony (no HTTP, no Kafka), as the consumer runner, the dispatcher and the webhook route call them: N
registered notices of one recipient consenting to SMS are consumed in batches of 50 in one transaction each, their
messages dispatched 20 at a time, and each message's `delivered` callback applied, which serves the recipient and
completes the notice. The figures are this process's CPU time per notice for each step (PostgreSQL's beside them), next
to the floor measured in the same run: one transaction of one statement on the same pool, through SQLAlchemy and
through asyncpg alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import literal_column
from sqlalchemy import select as select_rows
from sqlmodel import select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.measure import ServerCpu, save  # noqa: E402
from services.delivery import consumers  # noqa: E402 — the repo root must be importable first
from services.delivery.adapters.mail import FakeMailer  # noqa: E402
from services.delivery.adapters.twilio import FakeTelephony  # noqa: E402
from services.delivery.deps import DeliveryDeps  # noqa: E402
from services.delivery.handlers import roster, sending  # noqa: E402
from services.delivery.models import TABLES, DeliveryOutgoing  # noqa: E402
from services.delivery.policy import load_policy  # noqa: E402
from services.delivery.workers import Dispatcher  # noqa: E402
from services.delivery.workflow import Setup  # noqa: E402
from shared.contracts.events import EDeliveryChannel, NoticeRegistered  # noqa: E402
from shared.plumbing import heap  # noqa: E402
from shared.plumbing.consumer import BatchWork, MessageContext  # noqa: E402
from shared.plumbing.db import Database, core_rows, create_tables  # noqa: E402
from shared.plumbing.documents import DocumentStore  # noqa: E402
from shared.plumbing.runtime import PLUMBING_TABLES  # noqa: E402
from tests.support import MOBILE, POSTGRES, registered_notice  # noqa: E402

# Monday 23 November 2026, 09:00 in Beijing: SMS goes out within working hours.
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
BATCH = 50


class FixedClock:
    """The clock of the run: one working-day morning."""

    def now(self) -> datetime:
        return START

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def cpu() -> float:
    """Returns this process's CPU seconds, user and system."""
    times = os.times()
    return times.user + times.system


async def consume(deps: DeliveryDeps, events: list[NoticeRegistered]) -> None:
    """Hands the events to their handler in one transaction, each as its own message, as the consumer runner applies a batch."""
    async with deps.db.transaction() as session:
        batch = BatchWork()
        for event in events:
            envelope = event.envelope(source="bench", subject=event.notice_id, time=START, correlationid=event.notice_id)
            message = MessageContext(session=session, envelope=envelope, raw=b"", clock=deps.clock, source="bench", batch=batch)
            await consumers.HANDLERS[event.type](deps, message=message, event=event)
        await batch.flush(session)


async def delivered(deps: DeliveryDeps) -> int:
    """Applies a `delivered` callback to every message sent; returns how many changed a recipient's delivery."""
    async with deps.db.sessions() as session:
        sent = (await session.exec(select(DeliveryOutgoing.attempt_id, DeliveryOutgoing.provider_ref))).all()
    changed = 0
    for attempt_id, sid in sent:
        params = {"MessageSid": sid or "", "MessageStatus": "delivered", "To": MOBILE}
        changed += bool(await sending.apply_callback(deps, attempt_id=attempt_id, params=params, sid=params["MessageSid"], status="delivered"))
    return changed


async def floor(db: Database, url: str, count: int) -> dict[str, float]:
    """Returns the CPU ms of one transaction of one statement, through SQLAlchemy's session and through asyncpg alone."""

    async def session_tx() -> None:
        async with db.transaction() as session:
            await core_rows(session, select_rows(literal_column("1")))

    connection = await asyncpg.connect(url)

    async def raw_tx() -> None:
        async with connection.transaction():
            await connection.fetchval("SELECT 1")

    try:
        return {"sqlalchemy": await _ms_each(session_tx, count), "asyncpg": await _ms_each(raw_tx, count)}
    finally:
        await connection.close()


async def _ms_each(step: Callable[[], Awaitable[None]], count: int) -> float:
    began = cpu()
    for _ in range(count):
        await step()
    return (cpu() - began) * 1000 / count


async def steps(args: argparse.Namespace, url: str, workdir: Path) -> dict[str, Any]:
    """Runs the three steps over N notices; returns CPU ms per notice of each, this process's and PostgreSQL's."""
    db = Database(url)
    await create_tables(db.engine, [*PLUMBING_TABLES, *TABLES])
    setup = Setup(policy=load_policy(), public_url="http://delivery.bench")
    deps = DeliveryDeps(
        db=db,
        clock=FixedClock(),
        setup=setup,
        telephony=FakeTelephony(),
        mailer=FakeMailer(),
        sender_address="法院送达中心 <songda@court.example>",
        twilio_auth_token="bench",
        documents=DocumentStore(workdir / "documents"),
    )
    try:
        await roster.seed_agents(deps, agents=setup.policy.agents)
        events = [registered_notice(consent=[(EDeliveryChannel.sms, MOBILE)], registered_at=START) for _ in range(args.notices + BATCH)]
        # One batch through every step first: statements prepared, caches filled, the pool's connections open.
        await consume(deps, events[:BATCH])
        dispatcher = Dispatcher(deps, batch=20)
        while await dispatcher.run_once():
            pass
        await delivered(deps)
        floors = await floor(db, url, args.notices)
        heap.settle()
        spent: dict[str, dict[str, float]] = {}
        for name, step in (("consume", lambda: _batches(deps, events[BATCH:])), ("dispatch", lambda: _drain(dispatcher)), ("callback", lambda: delivered(deps))):
            began, wall = cpu(), time.perf_counter()
            with ServerCpu([url.rsplit("/", 1)[1]]) as servers:
                await step()
            spent[name] = {
                "bench": (cpu() - began) * 1000 / args.notices,
                "postgres": servers.per(args.notices)["postgres"],
                "wall": (time.perf_counter() - wall) * 1000 / args.notices,
            }
        return {"cpu_ms_per_notice": spent, "floor_cpu_ms_per_transaction": floors}
    finally:
        await db.dispose()


async def _batches(deps: DeliveryDeps, events: list[NoticeRegistered]) -> None:
    for start in range(0, len(events), BATCH):
        await consume(deps, events[start : start + BATCH])


async def _drain(dispatcher: Dispatcher) -> None:
    while await dispatcher.run_once():
        pass


async def main(args: argparse.Namespace) -> None:
    database = f"bench_{uuid.uuid4().hex[:8]}_steps"
    admin = await asyncpg.connect(POSTGRES)
    await admin.execute(f'CREATE DATABASE "{database}"')
    url = POSTGRES.rsplit("/", 1)[0] + f"/{database}"
    try:
        with tempfile.TemporaryDirectory(prefix="songda-bench-") as tmp:
            measured = await steps(args, url, Path(tmp))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
    floors = measured["floor_cpu_ms_per_transaction"]
    print(f"Songda delivery steps benchmark: {args.notices} notices of one recipient consenting to SMS, fake telephony, PostgreSQL")
    print(f"  {'step':<48} {'CPU ms/notice':>14} {'postgres ms':>12} {'wall ms':>8}")
    for name, label in (
        ("consume", "consume NoticeRegistered (batches of 50)"),
        ("dispatch", "dispatch the SMS and apply the answer"),
        ("callback", "apply the delivered callback (serves, completes)"),
    ):
        figure = measured["cpu_ms_per_notice"][name]
        print(f"  {label:<48} {figure['bench']:>14.3f} {figure['postgres']:>12.3f} {figure['wall']:>8.3f}")
    print(f"  floor: one transaction of one statement {floors['sqlalchemy']:.3f} ms CPU through SQLAlchemy's session, {floors['asyncpg']:.3f} ms through asyncpg alone")
    save("delivery_steps", args, [], **measured)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--notices", type=int, default=1000, help="notices through each step (default 1000)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
