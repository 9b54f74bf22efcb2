"""Two intake replicas on one database: a notice sent to both at once is registered once, and with one killed mid-batch every notice reaches delivery once."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import httpx
from sqlalchemy import text

from shared.contracts.envelope import Envelope
from shared.contracts.events import NoticeRegistered
from shared.contracts.topics import INTAKE_EVENTS
from shared.plumbing.auth import Role
from shared.plumbing.db import Database
from songda.devstack import Stack
from tests.support import eventually, notice_payload, read_topic, token, upload_examples

COURT = token(Role.court, "C371002")
TWINS = 20
NOTICES = 600
BATCH = 25
# The second replica dies once this many notices are registered, while batches to it are still on their way.
KILL_AT = 150


async def test_the_same_notice_sent_to_both_replicas_at_once_is_registered_once(kafka, topic_prefix, make_database, service_stack) -> None:
    stack = await service_stack(kafka=kafka, prefix=topic_prefix, make_database=make_database, replicas={"intake": 2})
    replicas = [stack.own_url(name) for name in stack.names_of("intake")]
    async with httpx.AsyncClient(timeout=60, headers=COURT) as client:
        await upload_examples(client, stack.url("intake"), headers=COURT)
        ids = []
        for index in range(TWINS):
            payload = notice_payload(index, seed=1)
            answers = await asyncio.gather(*(client.post(f"{url}/v1/notices", json=payload) for url in replicas))
            # The first to commit creates it; the other finds it by the court's reference, whichever replica loses the race.
            assert sorted(a.status_code for a in answers) == [200, 201], [a.text for a in answers]
            assert answers[0].json()["id"] == answers[1].json()["id"]
            ids.append(answers[0].json()["id"])
    assert await _registrations(kafka, topic_prefix, expect=TWINS) == {notice_id: 1 for notice_id in ids}


async def test_one_of_two_replicas_killed_mid_batch_every_notice_reaches_delivery_once(kafka, topic_prefix, make_database, service_stack) -> None:
    stack = await service_stack(kafka=kafka, prefix=topic_prefix, make_database=make_database, replicas={"intake": 2})
    survivor, doomed = stack.names_of("intake")
    async with httpx.AsyncClient(timeout=60, headers=COURT) as client:
        await upload_examples(client, stack.url("intake"), headers=COURT)
        batches = [[notice_payload(index, seed=2) for index in range(start, start + BATCH)] for start in range(0, NOTICES, BATCH)]
        sent = [asyncio.create_task(_register(client, stack, notices, first=(survivor, doomed)[number % 2], then=survivor)) for number, notices in enumerate(batches)]
        await eventually(lambda: _at_least(stack, KILL_AT), timeout=120, what=f"{KILL_AT} notices registered")
        await asyncio.to_thread(stack.kill, doomed)
        assert await _count(stack, "INTAKE", "SELECT count(*) FROM intake_notice") < NOTICES, "the kill came after every notice was registered: it proved nothing"
        answers = await asyncio.gather(*sent)
    assert any(retried for _, retried in answers), "the kill cut no batch short: it proved nothing"
    ids = [notice_id for batch, _ in answers for notice_id in batch]
    assert len(set(ids)) == NOTICES
    await eventually(lambda: _delivery_has(stack, NOTICES), timeout=120, what=f"all {NOTICES} notices in delivery")
    # The dead replica's relay may have published some before marking them (consumers drop a repeat by its id); a second registration would be a second id.
    assert await _registrations(kafka, topic_prefix, expect=NOTICES) == {notice_id: 1 for notice_id in ids}


async def _register(client: httpx.AsyncClient, stack: Stack, notices: list[dict[str, Any]], *, first: str, then: str) -> tuple[list[str], bool]:
    """Submits a batch to replica `first`, and again to `then` as a court's retry would if `first` is gone; returns the notices' ids in order and whether it was retried."""
    retried = False
    try:
        response = await client.post(f"{stack.own_url(first)}/v1/notices/batch", json={"notices": notices})
    except httpx.TransportError:
        retried = True
        response = await client.post(f"{stack.own_url(then)}/v1/notices/batch", json={"notices": notices})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert all(result["status"] in (200, 201) for result in results), results
    return [result["id"] for result in results], retried


async def _registrations(kafka: str, prefix: str, *, expect: int) -> dict[str, int]:
    """Counts the distinct NoticeRegistered envelopes on intake's topic by notice."""
    records = await read_topic(kafka, prefix + INTAKE_EVENTS, expect=expect, timeout=60, settle=2.0)
    envelopes: dict[str, set[str]] = defaultdict(set)
    for record in records:
        envelope = Envelope.from_bytes(record.value)
        if envelope.type == NoticeRegistered.type:
            envelopes[envelope.subject].add(str(envelope.id))
    return {notice_id: len(ids) for notice_id, ids in envelopes.items()}


async def _at_least(stack: Stack, count: int) -> bool:
    return await _count(stack, "INTAKE", "SELECT count(*) FROM intake_notice") >= count


async def _delivery_has(stack: Stack, count: int) -> bool:
    return await _count(stack, "DELIVERY", "SELECT count(*) FROM delivery_notice") >= count


async def _count(stack: Stack, service: str, query: str) -> int:
    db = Database(stack.env[f"{service}_DATABASE_URL"])
    try:
        async with db.sessions() as session:
            return int(await session.scalar(text(query)))
    finally:
        await db.dispose()
