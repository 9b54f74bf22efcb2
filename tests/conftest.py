"""Fixtures for the real infrastructure: Kafka and PostgreSQL must be running, or the test fails saying so."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from shared.contracts.topics import ALL_TOPICS, TopicNames, create_topics
from shared.plumbing import supervisor
from tests.support import KAFKA, POSTGRES, pg_url

HOW_TO_START = "`make test` starts it; to run pytest by hand, start it with `bash deploy/{}/start.sh`"


@pytest.fixture(autouse=True)
def background_tasks_must_not_die(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fails the test, naming the task and its error, when a service running inside pytest loses a background task."""
    # In production a dead task stops the process (supervisor.terminate_process); here that signal would stop pytest itself.
    died: list[str] = []
    monkeypatch.setattr(supervisor, "terminate_process", lambda name, exc: died.append(f"{name}: {type(exc).__name__}: {exc}"))
    yield
    assert not died, f"a service's background task died: {died}"


@pytest.fixture(scope="session")
async def kafka() -> str:
    """Returns the bootstrap address of a reachable Kafka broker, or fails the test."""
    host, _, port = KAFKA.rpartition(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout=3)
        writer.close()
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA, request_timeout_ms=5000)
        await asyncio.wait_for(admin.start(), timeout=10)
        await admin.close()
    except (OSError, TimeoutError, Exception) as exc:  # noqa: BLE001 — every cause ends in the same clear failure
        pytest.fail(f"Kafka is not reachable at {KAFKA} ({type(exc).__name__}: {exc}). {HOW_TO_START.format('kafka')}.", pytrace=False)
    return KAFKA


@pytest.fixture(scope="session")
async def postgres() -> str:
    """Returns the admin URL of a reachable PostgreSQL server, or fails the test."""
    try:
        connection = await asyncio.wait_for(asyncpg.connect(POSTGRES), timeout=5)
        await connection.close()
    except (OSError, TimeoutError, Exception) as exc:  # noqa: BLE001 — every cause ends in the same clear failure
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES} ({type(exc).__name__}: {exc}). {HOW_TO_START.format('postgres')}.", pytrace=False)
    return POSTGRES


@pytest.fixture
async def topic_prefix(kafka: str) -> AsyncIterator[str]:
    """Creates a private set of Songda topics for one test and deletes them afterwards."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await create_topics(kafka, prefix=prefix)
    yield prefix
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        await admin.delete_topics([TopicNames(prefix).physical(t) for t in ALL_TOPICS])
    finally:
        await admin.close()


@pytest.fixture
async def make_database(postgres: str) -> AsyncIterator[Callable[[str], Awaitable[str]]]:
    """Creates throw-away PostgreSQL databases for one test; returns their SQLAlchemy URLs."""
    created: list[str] = []

    async def make(label: str) -> str:
        name = f"t_{uuid.uuid4().hex[:10]}_{label}"
        connection = await asyncpg.connect(postgres)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        created.append(name)
        return pg_url(name)

    yield make
    connection = await asyncpg.connect(postgres)
    try:
        for name in created:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
