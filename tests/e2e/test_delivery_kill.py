"""Delivery killed with SIGKILL while it sends SMS: after a restart, or by the replica left, every recipient is served, and nobody gets a second message."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

from services.delivery.policy import DEFAULT_FILE
from shared.contracts.envelope import Envelope
from shared.contracts.topics import DELIVERY_EVENTS
from shared.plumbing.auth import Role
from shared.plumbing.clock import ScaledClock
from shared.plumbing.db import Database
from songda.devstack import Stack
from tests.support import eventually, read_topic, real_seconds, submit_with_consent, token

RECIPIENTS = 60
KILL_AFTER_SENT = 15
SUPERVISOR = token(Role.supervisor, "sup-1")
# Every recipient must be served by its SMS, so no message's arrival wait may end first: the shipped one working hour is
# a minute of real time at scale 60, which a restart on a loaded machine can use up. This stack waits ten real minutes
# at any scale, counted in working hours as the policy counts them.
ARRIVAL_WAIT = "arrival_wait_hours = 1.0"
ARRIVAL_WAIT_REAL_S = 600
# A message whose callback was lost while delivery was down is fetched from Twilio ten domain minutes after it went out.
STATUS_CHECK_AFTER = timedelta(minutes=10)


def patient_policy(directory: Path, clock: ScaledClock) -> Path:
    """Writes the shipped delivery policy with an arrival wait of ARRIVAL_WAIT_REAL_S real seconds on `clock`; returns its path."""
    shipped = DEFAULT_FILE.read_text()
    assert ARRIVAL_WAIT in shipped, f"{DEFAULT_FILE} no longer says {ARRIVAL_WAIT!r}"
    path = directory / "policy.toml"
    path.write_text(shipped.replace(ARRIVAL_WAIT, f"arrival_wait_hours = {ARRIVAL_WAIT_REAL_S * clock.scale / 3600}"))
    return path


async def served(client: httpx.AsyncClient, stack: Stack, notice_ids: list[str]) -> int:
    """Counts the notices whose recipient delivery shows as served."""
    count = 0
    for notice_id in notice_ids:
        response = await client.get(f"{stack.url('delivery')}/v1/notices/{notice_id}/delivery", headers=SUPERVISOR)
        count += response.status_code == 200 and response.json()["recipients"][0]["status"] == "served"
    return count


async def test_sigkill_mid_sending_loses_and_doubles_nothing(kafka, topic_prefix, make_database, service_stack, domain_clock: ScaledClock, tmp_path: Path) -> None:
    policy = {"DELIVERY_POLICY_FILE": str(patient_policy(tmp_path, domain_clock))}
    stack = await service_stack(kafka=kafka, prefix=topic_prefix, make_database=make_database, extra_env={**domain_clock.environment(), **policy})
    phones = [f"+86139{index:08d}" for index in range(RECIPIENTS)]
    async with httpx.AsyncClient(timeout=30) as client:
        submitted = await _sending(client, stack, phones)
        stack.kill("delivery")
        sent_before_kill = len(await _messages(client, stack))
        served_before_kill = await _served_in_db(stack)
        assert sent_before_kill < RECIPIENTS, "the kill came after every message was sent: it proved nothing"

        stack.start_one("delivery")
        stack.wait_healthy()
        everyone = 120 + real_seconds(domain_clock, STATUS_CHECK_AFTER)
        notice_ids = [notice_id for notice_id, _ in submitted]
        await eventually(lambda: _all(served(client, stack, notice_ids)), timeout=everyone, interval=0.5, what="every recipient served after the restart")
        await _each_messaged_and_served_once(client, stack, kafka, topic_prefix, phones, submitted)
    assert served_before_kill < RECIPIENTS


async def test_one_of_two_replicas_killed_mid_sending_the_other_serves_everyone_once(
    kafka, topic_prefix, make_database, service_stack, domain_clock: ScaledClock, tmp_path: Path
) -> None:
    policy = {"DELIVERY_POLICY_FILE": str(patient_policy(tmp_path, domain_clock))}
    stack = await service_stack(kafka=kafka, prefix=topic_prefix, make_database=make_database, extra_env={**domain_clock.environment(), **policy}, replicas={"delivery": 2})
    phones = [f"+86138{index:08d}" for index in range(RECIPIENTS)]
    async with httpx.AsyncClient(timeout=30) as client:
        # Both replicas answer on their own ports, each a member of delivery's consumer group with partitions of its own.
        for name in stack.names_of("delivery"):
            health = (await client.get(f"{stack.own_url(name)}/healthz", headers=stack.overseer_headers())).json()
            assert health["kafka"]["consumer"] == "assigned", (name, health)
        submitted = await _sending(client, stack, phones)
        stack.kill("delivery.2")
        assert len(await _messages(client, stack)) < RECIPIENTS, "the kill came after every message was sent: it proved nothing"

        # The survivor takes over the dead replica's partitions once its session lapses, and its messages once its locks go.
        everyone = 120 + real_seconds(domain_clock, STATUS_CHECK_AFTER)
        notice_ids = [notice_id for notice_id, _ in submitted]
        await eventually(lambda: _all(served(client, stack, notice_ids)), timeout=everyone, interval=0.5, what="every recipient served by the replica left")
        await _each_messaged_and_served_once(client, stack, kafka, topic_prefix, phones, submitted)
    assert await _in_doubt(stack) == 0


async def _sending(client: httpx.AsyncClient, stack: Stack, phones: list[str]) -> list[tuple[str, str]]:
    """Scripts every number `delivered`, submits a notice to each; returns (notice id, recipient id) pairs once KILL_AFTER_SENT messages went out."""
    for phone in phones:
        assert (await client.post(f"{stack.url('twilio_sim')}/sim/script", json={"number": phone, "sms": {"outcome": "delivered"}})).status_code in (200, 201)
    submitted = await asyncio.gather(*(submit_with_consent(client, stack.url("intake"), phone=p, consent=True) for p in phones))
    await eventually(lambda: _at_least(lambda: _messages(client, stack), KILL_AFTER_SENT), timeout=60, what=f"{KILL_AFTER_SENT} messages at the simulator")
    return list(submitted)


async def _messages(client: httpx.AsyncClient, stack: Stack) -> list[dict]:
    return (await client.get(f"{stack.url('twilio_sim')}/sim/messages")).json()["messages"]


async def _each_messaged_and_served_once(client: httpx.AsyncClient, stack: Stack, kafka: str, topic_prefix: str, phones: list[str], submitted: list[tuple[str, str]]) -> None:
    per_number = Counter(message["to"] for message in await _messages(client, stack))
    assert per_number == Counter(phones), f"numbers messaged more than once: {[n for n, c in per_number.items() if c > 1]}"
    records = await read_topic(kafka, topic_prefix + DELIVERY_EVENTS, expect=RECIPIENTS, settle=2.0)
    outcomes = [Envelope.from_bytes(r.value) for r in records]
    # The relay may publish one envelope twice after a kill (consumers drop the repeat by its id); serving twice would be a second id.
    services = {e.id: e.data["recipient_id"] for e in outcomes if e.type == "delivery.RecipientServed"}
    assert Counter(services.values()) == Counter(recipient_id for _, recipient_id in submitted)


async def _at_least(read, count: int) -> bool:
    return len(await read()) >= count


async def _all(count) -> bool:
    return await count == RECIPIENTS


async def _served_in_db(stack: Stack) -> int:
    return await _count(stack, "SELECT count(*) FROM delivery_recipient WHERE status = 'served'")


async def _in_doubt(stack: Stack) -> int:
    return await _count(stack, "SELECT count(*) FROM delivery_outgoing WHERE status = 'in_doubt'")


async def _count(stack: Stack, query: str) -> int:
    db = Database(stack.env["DELIVERY_DATABASE_URL"])
    try:
        async with db.sessions() as session:
            return int(await session.scalar(text(query)))
    finally:
        await db.dispose()
