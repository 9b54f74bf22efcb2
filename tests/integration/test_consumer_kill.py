"""A consumer process killed after its database commits and before its offset commits does nothing twice."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer
from sqlmodel import func, select

from services.evidence.models import EvidenceLogEntry, EvidenceTimelineEntry
from shared.contracts.topics import INTAKE_EVENTS
from shared.plumbing.db import Database
from shared.plumbing.inbox import InboxMessage
from songda.devstack import Stack
from tests.integration.test_consumer import registered
from tests.support import committed_offsets, eventually, free_port, stack_env

MESSAGES = 50


async def counts(db: Database) -> tuple[int, int]:
    async with db.sessions() as session:
        entries = await session.scalar(select(func.count()).select_from(EvidenceTimelineEntry))
        applied = await session.scalar(select(func.count()).select_from(InboxMessage))
    return entries, applied


def evidence_stack(tmp_path: Path, *, kafka: str, prefix: str, database_url: str, commit_interval_ms: int, port: int) -> Stack:
    env = {**stack_env(kafka=kafka, prefix=prefix), "EVIDENCE_DATABASE_URL": database_url, "EVIDENCE_COMMIT_INTERVAL_MS": str(commit_interval_ms)}
    return Stack(env=env, ports={"evidence": port}, log_dir=tmp_path / "log", run_dir=tmp_path / "run")


async def test_kill_between_database_commit_and_offset_commit(kafka, topic_prefix, make_database, tmp_path: Path) -> None:
    database_url = await make_database("evidence")
    group = f"{topic_prefix}songda.evidence"
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        for index in range(MESSAGES):
            envelope = registered(index)
            await producer.send_and_wait(topic_prefix + INTAKE_EVENTS, envelope.to_bytes(), key=envelope.subject.encode())
    finally:
        await producer.stop()

    db = Database(database_url)
    port = free_port()
    # An hour between offset commits: the process applies everything and commits no offset before the kill.
    first = evidence_stack(tmp_path, kafka=kafka, prefix=topic_prefix, database_url=database_url, commit_interval_ms=3_600_000, port=port)
    first.start()
    try:
        first.wait_healthy()
        await eventually(lambda: _all_applied(db), timeout=60, what="the first process to apply every message")
        assert await committed_offsets(kafka, group) == 0
        first.kill("evidence", signal.SIGKILL)
    finally:
        first.stop()
    assert await committed_offsets(kafka, group) == 0

    second = evidence_stack(tmp_path, kafka=kafka, prefix=topic_prefix, database_url=database_url, commit_interval_ms=0, port=port)
    second.start()
    try:
        second.wait_healthy()
        await eventually(lambda: _committed(kafka, group), timeout=60, what="the restarted process to commit every offset")
        health = httpx.get(f"{second.url('evidence')}/healthz", headers=second.overseer_headers()).json()
    finally:
        second.stop()
    assert health["consumer"]["duplicates"] == MESSAGES
    assert health["consumer"]["applied"] == 0
    assert await counts(db) == (MESSAGES, MESSAGES)
    # The Merkle log holds each message once, at gapless indices 0…N-1.
    async with db.sessions() as session:
        leaves = (await session.exec(select(EvidenceLogEntry.leaf_index).order_by(EvidenceLogEntry.leaf_index))).all()
    assert list(leaves) == list(range(MESSAGES))
    await db.dispose()


async def _all_applied(db: Database) -> bool:
    return await counts(db) == (MESSAGES, MESSAGES)


async def _committed(kafka: str, group: str) -> bool:
    return await committed_offsets(kafka, group) == MESSAGES
