"""A stream of 1,000 notices survives the broker stopping for ten seconds: each arrives exactly once."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text

from shared.contracts.topics import INTAKE_EVENTS, dlq
from shared.plumbing.auth import Role
from shared.plumbing.db import Database
from tests.support import eventually, notice_payload, read_topic, token, upload_examples

NOTICES = 1000
OUTAGE_AT = 300
OUTAGE_SECONDS = 10
# Notices intake must accept while the broker is down; a slow machine's outage lasts until it has.
DURING_OUTAGE = 100
# After the broker goes down the rest of the stream is paced to span the outage and the restart.
PACED_PER_SECOND = 50
WORKERS = 8
COURT = token(Role.court, "C371002")


async def scalar(db: Database, sql: str) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(text(sql)))


REGISTRATIONS = "SELECT count(*) FROM evidence_timeline_entry WHERE event_type = 'intake.NoticeRegistered'"


async def test_broker_restart_mid_stream_loses_and_doubles_nothing(broker, make_database, service_stack) -> None:
    stack = await service_stack(kafka=broker.bootstrap, prefix="", make_database=make_database)
    dbs = {name: Database(stack.env[f"{name.upper()}_DATABASE_URL"]) for name in ("intake", "delivery", "evidence")}
    accepted: list[str] = []
    outage_started = asyncio.Event()
    broker_down = asyncio.Event()
    during_outage: dict[str, int] = {}

    async def submit(client: httpx.AsyncClient, queue: asyncio.Queue[int]) -> None:
        while not queue.empty():
            index = queue.get_nowait()
            if index >= OUTAGE_AT:
                await broker_down.wait()
                await asyncio.sleep(WORKERS / PACED_PER_SECOND)
            response = await client.post("/v1/notices", json=notice_payload(index, seed=7), headers=COURT)
            assert response.status_code == 201, response.text
            accepted.append(response.json()["id"])
            if len(accepted) == OUTAGE_AT:
                outage_started.set()

    async def outage() -> None:
        await outage_started.wait()
        await asyncio.to_thread(broker.stop)
        broker_down.set()
        down_at = len(accepted)
        # The broker stays down for a fixed spell while notices keep arriving; this is the fault, not a wait.
        await asyncio.sleep(OUTAGE_SECONDS)
        # However slowly the machine takes them, the outage spans DURING_OUTAGE accepted notices before it ends.
        await eventually(lambda: _true(len(accepted) - down_at >= DURING_OUTAGE), timeout=120, what=f"intake to accept {DURING_OUTAGE} notices while the broker is down")
        during_outage["accepted"] = len(accepted) - down_at
        during_outage["unpublished"] = await scalar(dbs["intake"], "SELECT count(*) FROM outbox_message WHERE published_at IS NULL")
        await asyncio.to_thread(broker.start)

    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(NOTICES):
        queue.put_nowait(index)
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=60) as client:
        # notice_payload builds on the example notice, whose documents the court uploads first.
        await upload_examples(client, "", headers=COURT)
        await asyncio.gather(outage(), *(submit(client, queue) for _ in range(WORKERS)))

    async def everything_arrived() -> bool:
        return await scalar(dbs["delivery"], "SELECT count(*) FROM delivery_notice") >= NOTICES and await scalar(dbs["evidence"], REGISTRATIONS) >= NOTICES

    await eventually(everything_arrived, timeout=240, interval=0.5, what="all notices in delivery and evidence after the restart")
    assert len(set(accepted)) == NOTICES
    assert during_outage["accepted"] >= DURING_OUTAGE, "intake kept accepting notices while the broker was down"
    assert during_outage["unpublished"] > 0, "the outbox held notices back until the broker returned"
    assert await scalar(dbs["intake"], "SELECT count(*) FROM intake_notice") == NOTICES
    assert await scalar(dbs["intake"], "SELECT count(*) FROM outbox_message WHERE published_at IS NULL") == 0
    assert await scalar(dbs["delivery"], "SELECT count(*) FROM delivery_notice") == NOTICES
    assert await scalar(dbs["delivery"], "SELECT count(*) FROM delivery_recipient") == NOTICES
    assert await scalar(dbs["evidence"], REGISTRATIONS) == NOTICES
    assert await scalar(dbs["evidence"], REGISTRATIONS.replace("count(*)", "count(DISTINCT event_id)")) == NOTICES
    assert await scalar(dbs["evidence"], "SELECT count(DISTINCT notice_id) FROM evidence_timeline_entry") == NOTICES
    # Delivery's own events (its first attempt for every recipient) reach evidence too, each once.
    assert await scalar(dbs["evidence"], "SELECT count(*) - count(DISTINCT event_id) FROM evidence_timeline_entry") == 0
    assert await read_topic(broker.bootstrap, dlq(INTAKE_EVENTS), expect=0, settle=1.0) == []
    for db in dbs.values():
        await db.dispose()


async def _true(value: bool) -> bool:
    return value
